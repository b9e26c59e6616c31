package app_test

import (
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// `resolve` with no impact recorded and required steps unticked resolves
// anyway and says what the report will lack; optional steps (the "If …"
// branches, the post-mortem) are not asked for. With everything recorded
// it says nothing more.
func TestResolveSaysWhatTheReportWillLack(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC"}})
	rdb, _ := redistest.Client(t)
	store := incident.NewStore(rdb, bot.Prefix, nil)
	rb, err := incident.LoadRunbook("runbook.yml", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	tick := func(id string, steps ...string) {
		t.Helper()
		for _, st := range steps {
			if _, err := store.Update(t.Context(), id, incident.SetTick(rb, incident.Person{ID: "U1"}, st, true)); err != nil {
				t.Fatal(err)
			}
		}
	}

	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	tick("INC-1", "1")
	fs.Command(t, "U1", "C1", "resolve INC-1 Clerk recovered")
	lacks := []string{":warning: Resolved anyway, but the report will lack the impact (`/clerk-incident impact INC-1 &lt;affected users&gt;`)",
		"any record that these 2 checklist steps were done: 2 Check application logs for errors, 3 Verify environment variables (tick them if they were)"}
	reply := fs.ExpectEphemeral(t, "U1", append([]string{"INC-1 is resolved."}, lacks...)...)
	// "6 Document timeline" is done: the bot kept the timeline, and
	// resolve ticks it.
	for _, optional := range []string{"4a", "5a", "7 Conduct", "1 Confirm", "6 Document"} {
		if strings.Contains(reply.Render(), optional) {
			t.Fatalf("asks for %q:\n%s", optional, reply.Render())
		}
	}
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: append([]string{"resolved INC-1"}, lacks...)})
	if inc, err := store.Current(t.Context(), "INC-1"); err != nil || inc.Open() {
		t.Fatalf("not resolved: %v %v", inc, err)
	}

	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	fs.ExpectMessage(t, "CINC", "INC-2 · Users not syncing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U1", "C1", "impact INC-2 About 40 users missing")
	fs.ExpectEphemeral(t, "U1", "Impact")
	tick("INC-2", "1", "2", "3", "4", "5", "6", "7")
	fs.Command(t, "U1", "C1", "resolve INC-2 Replayed")
	done := fs.ExpectEphemeral(t, "U1", "INC-2 is resolved.")
	if strings.Contains(done.Render(), "will lack") {
		t.Fatalf("nudged with everything recorded:\n%s", done.Render())
	}
}
