package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// An incident touched by a Slack user (alice, whose payloads say "alice"
// and whose profile says "Alice Smith"), a paged contact (bob: "Engineering
// Lead" in contacts.yml, "bob" in payloads, "Bob Jones" in Slack) and a CLI
// operator: the report names each person one way everywhere, the Slack ID
// only in the people section.
func TestReportNamesEachPersonOneWay(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.SetProfile("U1", "Alice Smith", "Alice Smith")
	fs.SetProfile("U2", "Bob Jones", "Robert Jones")
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	contacts := strings.Replace(ladderContacts, "    - name: Engineering Lead\n      email: bob@example.com",
		"    - name: Engineering Lead\n      slack_id: U2", 1)
	clock, tick, bot := startLadderEnv(t, fs, contacts, nil, app.Options{Manual: app.Loops{Engine: true, Sweep: true}})

	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tick()
	fs.ExpectMessage(t, "DU1", "level 1 (On-call engineer)")
	clock.Add(15 * time.Minute)
	tick()
	fs.ExpectMessage(t, "DU2", "level 2 (Engineering lead)")
	fs.Command(t, "U2", "C1", "ack INC-1")
	fs.ExpectEphemeral(t, "U2", "You are leading INC-1")

	// The operator, from a shell, against the same Redis.
	cfg, err := app.Load(func(k string) string {
		return map[string]string{"SLACK_BOT_TOKEN": "xoxb-unused", "SLACK_APP_TOKEN": "xapp-unused", "SLACK_API_URL": "http://127.0.0.1:1/api/",
			"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": bot.Prefix, "SLACK_CHANNEL_ID": "CINC", "STATUS_POLL_SCHEDULE": "off"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := app.Do(context.Background(), cfg, []string{"note", "INC-1", "restarted", "the", "pods"}, "dana", "", &out, &errOut); err != nil {
		t.Fatalf("do note: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Note added") {
		t.Fatalf("do note: %s", out.String())
	}
	fs.Command(t, "U1", "C1", "note INC-1 sign-in works again")
	fs.ExpectEphemeral(t, "U1", "Note added to INC-1")
	fs.Command(t, "U1", "C1", "postmortem INC-1")
	report := fs.ExpectFile(t, "CINC", "# Incident Report").Content

	for _, want := range []string{
		"- **Opened by:** Alice Smith (U1)\n",
		"- **Led by:** Bob Jones (U2)\n",
		"Incident opened: Sign-in failing (outage, P1) (Alice Smith)\n",
		"Paged level 1 (On-call engineer, 0-15 min): Alice Smith (escalation)\n",
		"Paged level 2 (Engineering lead, 15-30 min): Bob Jones (escalation)\n",
		"Acknowledged; now leading the response (Bob Jones)\n",
		"restarted the pods (dana (CLI))\n",
		"sign-in works again (Alice Smith)\n",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	// One name per person: never the handle from a payload, the
	// contacts.yml name, nor an ID on a timeline line.
	timeline := report[strings.Index(report, "## Timeline"):]
	for _, never := range []string{"(alice)", "(bob)", "Engineering Lead", "(U1)", "(U2)", "cli:"} {
		if strings.Contains(timeline, never) {
			t.Errorf("the timeline says %q:\n%s", never, timeline)
		}
	}
}
