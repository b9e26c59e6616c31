package chart

import (
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
)

// The inputs are chartdata's; the names here keep callers short.
type (
	Mark          = chartdata.Mark
	Span          = chartdata.Span
	TimelineInput = chartdata.Timeline
)

// Milestone names, in the order an incident reaches them.
const (
	Detected     = chartdata.Detected
	Acknowledged = chartdata.Acknowledged
	Mitigated    = chartdata.Mitigated
	Resolved     = chartdata.Resolved
)

// Each milestone has its own colour, so a reader (and a test) can tell
// them apart without reading labels.
var milestoneColor = map[string]color.RGBA{
	Detected:     rgb(214, 39, 40),  // red
	Acknowledged: rgb(255, 127, 14), // orange
	Mitigated:    rgb(31, 119, 180), // blue
	Resolved:     rgb(44, 160, 44),  // green
}

var milestoneOrder = []string{Detected, Acknowledged, Mitigated, Resolved}

var (
	pageColor     = rgb(148, 103, 189) // purple
	approvalColor = rgb(90, 90, 90)
	bypassColor   = color.RGBA{R: 255, G: 200, B: 200, A: 255}
)

// Rows of the timeline (y values).
const (
	rowBypass = iota
	rowApprovals
	rowPages
	rowMilestones
)

// Timeline draws the incident's milestones as coloured vertical lines,
// pages and approvals as labelled points on their rows, and bypass
// windows as shaded spans, on a UTC time axis.
func Timeline(in TimelineInput) ([]byte, error) {
	pic, err := timeline(in)
	if err != nil {
		return nil, err
	}
	return pic.png()
}

func timeline(in TimelineInput) (picture, error) {
	lo, hi := time.Time{}, time.Time{}
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if hi.IsZero() || t.After(hi) {
			hi = t
		}
	}
	for _, t := range in.Milestones {
		see(t)
	}
	for _, m := range in.Pages {
		see(m.At)
	}
	for _, m := range in.Approvals {
		see(m.At)
	}
	for _, s := range in.Bypass {
		see(s.From)
		see(s.To)
	}
	if lo.IsZero() {
		return picture{}, ErrNoData
	}
	if in.Milestones[Resolved].IsZero() {
		see(in.End)
	}
	// A margin on each side keeps the first and last marks off the axes.
	margin := max(hi.Sub(lo)/20, 30*time.Second)
	lo, hi = lo.Add(-margin), hi.Add(margin)

	p := plot.New()
	p.Title.Text = in.Title
	p.X.Label.Text = "UTC"
	p.X.Min, p.X.Max = unix(lo), unix(hi)
	p.X.Tick.Marker = timeTicks{}
	p.Y.Min, p.Y.Max = -0.5, 3.5
	p.NominalY("bypass", "approvals", "pages", "milestones")
	p.Add(timelinePlotter{in: in, end: hi})
	return drawPlot(p), nil
}

// timelinePlotter draws the whole timeline in one pass (gonum's stock
// plotters would need one per mark and colour).
type timelinePlotter struct {
	in  TimelineInput
	end time.Time
}

func (tp timelinePlotter) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	x := func(t time.Time) vg.Length { return tx(unix(t)) }
	font := p.Y.Tick.Label
	font.XAlign, font.YAlign = draw.XLeft, draw.YBottom
	// Labels in the right half go to the left of their mark, so they
	// are not cut off at the edge.
	dx := func(sty *draw.TextStyle, at vg.Length) vg.Length {
		if at > (c.Min.X+c.Max.X)/2 {
			sty.XAlign = draw.XRight
			return -vg.Points(5)
		}
		return vg.Points(5)
	}
	// Bypass windows under everything else.
	for _, s := range tp.in.Bypass {
		to := s.To
		if to.IsZero() {
			to = tp.end
		}
		c.FillPolygon(bypassColor, []vg.Point{{X: x(s.From), Y: c.Min.Y}, {X: x(to), Y: c.Min.Y}, {X: x(to), Y: c.Max.Y}, {X: x(s.From), Y: c.Max.Y}})
		c.FillText(font, vg.Point{X: x(s.From) + 2, Y: ty(rowBypass)}, s.Label)
	}
	// Milestones: a line across all rows, a dot and a label on their row.
	// Labels alternate above and below the row so neighbours stay legible.
	for i, name := range milestoneOrder {
		at, ok := tp.in.Milestones[name]
		if !ok || at.IsZero() {
			continue
		}
		col := milestoneColor[name]
		c.StrokeLine2(draw.LineStyle{Color: col, Width: vg.Points(2.5)}, x(at), c.Min.Y, x(at), c.Max.Y)
		c.DrawGlyph(draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}, vg.Point{X: x(at), Y: ty(rowMilestones)})
		sty := font
		sty.Color = col
		dy := vg.Points(8)
		if i%2 == 1 {
			dy = -vg.Points(8) - sty.Height(name)
		}
		c.FillText(sty, vg.Point{X: x(at) + dx(&sty, x(at)), Y: ty(rowMilestones) + dy}, fmt.Sprintf("%s %s", name, at.UTC().Format("15:04:05")))
	}
	row := func(marks []Mark, y float64, col color.Color, shape draw.GlyphDrawer) {
		for i, m := range marks {
			c.DrawGlyph(draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: shape}, vg.Point{X: x(m.At), Y: ty(y)})
			sty := font
			dy := vg.Points(7)
			if i%2 == 1 {
				dy = -vg.Points(7) - sty.Height(m.Label)
			}
			c.FillText(sty, vg.Point{X: x(m.At) + dx(&sty, x(m.At)), Y: ty(y) + dy}, m.Label)
		}
	}
	row(tp.in.Pages, rowPages, pageColor, draw.PyramidGlyph{})
	row(tp.in.Approvals, rowApprovals, approvalColor, draw.BoxGlyph{})
}

// MilestoneColor is the colour a milestone is drawn in (for tests that
// look at the picture).
func MilestoneColor(name string) color.RGBA { return milestoneColor[name] }
