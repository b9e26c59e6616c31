package app_test

import (
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// Carol is comms of INC-2, outside the responders (a Slack user group
// whose handle the bot cannot read). Refused on INC-1, she is told whom
// to ask (the group's members, and who leads INC-1) and that her rights
// are INC-2's, not that of some unnamed "Slack user group".
func TestRefusalNamesSomeoneToAskAndWhereYourRightsAre(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	for id, name := range map[string]string{"U1": "alice", "U2": "bob", "U3": "carol"} {
		fs.AddUser(id, name)
	}
	fs.SetGroup("SONCALL", "U1", "U2")
	apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "SLACK_RESPONDERS": "SONCALL"}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U2", "C1", "ack INC-1")
	fs.ExpectEphemeral(t, "U2", "You are leading INC-1")
	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	fs.ExpectMessage(t, "CINC", "INC-2 · Users not syncing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U1", "C1", "role INC-2 comms <@U3|carol>")
	fs.ExpectEphemeral(t, "U1", "is now comms of INC-2")

	fs.Command(t, "U3", "C1", "note INC-1 is this ours?")
	m := fs.ExpectEphemeral(t, "U3", "Only incident responders may use `note`", "Nothing changed")
	text := m.Render()
	for _, want := range []string{"a Slack user group: <@U1>, <@U2>", "Ask <@U2>, who leads INC-1", "You are comms of INC-2: that lets you act on that incident only, not on INC-1"} {
		if !strings.Contains(text, want) {
			t.Errorf("refusal lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "(responders: a Slack user group)") {
		t.Errorf("refusal names no one to ask:\n%s", text)
	}
	fs.Command(t, "U3", "C1", "note INC-2 drafting the update")
	fs.ExpectEphemeral(t, "U3", "Note added")

	// help says who may run an incident-scoped command (it left Who blank).
	fs.Command(t, "U3", "C1", "help note")
	fs.ExpectEphemeral(t, "U3", "*Who:* incident responders (SLACK_RESPONDERS); on one incident also whoever its escalation ladder pages, and its commander and comms person")
}
