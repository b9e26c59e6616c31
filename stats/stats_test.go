package stats_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/stats"
)

var update = flag.Bool("update", false, "rewrite golden files")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// The acceptance: 20 incidents made here, through the store with
// an injected clock, give exactly the nearest-rank p50 and p90. Their
// times to acknowledge are 1..20 minutes and to resolve 10..200 minutes
// plus 30 s, made in a shuffled order; nearest-rank gives the 10th and
// 18th values (interpolation would give 10.5 and 18.1 minutes).
func TestStatsOverTwentyIncidents(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{t: start}
	s := incident.NewStore(rdb, prefix, c.now)
	alice := incident.Person{ID: "U1", Name: "Alice"}
	order := []int{7, 3, 19, 1, 12, 20, 5, 16, 9, 2, 14, 11, 18, 4, 8, 15, 6, 10, 17, 13}
	cats := []incident.Category{incident.Outage, incident.Webhook, incident.Security, incident.Performance}
	make1 := func(base time.Time, cat incident.Category, sev incident.Severity, tta, ttr time.Duration) *incident.Incident {
		t.Helper()
		c.set(base)
		inc, err := s.Open(ctx, incident.OpenParams{Category: cat, Severity: sev, By: alice, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if tta > 0 {
			c.set(base.Add(tta))
			if _, err := s.Update(ctx, inc.ID, incident.Ack(alice)); err != nil {
				t.Fatal(err)
			}
		}
		if ttr > 0 {
			c.set(base.Add(ttr))
			if _, err := s.Update(ctx, inc.ID, incident.Resolve(alice, "")); err != nil {
				t.Fatal(err)
			}
		}
		return inc
	}
	for i, n := range order {
		sev := incident.P2
		if n%5 == 0 {
			sev = incident.P1
		}
		make1(start.Add(time.Duration(i)*24*time.Hour), cats[n%4], sev, time.Duration(n)*time.Minute, time.Duration(10*n)*time.Minute+30*time.Second)
	}
	// Outside 30 days, inside 90: resolved 40 days before now.
	now := start.Add(26 * 24 * time.Hour)
	make1(now.Add(-41*24*time.Hour), incident.Outage, incident.P3, time.Hour, 24*time.Hour)
	// Open, not acknowledged: counted, in neither percentile.
	make1(now.Add(-time.Hour), incident.Security, incident.P1, 0, 0)
	c.set(now)

	summary := func(arg string) stats.Summary {
		t.Helper()
		p, err := stats.ParsePeriod(arg, c.now())
		if err != nil {
			t.Fatal(err)
		}
		resolved, err := s.ListResolved(ctx, p.From, p.To)
		if err != nil {
			t.Fatal(err)
		}
		open, err := s.ListOpen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return stats.Compute(p, resolved, open)
	}
	got := summary("")
	if got.Period.Days != 30 || got.Incidents != 21 || got.Open != 1 {
		t.Fatalf("30d: %d incidents, %d open, %d days", got.Incidents, got.Open, got.Period.Days)
	}
	want := stats.Percentiles{N: 20, P50: 10 * time.Minute, P90: 18 * time.Minute}
	if got.MTTA != want {
		t.Errorf("MTTA = %+v, want %+v", got.MTTA, want)
	}
	want = stats.Percentiles{N: 20, P50: 100*time.Minute + 30*time.Second, P90: 180*time.Minute + 30*time.Second}
	if got.MTTR != want {
		t.Errorf("MTTR = %+v, want %+v", got.MTTR, want)
	}
	// n%4: 0 → outage (4,8,12,16,20), 1 → webhook (1,5,9,13,17), 2 → security (2,6,10,14,18) + the open one, 3 → performance.
	if c := got.ByCategory; c[0] != (stats.Count{Name: "outage", N: 5}) || c[2] != (stats.Count{Name: "security", N: 6}) {
		t.Errorf("by category = %+v", c)
	}
	if sv := got.BySeverity; sv[0].N != 5 || sv[1].N != 16 || sv[2].N != 0 {
		t.Errorf("by severity = %+v", sv)
	}
	// 90 days adds the old one: 21 acknowledged, 21 resolved.
	got = summary("90d")
	if got.Incidents != 22 || got.MTTA.N != 21 || got.MTTR.N != 21 || got.BySeverity[2].N != 1 {
		t.Fatalf("90d = %+v", got)
	}
	if got.MTTR.P90 != 190*time.Minute+30*time.Second { // rank ⌈18.9⌉ = 19 of 21: the 19th fastest
		t.Errorf("90d MTTR p90 = %s", got.MTTR.P90)
	}
}

func TestNearestRank(t *testing.T) {
	m := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Minute
		}
		return out
	}
	for _, tc := range []struct {
		vals     []time.Duration
		p        int
		wantMins int
	}{
		{m(5), 50, 5}, {m(5), 90, 5},
		{m(1, 2), 50, 1}, {m(1, 2), 90, 2},
		{m(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9},
		{m(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 90, 10},
		{m(1, 2, 3, 4), 100, 4},
		{nil, 50, 0},
	} {
		if got := stats.NearestRank(tc.vals, tc.p); got != time.Duration(tc.wantMins)*time.Minute {
			t.Errorf("p%d of %v = %s", tc.p, tc.vals, got)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, days := range map[string]int{"": 30, "30d": 30, "90D": 90, " 90d ": 90} {
		p, err := stats.ParsePeriod(in, now)
		if err != nil || p.Days != days || !p.To.Equal(now) || !p.From.Equal(now.AddDate(0, 0, -days)) {
			t.Errorf("%q = %+v, %v", in, p, err)
		}
	}
	for _, in := range []string{"7d", "30", "d", "90days", "-30d", "1y"} {
		if _, err := stats.ParsePeriod(in, now); !errors.Is(err, stats.ErrPeriod) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
}

func TestTextGolden(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p, _ := stats.ParsePeriod("30d", now)
	s := stats.Summary{Period: p, Incidents: 12, Open: 2,
		ByCategory: []stats.Count{{"outage", 5}, {"webhook", 4}, {"security", 1}, {"performance", 2}},
		BySeverity: []stats.Count{{"P1", 3}, {"P2", 8}, {"P3", 1}},
		MTTA:       stats.Percentiles{N: 11, P50: 4*time.Minute + 30*time.Second, P90: 12 * time.Minute},
		MTTR:       stats.Percentiles{N: 10, P50: 95 * time.Minute, P90: 6*time.Hour + 2*time.Minute}}
	empty := stats.Summary{Period: p}
	noAck := s
	noAck.MTTA = stats.Percentiles{}
	got := stats.Text(s) + "\n---\n" + stats.Text(noAck) + "\n---\n" + stats.Text(empty)
	golden := filepath.Join("testdata", "stats.golden.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("stats text differs from %s (run with -update to accept):\n%s", golden, got)
	}
}
