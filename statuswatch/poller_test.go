package statuswatch_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

type report struct {
	mu      sync.Mutex
	alerts  []statuswatch.Alert
	threads []string
	channel []string
	closed  map[string]bool
}

func (r *report) OpenAlert(ctx context.Context, a statuswatch.Alert) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, a)
	return fmt.Sprintf("INC-%d", len(r.alerts)), nil
}

// Note renders the note as the publisher does, so the text is checked.
func (r *report) Note(ctx context.Context, n statuswatch.Note) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n.Incident == "" {
		r.channel = append(r.channel, render.NoteText(n))
		return
	}
	r.threads = append(r.threads, n.Incident+" "+render.NoteText(n))
}
func (r *report) IncidentOpen(ctx context.Context, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.closed[id]
}

func (r *report) counts() (int, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.alerts), len(r.threads), len(r.channel)
}

func newPoller(t *testing.T, rep *report, statusURL, healthURL, prefix string) *statuswatch.Poller {
	rdb, _ := redistest.Client(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	return statuswatch.NewPoller(rdb, prefix, statuswatch.Config{StatusURL: statusURL, HealthURL: healthURL, Confirm: 2, HealthConfirm: 3, Interval: time.Minute},
		nil, rep, rep, func() time.Time { return time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC) }, log)
}

func TestUpstreamIncidentLifecycleBothFormats(t *testing.T) {
	for _, format := range []string{"statuspage", "incident.io"} {
		t.Run(format, func(t *testing.T) {
			fs := fakestatus.New()
			defer fs.Close()
			url := fs.StatuspageURL()
			if format == "incident.io" {
				url = fs.IncidentIOURL()
			}
			rep := &report{closed: map[string]bool{}}
			prefix := redistest.Prefix()
			p := newPoller(t, rep, url, "", prefix)
			ctx := context.Background()
			p.Poll(ctx)
			if a, _, _ := rep.counts(); a != 0 {
				t.Fatal("alert while operational")
			}
			fs.StartIncident(fakestatus.Incident{ID: "01KUP", Name: "Elevated 500 rates", Status: "investigating", Impact: "full_outage",
				Components: []string{"Session management"}, Updates: []string{"We are investigating"}})
			p.Poll(ctx)
			if a, _, _ := rep.counts(); a != 0 {
				t.Fatal("alert after one poll; want confirmation")
			}
			p.Poll(ctx)
			if a, _, _ := rep.counts(); a != 1 {
				t.Fatalf("alerts = %d", a)
			}
			al := rep.alerts[0]
			if al.Category != incident.Outage || al.Severity != incident.P1 || al.Title != "Clerk: Elevated 500 rates" ||
				al.Update != "We are investigating" || al.Components[0] != "Session management" || al.Key != "upstream:01KUP" {
				t.Fatalf("alert %+v", al)
			}
			// Flapping: the incident vanishes and returns ten times.
			for range 10 {
				hidden := fs.Hide("01KUP")
				p.Poll(ctx)
				fs.Show(hidden)
				p.Poll(ctx)
			}
			// A restarted bot (a new poller, same Redis) opens nothing new.
			p2 := newPoller(t, rep, url, "", prefix)
			p2.Poll(ctx)
			p2.Poll(ctx)
			if a, th, _ := rep.counts(); a != 1 || th != 0 {
				t.Fatalf("after flapping and restart: %d alerts, %d thread notes %v", a, th, rep.threads)
			}
			fs.AddUpdate("01KUP", "identified", "A fix is being deployed")
			p2.Poll(ctx)
			p2.Poll(ctx)
			if _, th, _ := rep.counts(); th != 1 || !strings.Contains(rep.threads[0], "A fix is being deployed") || !strings.HasPrefix(rep.threads[0], "INC-1 ") {
				t.Fatalf("threads %v", rep.threads)
			}
			fs.Resolve("01KUP")
			for range 4 {
				p2.Poll(ctx)
			}
			if _, th, _ := rep.counts(); th != 2 || !strings.Contains(rep.threads[1], "resolved") || !strings.Contains(rep.threads[1], "/clerk-incident resolve INC-1") {
				t.Fatalf("threads %v", rep.threads)
			}
		})
	}
}

