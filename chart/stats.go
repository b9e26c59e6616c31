package chart

import (
	"fmt"
	"image"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
)

// The inputs are chartdata's.
type (
	Count      = chartdata.Count
	Duration   = chartdata.Duration
	StatsInput = chartdata.Stats
)

var barColor = rgb(31, 119, 180)

// Stats draws a bar chart of Counts and, beside it, one of Durations.
// No counts is ErrNoData.
func Stats(in StatsInput) ([]byte, error) {
	pic, err := stats(in)
	if err != nil {
		return nil, err
	}
	return pic.png()
}

func stats(in StatsInput) (picture, error) {
	if len(in.Counts) == 0 {
		return picture{}, ErrNoData
	}
	counts := make(plotter.Values, len(in.Counts))
	names := make([]string, len(in.Counts))
	for i, c := range in.Counts {
		counts[i], names[i] = float64(c.N), fmt.Sprintf("%s (%d)", c.Label, c.N)
	}
	left, err := bars(in.Title, "incidents", names, counts)
	if err != nil {
		return picture{}, err
	}
	if len(in.Durations) == 0 {
		return drawPlot(left), nil
	}
	mins := make(plotter.Values, len(in.Durations))
	dnames := make([]string, len(in.Durations))
	for i, d := range in.Durations {
		mins[i], dnames[i] = d.D.Minutes(), fmt.Sprintf("%s\n%s", d.Label, d.D.Round(time.Second))
	}
	right, err := bars("Response times", "minutes", dnames, mins)
	if err != nil {
		return picture{}, err
	}
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	cs := plot.Align([][]*plot.Plot{{left, right}}, tiles, dc)
	left.Draw(cs[0][0])
	right.Draw(cs[0][1])
	da := left.DataCanvas(cs[0][0])
	return picture{img: c.Image().(*image.RGBA), xpx: func(x float64) float64 {
		return float64(da.X(left.X.Norm(x))) * dpi / vg.Inch.Points()
	}}, nil
}

func bars(title, ylabel string, names []string, vs plotter.Values) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	b, err := plotter.NewBarChart(vs, vg.Points(28))
	if err != nil {
		return nil, fmt.Errorf("chart: bars: %w", err)
	}
	b.Color, b.LineStyle.Width = barColor, 0
	p.Add(b)
	p.NominalX(names...)
	top := 0.0
	for _, v := range vs {
		top = max(top, v)
	}
	p.Y.Max = max(top*1.1, 1) // headroom above the tallest bar
	return p, nil
}
