package app_test

import (
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// The commander of a slow sign-in measures with `diagnose`: the two
// measurement steps tick themselves, and `--chart` draws what was just
// timed (it said no endpoint was timed). `resolve` ticks "Document
// timeline and actions", which the bot kept; the branch-free performance
// checklist counts its 7 steps.
func TestDiagnoseTicksTheMeasurementStepsAndChartsThem(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	fc := fakeclerk.New()
	defer fc.Close()
	st.SetHealth(200, 0)
	prefix := redistest.Prefix()
	startWatching(t, fs, map[string]string{"STATUS_POLL_SCHEDULE": "off", "APP_HEALTH_URL": st.HealthURL(), "REDIS_KEY_PREFIX": prefix,
		"CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(), "CHART_PROGRAM": apptest.Build(t, "../../clerk-incident-chart")})
	fs.Command(t, "U1", "C1", "open performance Sign-in slow")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in slow")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tickedIn(t, prefix, "INC-1", incident.StepMeasureAPI, false)

	fs.Command(t, "U1", "C1", "diagnose 3 --chart")
	fs.ExpectEphemeral(t, "U1", "Diagnosis", "3 samples")
	fs.ExpectEphemeral(t, "U1", "latency is in the INC-1 thread")
	if f := fs.ExpectFileNamed(t, "CINC", "clerk-latency-"); f.ThreadTS != card.TS {
		t.Errorf("diagnose chart in thread %q, want the card's", f.ThreadTS)
	}
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text+string(m.Blocks), "timed no Clerk endpoint") {
			t.Fatalf("right after timing, the bot says nothing was timed: %s", m.Text)
		}
	}
	if tick := tickedIn(t, prefix, "INC-1", incident.StepMeasureAPI, true); tick.By.ID != "U1" {
		t.Fatalf("API step ticked by %+v", tick.By)
	}
	tickedIn(t, prefix, "INC-1", incident.StepMeasureApp, true)
	fs.ExpectUpdated(t, card, "2/7 steps done")

	fs.Command(t, "U1", "C1", "resolve INC-1 cache added")
	fs.ExpectEphemeral(t, "U1", "INC-1 is resolved")
	tickedIn(t, prefix, "INC-1", incident.StepTimeline, true)
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"resolved INC-1"}})
	line := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"the report will lack"}}).Render()
	if strings.Contains(line, "Document timeline") {
		t.Errorf("resolve still asks for the timeline the bot kept:\n%s", line)
	}
}

// The commander of an outage: headers are not steps (no Tick button, not
// counted); steps left unticked at resolve can still be ticked from the
// checklist's buttons, until a complete report is written; `postmortem`
// ticks "Conduct post-mortem" itself.
func TestTicksAfterResolveUntilTheReportIsFinal(t *testing.T) {
	h := startSecurity(t, nil)
	s := h.slack
	s.Command(t, "U1", "C1", "open outage Sign-in down")
	card := s.ExpectMessage(t, "CINC", "INC-1")
	checklist := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	s.ExpectEphemeral(t, "U1", "Opened")
	for _, b := range checklist.Buttons() {
		if strings.Contains(b.Value, "|4|") || strings.Contains(b.Value, "|5|") {
			t.Fatalf("a branch header has a button: %+v", b)
		}
	}
	if !strings.Contains(card.Render(), "0/11 steps done") {
		t.Fatalf("branch headers are counted:\n%s", card.Render())
	}
	for _, cmd := range []string{"impact INC-1 all users", "rootcause INC-1 expired key", "prevention INC-1 alert on key expiry", "lessons INC-1 watch keys"} {
		s.Command(t, "U1", "C1", cmd)
		s.ExpectEphemeral(t, "U1", "recorded")
	}
	s.Command(t, "U1", "C1", "resolve INC-1 rotated the key")
	s.ExpectEphemeral(t, "U1", "INC-1 is resolved", "1 Confirm outage")
	s.ExpectUpdated(t, card, "Resolved")

	// The thread's checklist keeps its Tick buttons after resolve.
	checklist = s.ExpectUpdated(t, checklist, "Auth Outage Response")
	s.Click(t, "U2", checklist, "Tick") // step 1
	s.ExpectUpdated(t, checklist, "~Confirm outage (check status.clerk.com)~")
	h.ticked(t, "INC-1", incident.StepConfirmOutage, true)

	s.Command(t, "U1", "C1", "postmortem INC-1")
	s.ExpectFile(t, "CINC", "# Incident Report")
	s.ExpectEphemeral(t, "U1", "every field is filled in")
	h.ticked(t, "INC-1", incident.StepPostmortem, true)

	// The report is final: the checklist is what it says.
	s.Command(t, "U2", "C1", "tick INC-1 2")
	s.ExpectEphemeral(t, "U2", "its report is final")
	h.ticked(t, "INC-1", "Check application logs", false)
}

// The security commander records an account as affected by hand: that
// is "Identify affected accounts", and only that.
func TestAffectedAddTicksIdentifyAffectedAccounts(t *testing.T) {
	h := startSecurity(t, nil)
	eve := h.clerk.AddUser("Eve", "eve@example.com", 1)
	h.open(t, "open security Account takeover")
	h.ticked(t, "INC-1", incident.StepAffected, false)
	h.slack.Command(t, "U1", "C1", "affected add "+eve.ID)
	h.slack.ExpectEphemeral(t, "U1", "1 account(s) added")
	if tick := h.ticked(t, "INC-1", incident.StepAffected, true); tick.By.ID != "U1" {
		t.Fatalf("ticked by %+v", tick.By)
	}
	h.ticked(t, "INC-1", incident.StepAccessLogs, false)
}
