package statuswatch_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
	"github.com/sirupsen/logrus"
)

// BenchmarkDetectionTime computes how long after a fault the alert comes
// at the status poll's default schedule (a poll a minute,
// STATUS_CONFIRM_POLLS 2), with the probes riding that poll
// (CLERK_PROBE_SCHEDULE off, CLERK_PROBE_CONFIRM_POLLS 3; their own
// schedule is BenchmarkKnownInAMinute's), from polls driven with an injected clock:
// the polls needed × the interval, plus the measured work of the polls.
// The fault starts just after a poll, the worst case.
func BenchmarkDetectionTime(b *testing.B) {
	const interval = time.Minute
	for range b.N {
		for _, which := range []string{"probe", "status page"} {
			fs := fakestatus.New()
			fc := fakeclerk.New()
			rep := &report{closed: map[string]bool{}}
			rdb, _ := redistest.Client(b)
			log := logrus.New()
			log.SetLevel(logrus.ErrorLevel)
			clock := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
			p := statuswatch.NewPoller(rdb, redistest.Prefix(), statuswatch.Config{StatusURL: fs.RootURL(), Confirm: 2, Interval: interval,
				Probes: []statuswatch.ProbeTarget{{API: "Backend API", Name: "GET /jwks", URL: fc.URL() + "/jwks", Header: map[string]string{"Authorization": "Bearer " + fc.Key}}}},
				nil, rep, rep, func() time.Time { return clock }, log)
			ctx := context.Background()
			p.Poll(ctx)
			if which == "probe" {
				fc.Fail("GET", "/jwks", 503, 1000, 0)
			} else {
				fs.StartIncident(fakestatus.Incident{ID: "X", Name: "Outage", Status: "investigating", Impact: "full_outage", Components: []string{"User and authentication"}})
			}
			var work time.Duration
			polls := 0
			for {
				clock = clock.Add(interval)
				start := time.Now()
				p.Poll(ctx)
				work += time.Since(start)
				polls++
				if a, _, _ := rep.counts(); a > 0 {
					break
				}
				if polls > 10 {
					b.Fatalf("%s: no alert after %d polls", which, polls)
				}
			}
			fmt.Printf("detection, %s: %d polls × %s + %s of work = %s after the fault (worst case: the fault starts just after a poll)\n",
				which, polls, interval, work.Round(time.Millisecond), (time.Duration(polls)*interval + work).Round(time.Millisecond))
			fs.Close()
			fc.Close()
		}
	}
}
