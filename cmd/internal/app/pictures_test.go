package app_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/chart"
	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
)

// decodePNG checks that what reached Slack is a real image.
func decodePNG(t *testing.T, f *fakeslack.File) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader([]byte(f.Content)))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", f.Name, err)
	}
	return img
}

func pixelsOf(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(bl>>8) == want.B {
				n++
			}
		}
	}
	return n
}

// An incident paged, acknowledged 90 s later, mitigated and resolved,
// with Clerk's probes timed all along: the report comes with its timeline
// (each milestone drawn) and Clerk's latency over the incident, and
// `status --chart` / `diagnose INC-n --chart` attach the last hour. The
// charts are drawn by the real chart program, as in production.
func TestReportAndStatusComeWithCharts(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	fc := fakeclerk.New()
	defer fc.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	clock, tick, bot := startLadderEnv(t, fs, ladderContacts, map[string]string{"STATUS_POLL_SCHEDULE": "@every 1m",
		"CLERK_STATUS_URL": st.StatuspageURL(), "CHART_PROGRAM": apptest.Build(t, "../../clerk-incident-chart"), "CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL()},
		app.Options{Manual: app.Loops{Engine: true, Sweep: true, Poll: true}})
	pollNow := func() {
		if bot.Poller.TryLead(context.Background()) {
			bot.Poller.Poll(context.Background())
		}
		if bot.Poller.TryLeadProbes(context.Background()) {
			bot.Poller.PollProbes(context.Background())
		}
	}

	// Before asking: no samples, so status --chart says why, and posts nothing.
	fs.Command(t, "U1", "C1", "status --chart")
	fs.ExpectEphemeral(t, "U1", "No chart", "timed no Clerk endpoint")

	pollNow()
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tick()
	fs.ExpectMessage(t, "DU1", "level 1 (On-call engineer)")
	clock.Add(90 * time.Second)
	fs.Command(t, "U1", "C1", "ack INC-1")
	fs.ExpectEphemeral(t, "U1", "You are leading INC-1")
	for range 5 {
		clock.Add(time.Minute)
		pollNow()
	}
	fs.Command(t, "U1", "C1", "mitigated INC-1")
	fs.ExpectEphemeral(t, "U1", "INC-1 is mitigated")
	clock.Add(10 * time.Minute)
	pollNow()
	fs.Command(t, "U1", "C1", "resolve INC-1")
	fs.ExpectEphemeral(t, "U1", "INC-1 is resolved")
	fs.ExpectUpdated(t, card, "Resolved")

	fs.Command(t, "U1", "C1", "postmortem INC-1")
	fs.ExpectFile(t, "CINC", "# Incident Report")
	tl := fs.ExpectFileNamed(t, "CINC", "INC-1-timeline.png")
	if tl.ThreadTS != card.TS {
		t.Errorf("timeline in thread %q, want the card's %q", tl.ThreadTS, card.TS)
	}
	img := decodePNG(t, tl)
	for _, m := range []string{chartdata.Detected, chartdata.Acknowledged, chartdata.Mitigated, chartdata.Resolved} {
		if n := pixelsOf(img, chart.MilestoneColor(m)); n < 150 {
			t.Errorf("milestone %s: %d pixels of its colour in the timeline, want its line", m, n)
		}
	}
	decodePNG(t, fs.ExpectFileNamed(t, "CINC", "INC-1-latency.png"))

	// The last hour on request: into the asker's DM for status, into the
	// thread for diagnose of an incident.
	fs.Command(t, "U2", "C1", "status --chart")
	fs.ExpectEphemeral(t, "U2", "in your direct messages")
	decodePNG(t, fs.ExpectFileNamed(t, "DU2", "clerk-latency-"))
	fs.Command(t, "U1", "C1", "diagnose INC-1 1 --chart")
	fs.ExpectEphemeral(t, "U1", "Diagnosis", "1 samples")
	fs.ExpectEphemeral(t, "U1", "latency is in the INC-1 thread")
	if f := fs.ExpectFileNamed(t, "CINC", "clerk-latency-"); f.ThreadTS != card.TS {
		t.Errorf("diagnose chart in thread %q, want the card's", f.ThreadTS)
	}

	// status of a named incident puts the chart in its thread.
	fs.Command(t, "U2", "C1", "status INC-1 --chart")
	fs.ExpectEphemeral(t, "U2", "INC-1")
	fs.ExpectEphemeral(t, "U2", "latency is in the INC-1 thread")
	if f := fs.ExpectFileNamed(t, "CINC", "clerk-latency-"); f.ThreadTS != card.TS {
		t.Errorf("status chart in thread %q, want the card's", f.ThreadTS)
	}

	// stats answers with its numbers, and its chart goes to the asker.
	fs.Command(t, "U3", "C1", "stats")
	fs.ExpectEphemeral(t, "U3", "*Incidents, last 30 days*", "p50 1 minute 30 seconds")
	fs.ExpectEphemeral(t, "U3", "chart of these numbers is in your direct messages")
	decodePNG(t, fs.ExpectFileNamed(t, "DU3", "incident-stats-30d-"))
}
