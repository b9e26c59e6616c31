package stats_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/stats"
)

// BenchmarkStats1000Closed: 1,000 closed incidents in Redis (a year of a
// busy team, here all inside the 90 days so `stats 90d` reads every one),
// each opened, noted three times, acknowledged, mitigated and resolved
// through the store. One op is what `stats 90d` does: the resolved
// index's range, the MGETs, the open list, Compute and Text. It reports
// the `list` command's reads (open list + 10 recent) with the 1,000
// closed beside them, and Redis memory per closed
// incident (INFO used_memory delta / 1,000, and MEMORY USAGE of one
// incident's value and timeline).
func BenchmarkStats1000Closed(b *testing.B) {
	const closed = 1000
	ctx := context.Background()
	rdb, prefix := redistest.Client(b)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := &clock{t: now.AddDate(0, 0, -89)}
	s := incident.NewStore(rdb, prefix, c.now)
	usedMemory := func() int64 {
		info, err := rdb.Info(ctx, "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		b.Fatal("no used_memory in INFO memory")
		return 0
	}
	before := usedMemory()
	alice := incident.Person{ID: "U01ALICE", Name: "Alice Smith"}
	bob := incident.Person{ID: "U02BOB", Name: "Bob Jones"}
	cats := incident.Categories
	step := 89 * 24 * time.Hour / closed
	for i := range closed {
		base := now.AddDate(0, 0, -89).Add(time.Duration(i) * step)
		c.set(base)
		inc, err := s.Open(ctx, incident.OpenParams{Category: cats[i%4], By: alice, Title: fmt.Sprintf("Incident %d: sign-in errors in one region", i), Channel: "C1", Force: true})
		if err != nil {
			b.Fatal(err)
		}
		muts := []incident.Mutation{
			incident.Ack(bob),
			incident.Note(bob, "Looking at the Clerk dashboard and our logs"),
			incident.Note(alice, "Customers report failures on sign-in from Europe"),
			incident.Mitigate(bob, "Enabled the emergency bypass"),
			incident.Note(bob, "Clerk posted an update: a fix is deployed"),
			incident.Resolve(bob, "Clerk fixed the upstream outage"),
		}
		for j, m := range muts {
			c.set(base.Add(time.Duration(j+1) * time.Duration(1+i%7) * time.Minute))
			if _, err := s.Update(ctx, inc.ID, m); err != nil {
				b.Fatal(err)
			}
		}
	}
	after := usedMemory()
	perIncident := float64(after-before) / closed
	v, _ := rdb.MemoryUsage(ctx, prefix+"incident:INC-500").Result()
	tl, _ := rdb.MemoryUsage(ctx, prefix+"incident:INC-500:timeline").Result()
	c.set(now)

	run := func() stats.Summary {
		p, err := stats.ParsePeriod("90d", c.now())
		if err != nil {
			b.Fatal(err)
		}
		resolved, err := s.ListResolved(ctx, p.From, p.To)
		if err != nil {
			b.Fatal(err)
		}
		open, err := s.ListOpen(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sum := stats.Compute(p, resolved, open)
		_ = stats.Text(sum)
		return sum
	}
	if got := run(); got.Incidents != closed || got.MTTR.N != closed {
		b.Fatalf("stats 90d counted %d incidents, %d resolved; want %d", got.Incidents, got.MTTR.N, closed)
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		run()
	}
	per := time.Since(start) / time.Duration(b.N)
	b.StopTimer()

	// What `list` reads, with the 1,000 closed incidents beside it.
	const lists = 200
	t0 := time.Now()
	for range lists {
		if _, err := s.ListOpen(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := s.ListRecent(ctx, 10); err != nil {
			b.Fatal(err)
		}
	}
	listPer := time.Since(t0) / lists
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/stats90d")
	b.ReportMetric(float64(listPer.Microseconds())/1000, "ms/list-reads")
	b.ReportMetric(perIncident, "redis-B/closed-incident")
	b.ReportMetric(float64(v), "memusage-B/incident-value")
	b.ReportMetric(float64(tl), "memusage-B/incident-timeline")
}
