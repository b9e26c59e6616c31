package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// schedules runs the two cron jobs as their default schedules would, on
// an injected clock: a probe round every ProbeEvery, a status poll every
// PollEvery. Each step moves the clock to the next job and runs it.
type schedules struct {
	p               *statuswatch.Poller
	clock           *testClock
	nextProbe, next time.Time
}

func newSchedules(p *statuswatch.Poller, clock *testClock) *schedules {
	now := clock.Now()
	return &schedules{p: p, clock: clock, nextProbe: now.Add(p.ProbeEvery()), next: now.Add(p.PollEvery())}
}

func (s *schedules) step() {
	ctx := context.Background()
	if s.nextProbe.After(s.next) {
		s.clock.Add(s.next.Sub(s.clock.Now()))
		s.next = s.next.Add(s.p.PollEvery())
		if s.p.TryLead(ctx) {
			s.p.Poll(ctx)
		}
		return
	}
	s.clock.Add(s.nextProbe.Sub(s.clock.Now()))
	s.nextProbe = s.nextProbe.Add(s.p.ProbeEvery())
	if s.p.TryLeadProbes(ctx) {
		s.p.PollProbes(ctx)
	}
}

func startDefaults(t *testing.T, fs *fakeslack.Server, fc *fakeclerk.Server, st *fakestatus.Server, clock *testClock) *statuswatch.Poller {
	// The default schedules (the harness turns polling off; this turns it
	// back on at the documented default and sets nothing else).
	var statusDefault string
	for _, v := range app.Vars {
		if v.Name == "STATUS_POLL_SCHEDULE" {
			statusDefault = v.Default
		}
	}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "STATUS_POLL_SCHEDULE": statusDefault,
		"CLERK_STATUS_URL": st.RootURL(), "CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL()},
		Options: app.Options{Manual: app.Loops{Poll: true, Sweep: true}, Now: clock.Now}})
	return bot.Poller
}

func openedCard(fs *fakeslack.Server) bool {
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text, "Clerk API failing from here") {
			return true
		}
	}
	return false
}

// With the defaults a newcomer gets, Clerk's Backend API answering 503
// opens an incident within 60 s of the fault, whatever the fault's time
// relative to the probe rounds, while the status page still says all is
// well; its detected milestone is the first failed probe.
func TestDefaultsOpenWithinAMinuteOfAFailingBackendAPI(t *testing.T) {
	t.Parallel()
	for _, offset := range []time.Duration{time.Millisecond, 4 * time.Second, 9900 * time.Millisecond} {
		t.Run(offset.String(), func(t *testing.T) {
			fs, fc, st := fakeslack.New(), fakeclerk.New(), fakestatus.New()
			defer fs.Close()
			defer fc.Close()
			defer st.Close()
			clock := &testClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
			p := startDefaults(t, fs, fc, st, clock)
			if p.ProbeEvery() > 15*time.Second || p.PollEvery() != time.Minute || p.ProbeEvery() < 10*time.Second {
				t.Fatalf("defaults: probes every %s, status every %s", p.ProbeEvery(), p.PollEvery())
			}
			s := newSchedules(p, clock)
			s.step() // a good round first
			fault := clock.Now().Add(offset)
			for clock.Now().Add(p.ProbeEvery()).Before(fault) || clock.Now().Add(p.PollEvery()).Before(fault) {
				s.step()
			}
			if s.nextProbe.Before(fault) {
				t.Fatalf("setup: next probe %s before the fault %s", s.nextProbe, fault)
			}
			fc.Fail("GET", "/jwks", 503, 1000, 0)
			for !openedCard(fs) {
				if clock.Now().Sub(fault) > 60*time.Second {
					t.Fatalf("no incident 60 s after the fault (now +%s)", clock.Now().Sub(fault))
				}
				s.step()
			}
			took := clock.Now().Sub(fault)
			if took > 60*time.Second {
				t.Fatalf("incident %s after the fault", took)
			}
			card := fs.ExpectMessage(t, "CINC", "INC-1 · Clerk API failing from here", "P1")
			fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Backend API failing for 4 polls in a row", "GET /jwks: HTTP 503"}})
			t.Logf("fault +%s: incident after %s", offset, took)
		})
	}
}

// Noise at the defaults opens nothing: one failed probe, then a 20 s
// blip (two rounds), each followed by good rounds, over ten minutes.
func TestIsolatedFailedProbeOpensNothing(t *testing.T) {
	t.Parallel()
	fs, fc, st := fakeslack.New(), fakeclerk.New(), fakestatus.New()
	defer fs.Close()
	defer fc.Close()
	defer st.Close()
	clock := &testClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
	p := startDefaults(t, fs, fc, st, clock)
	s := newSchedules(p, clock)
	s.step()
	fc.Fail("GET", "/jwks", 503, 1, 0) // one probe fails
	for clock.Now().Before(time.Date(2026, 11, 26, 3, 5, 0, 0, time.UTC)) {
		s.step()
	}
	fc.Fail("GET", "/jwks", 503, 2, 0) // a 20 s blip: two rounds at 10 s
	for clock.Now().Before(time.Date(2026, 11, 26, 3, 7, 0, 0, time.UTC)) {
		s.step()
	}
	fc.Fail("GET", "/jwks", 503, 3, 0) // three in a row, one short of the default
	for clock.Now().Before(time.Date(2026, 11, 26, 3, 10, 0, 0, time.UTC)) {
		s.step()
	}
	if fc.CountCalls("GET", "/jwks") < 30 {
		t.Fatalf("only %d probes in 10 minutes", fc.CountCalls("GET", "/jwks"))
	}
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text, "INC-") {
			t.Fatalf("noise opened an incident: %s", m.Text)
		}
	}
}
