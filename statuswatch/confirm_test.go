package statuswatch_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// The probes' confirmation at a 10 s schedule, 4 rounds, a 1 min window:
// failed rounds in a row open; a slow round neither counts nor breaks the
// row; a good round breaks it; failures spread wider than the window (a
// stalled prober) do not add up; only-slow rounds need 8 within 2 min.
func TestProbeConfirmationWindow(t *testing.T) {
	ctx := context.Background()
	ok := statuswatch.ProbeResult{API: "Backend API", Name: "GET /jwks", Status: 200, Latency: 90 * time.Millisecond}
	failed := statuswatch.ProbeResult{API: "Backend API", Name: "GET /jwks", Status: 503, Err: "HTTP 503", Bad: true}
	slow := statuswatch.ProbeResult{API: "Backend API", Name: "GET /jwks", Status: 200, Latency: 3 * time.Second, Slow: true}
	for _, c := range []struct {
		name   string
		rounds []statuswatch.ProbeResult
		gap    time.Duration // between rounds
		opens  int           // round (1-based) that opens; 0: none
	}{
		{"four failed", []statuswatch.ProbeResult{failed, failed, failed, failed}, 10 * time.Second, 4},
		{"three failed", []statuswatch.ProbeResult{failed, failed, failed, ok, failed}, 10 * time.Second, 0},
		{"a slow round between", []statuswatch.ProbeResult{failed, failed, slow, failed, failed}, 10 * time.Second, 5},
		{"a blip beside slow rounds", []statuswatch.ProbeResult{slow, failed, failed, slow, ok}, 10 * time.Second, 0},
		{"spread past the window", []statuswatch.ProbeResult{failed, failed, failed, failed}, 25 * time.Second, 0},
		{"slow for 80 s", []statuswatch.ProbeResult{slow, slow, slow, slow, slow, slow, slow, slow}, 10 * time.Second, 8},
		{"slow 7 rounds", []statuswatch.ProbeResult{slow, slow, slow, slow, slow, slow, slow, ok}, 10 * time.Second, 0},
	} {
		rdb, _ := redistest.Client(t)
		log := logrus.New()
		log.SetOutput(io.Discard)
		clock := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
		rep := &report{closed: map[string]bool{}}
		p := statuswatch.NewPoller(rdb, redistest.Prefix(), statuswatch.Config{Interval: time.Minute, ProbeInterval: 10 * time.Second,
			ProbeWindow: time.Minute, ProbeConfirm: 4, ProbeSlow: 2 * time.Second}, nil, rep, rep, func() time.Time { return clock }, log)
		opened := 0
		for i, r := range c.rounds {
			clock = clock.Add(c.gap)
			p.Judge(ctx, []statuswatch.ProbeResult{r})
			if a, _, _ := rep.counts(); a > 0 && opened == 0 {
				opened = i + 1
				if first := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC).Add(c.gap); c.name == "four failed" && !rep.alerts[0].Detected.Equal(first) {
					t.Errorf("%s: detected %s, want the first failed round %s", c.name, rep.alerts[0].Detected, first)
				}
			}
		}
		if opened != c.opens {
			t.Errorf("%s: opened at round %d, want %d", c.name, opened, c.opens)
		}
		if a, _, _ := rep.counts(); a > 1 {
			t.Errorf("%s: %d alerts", c.name, a)
		}
	}
}
