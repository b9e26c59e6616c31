package chart

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata")

var t0 = time.Date(2026, 11, 30, 14, 2, 0, 0, time.UTC)

func fullTimeline() TimelineInput {
	return TimelineInput{
		Title: "INC-7 Sign-ins failing",
		Milestones: map[string]time.Time{
			Detected:     t0,
			Acknowledged: t0.Add(90 * time.Second),
			Mitigated:    t0.Add(25 * time.Minute),
			Resolved:     t0.Add(48 * time.Minute),
		},
		Pages:     []Mark{{At: t0.Add(10 * time.Second), Label: "L1 alice"}, {At: t0.Add(6 * time.Minute), Label: "L2 bob"}},
		Approvals: []Mark{{At: t0.Add(12 * time.Minute), Label: "AR-1 requested"}, {At: t0.Add(15 * time.Minute), Label: "AR-1 approved by carol"}},
		Bypass:    []Span{{From: t0.Add(15 * time.Minute), To: t0.Add(40 * time.Minute), Label: "bypass on"}},
	}
}

// decode checks that b is a real PNG of the chart's size.
func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: 1000, Y: 420}) {
		t.Fatalf("size %v, want 1000x420", got)
	}
	return img
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) float64 { return math.Abs(float64(a>>8) - float64(w)) }
	return d(r, want.R) < 24 && d(g, want.G) < 24 && d(b, want.B) < 24
}

// inColumn counts the pixels of colour want in the columns x-1..x+1.
func inColumn(img image.Image, x float64, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for dx := -1; dx <= 1; dx++ {
		col := int(math.Round(x)) + dx
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if near(img.At(col, y), want) {
				n++
			}
		}
	}
	return n
}

func count(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img.At(x, y), want) {
				n++
			}
		}
	}
	return n
}

func golden(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update and look at the picture)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from the golden image: rendering is not deterministic or changed (-update, then look at it)", path)
	}
}

func TestTimelineDrawsEachMilestoneInItsColour(t *testing.T) {
	in := fullTimeline()
	pic, err := timeline(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pic.png()
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, b)
	for _, name := range milestoneOrder {
		// A line across the plot: well over 100 pixels of its colour in
		// its column.
		if n := inColumn(img, pic.xpx(unix(in.Milestones[name])), milestoneColor[name]); n < 150 {
			t.Errorf("%s: %d pixels of its colour at its time, want a line (≥150)", name, n)
		}
	}
	if count(img, pageColor) == 0 || count(img, approvalColor) == 0 {
		t.Error("pages or approvals not drawn")
	}
	// The bypass window is shaded at its middle and not outside it.
	mid := pic.xpx(unix(t0.Add(27 * time.Minute)))
	before := pic.xpx(unix(t0.Add(11 * time.Minute)))
	if inColumn(img, mid, bypassColor) < 150 || inColumn(img, before, bypassColor) != 0 {
		t.Errorf("bypass shading: %d pixels inside, %d outside", inColumn(img, mid, bypassColor), inColumn(img, before, bypassColor))
	}
	golden(t, "timeline.png", b)
}

func TestTimelineLeavesOutMilestonesNotReached(t *testing.T) {
	in := fullTimeline()
	delete(in.Milestones, Mitigated)
	delete(in.Milestones, Resolved)
	in.End = t0.Add(48 * time.Minute)
	pic, err := timeline(in)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(pic.img, milestoneColor[Mitigated]); n != 0 {
		t.Errorf("%d pixels of the mitigated colour on an unmitigated incident", n)
	}
	if n := count(pic.img, milestoneColor[Resolved]); n != 0 {
		t.Errorf("%d pixels of the resolved colour on an open incident", n)
	}
	if n := inColumn(pic.img, pic.xpx(unix(t0)), milestoneColor[Detected]); n < 150 {
		t.Errorf("detected not drawn (%d)", n)
	}
	// The open incident's axis runs to End.
	if x := pic.xpx(unix(in.End)); x <= pic.xpx(unix(t0.Add(15*time.Minute))) || x > 1000 {
		t.Errorf("End at x=%v, off the axis", x)
	}
}

func TestTimelineWithNothingIsNoData(t *testing.T) {
	if _, err := Timeline(TimelineInput{Title: "empty"}); !errors.Is(err, ErrNoData) {
		t.Fatalf("got %v, want ErrNoData", err)
	}
}

