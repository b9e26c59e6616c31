// Package chart draws the bot's pictures (an incident's timeline, Clerk's
// probe latency, incident statistics) as PNG bytes with gonum.org/v1/plot.
// Every function is pure: plain inputs in, an image out, nothing kept
// between calls, so a chart costs memory only while it is drawn. Text uses
// gonum's embedded Liberation fonts, never system fonts, so the same input
// gives the same bytes on any machine.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"

	"gonum.org/v1/plot"

	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ErrNoData means there is nothing to draw; callers say so in words.
var ErrNoData = chartdata.ErrNoData

// Size and resolution of every chart: 1000×420 px, readable in a Slack
// thread preview and small as a PNG (tens of KB).
const (
	dpi    = 100
	width  = 10 * vg.Inch
	height = 4.2 * vg.Inch
)

// picture is a drawn chart before encoding: the image, and where an x
// value (Unix seconds or category index) landed in pixels, for tests.
type picture struct {
	img *image.RGBA
	xpx func(x float64) float64
}

// drawPlot renders one plot onto a fresh canvas.
func drawPlot(p *plot.Plot) picture {
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	p.Draw(dc)
	da := p.DataCanvas(dc)
	return picture{img: c.Image().(*image.RGBA), xpx: func(x float64) float64 {
		return float64(da.X(p.X.Norm(x))) * dpi / vg.Inch.Points()
	}}
}

func (pic picture) png() ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, pic.img); err != nil {
		return nil, fmt.Errorf("chart: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// timeTicks labels a time axis in UTC at round steps (1 min … 1 day), at
// most about 8 labels.
type timeTicks struct{}

var steps = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

func (timeTicks) Ticks(lo, hi float64) []plot.Tick {
	span := time.Duration((hi - lo) * 1e9)
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	format := "15:04"
	if step >= 24*time.Hour {
		format = "Jan 2"
	}
	sec := step.Seconds()
	var ticks []plot.Tick
	for x := float64(int64(lo/sec)) * sec; x <= hi; x += sec {
		if x < lo {
			continue
		}
		ticks = append(ticks, plot.Tick{Value: x, Label: time.Unix(int64(x), 0).UTC().Format(format)})
	}
	return ticks
}

// rgb is an opaque colour.
func rgb(r, g, b uint8) color.RGBA { return color.RGBA{R: r, G: g, B: b, A: 255} }

// Draw draws the one chart req asks for.
func Draw(req chartdata.Request) ([]byte, error) {
	switch {
	case req.Timeline != nil:
		return Timeline(*req.Timeline)
	case req.Latency != nil:
		return Latency(*req.Latency)
	case req.Stats != nil:
		return Stats(*req.Stats)
	}
	return nil, errors.New("chart: the request names no chart")
}