// The component map decides: the sign-in path is an outage (P1 for a
// full outage, P2 for a partial one) or, when only degraded, a performance
// incident; Webhooks is a webhook incident; Dashboard is an advisory in
// the channel, with no incident and no page.
func TestClassification(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	rep := &report{closed: map[string]bool{}}
	p := newPoller(t, rep, fs.StatuspageURL(), "", redistest.Prefix())
	ctx := context.Background()
	fs.StartIncident(fakestatus.Incident{ID: "W1", Name: "Webhook delays", Status: "investigating", Impact: "partial_outage", Components: []string{"Webhooks"}})
	fs.StartIncident(fakestatus.Incident{ID: "S1", Name: "Sign-in errors", Status: "investigating", Impact: "partial_outage", Components: []string{"User and authentication"}})
	fs.SetComponent("Session management", "degraded_performance") // no incident for it: keyed by components
	fs.SetComponent("Dashboard", "partial_outage")
	p.Poll(ctx)
	p.Poll(ctx)
	got := map[string]statuswatch.Alert{}
	for _, a := range rep.alerts {
		got[a.Key] = a
	}
	if len(got) != 3 {
		t.Fatalf("alerts %+v", rep.alerts)
	}
	if a := got["upstream:W1"]; a.Category != incident.Webhook || a.Severity != incident.P2 {
		t.Fatalf("webhook alert %+v", a)
	}
	if a := got["upstream:S1"]; a.Category != incident.Outage || a.Severity != incident.P2 {
		t.Fatalf("partial sign-in outage %+v", a)
	}
	if a := got["components:session management"]; a.Category != incident.Performance {
		t.Fatalf("degraded sign-in path %+v", a)
	}
	// Dashboard alone: one advisory, however long it lasts.
	fs.SetComponent("Session management", "operational")
	for range 4 {
		p.Poll(ctx)
	}
	if a, _, ch := rep.counts(); a != 3 || ch != 1 || !strings.Contains(rep.channel[0], "advisory") || !strings.Contains(rep.channel[0], "Dashboard") {
		t.Fatalf("alerts %d, channel %v", a, rep.channel)
	}
	// Components-keyed problems may open again once their incident is closed.
	fs.SetComponent("Session management", "degraded_performance")
	rep.closed["INC-3"] = true
	p.Poll(ctx)
	p.Poll(ctx)
	if a, _, _ := rep.counts(); a != 4 {
		t.Fatalf("alerts %d", a)
	}
}

// Every format, found from the page's root: operational, then a full
// outage of the sign-in path for two polls opens one incident; flapping
// opens nothing more; resolution is said once.
func TestEveryFormatFromTheRoot(t *testing.T) {
	for _, format := range []string{fakestatus.Statuspage, fakestatus.Widget, fakestatus.PageData, fakestatus.Indicator, fakestatus.Feed} {
		t.Run(format, func(t *testing.T) {
			fs := fakestatus.New()
			defer fs.Close()
			fs.Serve(format)
			rep := &report{closed: map[string]bool{}}
			p := newPoller(t, rep, fs.RootURL(), "", redistest.Prefix())
			ctx := context.Background()
			p.Poll(ctx)
			if a, _, ch := rep.counts(); a != 0 || ch != 0 {
				t.Fatalf("while operational: %d alerts, channel %v", a, rep.channel)
			}
			d, err := p.Detect(ctx)
			if err != nil || !strings.Contains(d.URL, map[string]string{fakestatus.Statuspage: "/api/v2/summary.json", fakestatus.Widget: "/api/v1/summary",
				fakestatus.PageData: "/proxy/", fakestatus.Indicator: "/api/v2/status.json", fakestatus.Feed: "/feed.rss"}[format]) {
				t.Fatalf("detected %+v, %v", d, err)
			}
			fs.StartIncident(fakestatus.Incident{ID: "01KUP", Name: "Sign-in failing", Status: "investigating", Impact: "full_outage",
				Components: []string{"User and authentication"}, Updates: []string{"We are investigating"}})
			p.Poll(ctx)
			if a, _, _ := rep.counts(); a != 0 {
				t.Fatal("alert after one poll; want confirmation")
			}
			p.Poll(ctx)
			if a, _, _ := rep.counts(); a != 1 || rep.alerts[0].Category != incident.Outage || rep.alerts[0].Severity != incident.P1 {
				t.Fatalf("alerts %+v", rep.alerts)
			}
			for range 5 {
				hidden := fs.Hide("01KUP")
				p.Poll(ctx)
				fs.Show(hidden)
				p.Poll(ctx)
			}
			if a, _, _ := rep.counts(); a != 1 {
				t.Fatalf("after flapping: %d alerts", a)
			}
			fs.Resolve("01KUP")
			for range 4 {
				p.Poll(ctx)
			}
			var resolved int
			for _, th := range rep.threads {
				if strings.Contains(th, "resolved") || strings.Contains(th, "no longer shows") {
					resolved++
				}
			}
			if resolved != 1 {
				t.Fatalf("resolution messages %d: %v", resolved, rep.threads)
			}
		})
	}
}

