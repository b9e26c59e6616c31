package chart

import (
	"fmt"
	"image/color"
	"sort"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
)

// The inputs are chartdata's.
type (
	Sample       = chartdata.Sample
	Series       = chartdata.Series
	LatencyInput = chartdata.Latency
)

var (
	seriesColors = []color.RGBA{rgb(31, 119, 180), rgb(44, 160, 44), rgb(148, 103, 189), rgb(140, 86, 75), rgb(23, 190, 207), rgb(127, 127, 127)}
	failColor    = rgb(214, 39, 40)
	slowColor    = rgb(255, 127, 14)
)

// Latency draws each series as a line in ms, failed calls as red dots,
// and the slow threshold as a dashed orange line. No sample in the window
// is ErrNoData.
func Latency(in LatencyInput) ([]byte, error) {
	pic, err := latency(in)
	if err != nil {
		return nil, err
	}
	return pic.png()
}

func latency(in LatencyInput) (picture, error) {
	p := plot.New()
	p.Title.Text = in.Title
	p.X.Label.Text = "UTC"
	p.Y.Label.Text = "ms"
	p.X.Min, p.X.Max = unix(in.From), unix(in.To)
	p.X.Tick.Marker = timeTicks{}
	p.Y.Min = 0
	slowMs := float64(in.Slow) / float64(time.Millisecond)
	p.Y.Max = slowMs * 1.2
	n := 0
	for i, s := range in.Series {
		var pts, fails plotter.XYs
		samples := append([]Sample(nil), s.Samples...)
		sort.Slice(samples, func(a, b int) bool { return samples[a].At.Before(samples[b].At) })
		for _, smp := range samples {
			if smp.At.Before(in.From) || smp.At.After(in.To) {
				continue
			}
			xy := plotter.XY{X: unix(smp.At), Y: smp.Ms}
			pts = append(pts, xy)
			if !smp.OK {
				fails = append(fails, xy)
			}
			p.Y.Max = max(p.Y.Max, smp.Ms*1.05)
		}
		if len(pts) == 0 {
			continue
		}
		n += len(pts)
		l, err := plotter.NewLine(pts)
		if err != nil {
			return picture{}, fmt.Errorf("chart: latency line: %w", err)
		}
		l.Color = seriesColors[i%len(seriesColors)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.Name, l)
		if len(fails) > 0 {
			sc, err := plotter.NewScatter(fails)
			if err != nil {
				return picture{}, fmt.Errorf("chart: latency failures: %w", err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: failColor, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
			p.Add(sc)
		}
	}
	if n == 0 {
		return picture{}, ErrNoData
	}
	if in.Slow > 0 {
		th, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: slowMs}, {X: p.X.Max, Y: slowMs}})
		if err != nil {
			return picture{}, fmt.Errorf("chart: threshold: %w", err)
		}
		th.Color, th.Width, th.Dashes = slowColor, vg.Points(1.5), []vg.Length{vg.Points(6), vg.Points(4)}
		p.Add(th)
		p.Legend.Add(fmt.Sprintf("slow (%s)", in.Slow), th)
	}
	p.Legend.Top = true
	p.Y.Max *= 1.25 // room for the legend above the data
	p.Y.Tick.Marker = msTicks{}
	p.Add(plotter.NewGrid())
	return drawPlot(p), nil
}

// msTicks labels milliseconds without decimals ("2500", not "2500.00").
type msTicks struct{}

func (msTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}