func TestChartsAreDeterministic(t *testing.T) {
	a, err := Timeline(fullTimeline())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Timeline(fullTimeline())
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same timeline differ")
	}
}

func latencyInput() LatencyInput {
	in := LatencyInput{Title: "Clerk probe latency, last hour", From: t0, To: t0.Add(time.Hour), Slow: 2 * time.Second}
	var jwks, client []Sample
	for i := range 60 {
		at := t0.Add(time.Duration(i) * time.Minute)
		jwks = append(jwks, Sample{At: at, Ms: 120 + float64(i%7)*10, OK: true})
		s := Sample{At: at, Ms: 300, OK: true}
		if i >= 30 && i < 35 {
			s = Sample{At: at, Ms: 5000, OK: false} // timed out
		}
		client = append(client, s)
	}
	in.Series = []Series{{Name: "Backend API GET /jwks", Samples: jwks}, {Name: "Frontend API GET /v1/client", Samples: client}}
	return in
}

func TestLatencyDrawsThresholdAndFailures(t *testing.T) {
	in := latencyInput()
	pic, err := latency(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pic.png()
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, b)
	if n := count(img, slowColor); n < 200 {
		t.Errorf("slow threshold: %d pixels of its colour, want a line across", n)
	}
	if n := inColumn(img, pic.xpx(unix(t0.Add(32*time.Minute))), failColor); n == 0 {
		t.Error("no failure cross where the probe timed out")
	}
	if n := inColumn(img, pic.xpx(unix(t0.Add(10*time.Minute))), failColor); n != 0 {
		t.Errorf("%d failure pixels where every probe succeeded", n)
	}
	if count(img, seriesColors[0]) == 0 || count(img, seriesColors[1]) == 0 {
		t.Error("a series is missing")
	}
	golden(t, "latency.png", b)
}

func TestLatencyOutsideTheWindowIsNoData(t *testing.T) {
	in := latencyInput()
	in.From, in.To = t0.Add(-3*time.Hour), t0.Add(-2*time.Hour)
	if _, err := Latency(in); !errors.Is(err, ErrNoData) {
		t.Fatalf("got %v, want ErrNoData", err)
	}
}

func TestStatsBarsGrowWithCounts(t *testing.T) {
	in := StatsInput{Title: "Incidents, last 30 days",
		Counts:    []Count{{Label: "outage", N: 9}, {Label: "degradation", N: 3}, {Label: "security", N: 1}},
		Durations: []Duration{{Label: "MTTA p50", D: 90 * time.Second}, {Label: "MTTA p90", D: 4 * time.Minute}, {Label: "MTTR p50", D: 40 * time.Minute}, {Label: "MTTR p90", D: 2 * time.Hour}}}
	pic, err := stats(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pic.png()
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, b)
	h := make([]int, 3)
	for i := range h {
		h[i] = inColumn(img, pic.xpx(float64(i)), barColor) / 3
	}
	if !(h[0] > h[1] && h[1] > h[2] && h[2] > 0) {
		t.Errorf("bar heights %v, want decreasing with counts 9, 3, 1", h)
	}
	// 9/3 = 3: bar heights are proportional within a pixel or two.
	if r := float64(h[0]) / float64(h[1]); r < 2.8 || r > 3.2 {
		t.Errorf("bar ratio %.2f, want 3", r)
	}
	golden(t, "stats.png", b)
	if _, err := Stats(StatsInput{Title: "none"}); !errors.Is(err, ErrNoData) {
		t.Errorf("no counts: %v, want ErrNoData", err)
	}
}

// Drawing cost per chart (CPU, allocations); BENCHMARKS.md records it.
func BenchmarkTimeline(b *testing.B) {
	in := fullTimeline()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Timeline(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLatency(b *testing.B) {
	in := latencyInput()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Latency(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStats(b *testing.B) {
	in := StatsInput{Title: "Incidents", Counts: []Count{{Label: "outage", N: 9}, {Label: "degradation", N: 3}, {Label: "security", N: 1}},
		Durations: []Duration{{Label: "MTTA p50", D: 90 * time.Second}, {Label: "MTTR p50", D: 40 * time.Minute}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Stats(in); err != nil {
			b.Fatal(err)
		}
	}
}