// A page that serves only its indicator: major opens one P2 outage,
// minor is an advisory.
func TestIndicatorOnly(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	fs.Serve(fakestatus.Indicator)
	rep := &report{closed: map[string]bool{}}
	p := newPoller(t, rep, fs.RootURL(), "", redistest.Prefix())
	ctx := context.Background()
	fs.SetIndicator("minor")
	for range 3 {
		p.Poll(ctx)
	}
	if a, _, ch := rep.counts(); a != 0 || ch != 1 {
		t.Fatalf("minor: %d alerts, channel %v", a, rep.channel)
	}
	fs.SetIndicator("major")
	for range 3 {
		p.Poll(ctx)
	}
	if a, _, _ := rep.counts(); a != 1 || rep.alerts[0].Category != incident.Outage || rep.alerts[0].Severity != incident.P2 {
		t.Fatalf("major: %+v", rep.alerts)
	}
}

// Scheduled maintenance opens nothing and is said once.
func TestMaintenanceOpensNothing(t *testing.T) {
	for _, format := range []string{fakestatus.Statuspage, fakestatus.Widget, fakestatus.PageData, fakestatus.Feed} {
		t.Run(format, func(t *testing.T) {
			fs := fakestatus.New()
			defer fs.Close()
			fs.Serve(format)
			fs.ScheduleMaintenance(fakestatus.Planned{ID: "M1", Name: "Database upgrade", Components: []string{"User and authentication"}})
			rep := &report{closed: map[string]bool{}}
			p := newPoller(t, rep, fs.RootURL(), "", redistest.Prefix())
			ctx := context.Background()
			for range 4 {
				p.Poll(ctx)
			}
			if a, _, ch := rep.counts(); a != 0 || ch != 1 || !strings.Contains(rep.channel[0], "Database upgrade") || !strings.Contains(rep.channel[0], "maintenance") {
				t.Fatalf("%d alerts, channel %v", a, rep.channel)
			}
		})
	}
}

// A root that serves none of the formats: each candidate is named with
// what it answered, and polls fail with that sentence.
func TestNoFormatNamesEachCandidate(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	fs.Serve() // nothing answers
	rep := &report{closed: map[string]bool{}}
	p := newPoller(t, rep, fs.RootURL(), "", redistest.Prefix())
	d, err := p.Detect(context.Background())
	if err == nil || len(d.Tried) != 7 {
		t.Fatalf("%+v, %v", d, err)
	}
	for _, c := range d.Tried {
		if c.Answer != "HTTP 404" || !strings.Contains(err.Error(), c.URL+": HTTP 404") {
			t.Fatalf("candidate %+v in %v", c, err)
		}
	}
}

