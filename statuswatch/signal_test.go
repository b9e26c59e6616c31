package statuswatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// An alert carries its first signal for the incident's detected
// milestone: the first of the bad polls (Interval apart, 1 minute here;
// the poller's clock says 03:00) and where it came from.
func TestAlertCarriesItsFirstSignal(t *testing.T) {
	ctx := context.Background()
	fs := fakestatus.New()
	defer fs.Close()
	at := func(hhmm string) time.Time {
		tm, _ := time.Parse("2006-01-02 15:04", "2026-11-25 "+hhmm)
		return tm
	}

	rep := &report{closed: map[string]bool{}}
	p := newPoller(t, rep, "", fs.HealthURL(), redistest.Prefix())
	fs.SetHealth(503, 0)
	for range 3 { // HealthConfirm is 3
		p.Poll(ctx)
	}
	if a, _, _ := rep.counts(); a != 1 || !rep.alerts[0].Detected.Equal(at("02:58")) || rep.alerts[0].Source != incident.SourceAppHealth {
		t.Fatalf("health alert %+v", rep.alerts)
	}

	rep = &report{closed: map[string]bool{}}
	p = newPoller(t, rep, fs.StatuspageURL(), "", redistest.Prefix())
	fs.StartIncident(fakestatus.Incident{ID: "01KUP", Name: "Elevated 500 rates", Status: "investigating", Impact: "full_outage",
		Components: []string{"Session management"}, Updates: []string{"We are investigating"}})
	p.Poll(ctx)
	p.Poll(ctx) // Confirm is 2
	if a, _, _ := rep.counts(); a != 1 || !rep.alerts[0].Detected.Equal(at("02:59")) || rep.alerts[0].Source != incident.SourceStatusPage {
		t.Fatalf("status alert %+v", rep.alerts)
	}
}
