package statuswatch_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

var s0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestSamplesKeepAtMostMaxPerTarget(t *testing.T) {
	rdb, _ := redistest.Client(t)
	ctx := context.Background()
	prefix := redistest.Prefix()
	s := statuswatch.NewSamples(rdb, prefix, time.Minute)
	s.Max = 5
	for i := range 12 {
		if err := s.Add(ctx, "Backend API GET /jwks", statuswatch.Sample{At: s0.Add(time.Duration(i) * time.Second), Ms: float64(100 + i), OK: true}); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.ZCard(ctx, prefix+"status:{samples}:Backend API GET /jwks").Val(); n != 5 {
		t.Fatalf("%d samples kept in Redis, want the bound 5", n)
	}
	got, err := s.Range(ctx, s0.Add(-time.Hour), s0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Samples) != 5 || got[0].Samples[0].Ms != 107 || got[0].Samples[4].Ms != 111 {
		t.Fatalf("kept %+v, want the newest five (107..111)", got)
	}
	if ttl := rdb.PTTL(ctx, prefix+"status:{samples}:Backend API GET /jwks").Val(); ttl <= 0 || ttl > 24*time.Hour {
		t.Errorf("TTL %v, want at most Keep (a target no longer probed disappears)", ttl)
	}
}

func TestSamplesDropThoseOlderThanKeep(t *testing.T) {
	rdb, _ := redistest.Client(t)
	ctx := context.Background()
	s := statuswatch.NewSamples(rdb, redistest.Prefix(), time.Minute)
	s.Keep = time.Hour
	for _, d := range []time.Duration{0, 30 * time.Minute, 61 * time.Minute, 90 * time.Minute} {
		if err := s.Add(ctx, "Frontend API GET /v1/client", statuswatch.Sample{At: s0.Add(d), Ms: 10, OK: d != 61*time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Range(ctx, s0.Add(-24*time.Hour), s0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// At 90 min, the last hour starts at 30 min: the sample at 0 is gone.
	if len(got) != 1 || len(got[0].Samples) != 3 || !got[0].Samples[0].At.Equal(s0.Add(30*time.Minute)) {
		t.Fatalf("kept %+v, want the samples at 30, 61 and 90 min", got)
	}
	if got[0].Samples[1].OK {
		t.Error("the failed sample reads back as OK")
	}
}

func TestSamplesRangeIsAWindowPerTarget(t *testing.T) {
	rdb, _ := redistest.Client(t)
	ctx := context.Background()
	s := statuswatch.NewSamples(rdb, redistest.Prefix(), time.Minute)
	for i := range 10 {
		at := s0.Add(time.Duration(i) * time.Minute)
		_ = s.Add(ctx, "Frontend API GET /v1/client", statuswatch.Sample{At: at, Ms: 200, OK: true})
		_ = s.Add(ctx, "Backend API GET /jwks", statuswatch.Sample{At: at, Ms: 100.5, OK: true})
	}
	got, err := s.Range(ctx, s0.Add(3*time.Minute), s0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Target != "Backend API GET /jwks" || len(got[0].Samples) != 3 || len(got[1].Samples) != 3 || got[0].Samples[0].Ms != 100.5 {
		t.Fatalf("got %+v, want both targets (by name) with the 3 samples of minutes 3..5", got)
	}
	none, err := s.Range(ctx, s0.Add(time.Hour), s0.Add(2*time.Hour))
	if err != nil || len(none) != 0 {
		t.Fatalf("empty window: %+v, %v", none, err)
	}
}

func TestNewSamplesBoundFollowsTheInterval(t *testing.T) {
	rdb, _ := redistest.Client(t)
	for _, c := range []struct {
		every time.Duration
		max   int
	}{{time.Minute, 1441}, {30 * time.Second, 2881}, {time.Second, 5000}, {time.Hour, 60}, {0, 2880}} {
		if got := statuswatch.NewSamples(rdb, "", c.every).Max; got != c.max {
			t.Errorf("interval %v: bound %d, want %d", c.every, got, c.max)
		}
	}
}

// Each poll of Clerk's probes leaves one sample per target, at the
// poller's clock, failed calls marked.
func TestPollerKeepsProbeSamples(t *testing.T) {
	fc := fakeclerk.New()
	defer fc.Close()
	rdb, _ := redistest.Client(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	clock := s0
	rep := &report{closed: map[string]bool{}}
	p := statuswatch.NewPoller(rdb, redistest.Prefix(), statuswatch.Config{Interval: time.Minute,
		Probes: []statuswatch.ProbeTarget{{API: "Backend API", Name: "GET /jwks", URL: fc.URL() + "/jwks", Header: map[string]string{"Authorization": "Bearer " + fc.Key}}}},
		nil, rep, rep, func() time.Time { return clock }, log)
	ctx := context.Background()
	p.Poll(ctx)
	fc.Fail("GET", "/jwks", 503, 1, 0)
	clock = clock.Add(time.Minute)
	p.Poll(ctx)
	got, err := p.Samples().Range(ctx, s0, s0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Target != "Backend API GET /jwks" || len(got[0].Samples) != 2 {
		t.Fatalf("samples %+v, want two of Backend API GET /jwks", got)
	}
	if a, b := got[0].Samples[0], got[0].Samples[1]; !a.OK || b.OK || !a.At.Equal(s0) || !b.At.Equal(s0.Add(time.Minute)) {
		t.Errorf("samples %+v, want ok at 12:00 then failed at 12:01", got[0].Samples)
	}
}