func TestComponentMapFile(t *testing.T) {
	if _, err := statuswatch.LoadComponentMap("built-in", []byte(statuswatch.DefaultComponents)); err != nil {
		t.Fatal(err)
	}
	m, err := statuswatch.LoadComponentMap("c.yml", []byte("components:\n  Dashboard: outage\n  Webhooks: advisory\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cat, _, ok := m.Decide([]string{"dashboard"}, statuswatch.Major); !ok || cat != incident.Outage {
		t.Fatalf("replaced map: %v %v", cat, ok)
	}
	if _, _, ok := m.Decide([]string{"Webhooks"}, statuswatch.Major); ok {
		t.Fatal("Webhooks made advisory still opens")
	}
	_, err = statuswatch.LoadComponentMap("c.yml", []byte("components:\n  Dashboard: outage\n  Webhooks: page-everyone\n  dashboard: webhook\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yml") || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("errors: %v", err)
	}
}

// Clerk's page lists Account Portal (hosted sign-in) and Machine
// authentication; an outage of either is on the sign-in path and pages.
// "Sign-in" and "Sign-up" are not components there.
func TestDefaultMapPagesForRealSignInComponents(t *testing.T) {
	m := statuswatch.DefaultComponentMap()
	for _, c := range []string{"Account Portal", "Machine authentication"} {
		if cat, sev, ok := m.Decide([]string{c}, statuswatch.Major); !ok || cat != incident.Outage || sev != incident.P1 {
			t.Errorf("%s major outage: %v %v %v", c, cat, sev, ok)
		}
	}
	for _, n := range m.Names() {
		if n == "Sign-in" || n == "Sign-up" {
			t.Errorf("default map lists %q, which is not a component of Clerk's page", n)
		}
	}
}

func TestStatusPageOutageWarnsOnceAndRecovers(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	rep := &report{closed: map[string]bool{}}
	p := newPoller(t, rep, fs.StatuspageURL(), "", redistest.Prefix())
	ctx := context.Background()
	p.Poll(ctx)
	p.Poll(ctx)
	if _, notMod := fs.Requests(); notMod != 1 {
		t.Fatalf("conditional request not used: %d 304s", notMod)
	}
	fs.Break(true)
	for range 8 {
		p.Poll(ctx)
	}
	if a, _, ch := rep.counts(); a != 0 || ch != 1 || !strings.Contains(rep.channel[0], "could not be read for 5 polls") {
		t.Fatalf("alerts %d, channel %v", a, rep.channel)
	}
	fs.Break(false)
	p.Poll(ctx)
	p.Poll(ctx)
	if _, _, ch := rep.counts(); ch != 2 || !strings.Contains(rep.channel[1], "can be read again") {
		t.Fatalf("channel %v", rep.channel)
	}
}

func TestAppHealthOpensOnceAndRecovers(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	rep := &report{closed: map[string]bool{}}
	p := newPoller(t, rep, "", fs.HealthURL(), redistest.Prefix())
	ctx := context.Background()
	fs.SetHealth(503, 0)
	p.Poll(ctx)
	p.Poll(ctx)
	if a, _, _ := rep.counts(); a != 0 {
		t.Fatal("opened before 3 failures")
	}
	for range 5 {
		p.Poll(ctx)
	}
	if a, _, _ := rep.counts(); a != 1 || rep.alerts[0].Category != incident.Outage || !strings.Contains(rep.alerts[0].Impact, "status 503") {
		t.Fatalf("alerts %+v", rep.alerts)
	}
	fs.SetHealth(200, 0)
	p.Poll(ctx)
	p.Poll(ctx)
	if _, th, _ := rep.counts(); th != 1 || !strings.Contains(rep.threads[0], "recovered: 200") {
		t.Fatalf("threads %v", rep.threads)
	}
}

// Two pollers on one Redis, both told to poll each round: one lease
// holder, one alert per change.
func TestTwoPollersOneAlert(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	rep := &report{closed: map[string]bool{}}
	prefix := redistest.Prefix()
	a := newPoller(t, rep, fs.StatuspageURL(), "", prefix)
	b := newPoller(t, rep, fs.StatuspageURL(), "", prefix)
	ctx := context.Background()
	fs.StartIncident(fakestatus.Incident{ID: "X", Name: "Outage", Status: "investigating", Impact: "full_outage", Components: []string{"User and authentication"}})
	for range 4 {
		var wg sync.WaitGroup
		for _, p := range []*statuswatch.Poller{a, b} {
			wg.Go(func() {
				if p.TryLead(ctx) {
					p.Poll(ctx)
				}
			})
		}
		wg.Wait()
	}
	if n, _, _ := rep.counts(); n != 1 {
		t.Fatalf("alerts %d", n)
	}
	if a.TryLead(ctx) == b.TryLead(ctx) {
		t.Fatal("both or neither hold the lease")
	}
}

// A partial outage of the Dashboard alone: one advisory in the channel,
// however long it lasts; no incident, so nobody is paged.
func TestDashboardOnlyIsAnAdvisory(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	rep := &report{closed: map[string]bool{}}
	p := newPoller(t, rep, fs.RootURL(), "", redistest.Prefix())
	ctx := context.Background()
	fs.StartIncident(fakestatus.Incident{ID: "D1", Name: "Dashboard unavailable", Status: "investigating", Impact: "partial_outage", Components: []string{"Dashboard"}})
	for range 6 {
		p.Poll(ctx)
	}
	if a, th, ch := rep.counts(); a != 0 || th != 0 || ch != 1 || !strings.Contains(rep.channel[0], "Dashboard unavailable") || !strings.Contains(rep.channel[0], "nobody was paged") {
		t.Fatalf("%d alerts, %d thread notes, channel %v", a, th, rep.channel)
	}
}
