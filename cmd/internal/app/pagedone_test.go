package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// current is the message as Slack shows it now.
func current(t *testing.T, fs *fakeslack.Server, m *fakeslack.Message) fakeslack.Message {
	t.Helper()
	for _, x := range fs.Messages() {
		if x.Channel == m.Channel && x.TS == m.TS {
			return x
		}
	}
	t.Fatalf("message %s %s is gone", m.Channel, m.TS)
	return fakeslack.Message{}
}

func noAckButton(t *testing.T, fs *fakeslack.Server, m *fakeslack.Message) {
	t.Helper()
	now := current(t, fs, m)
	for _, b := range now.Buttons() {
		if b.Label == "Acknowledge" {
			t.Fatalf("page DM in %s still has its Acknowledge button:\n%s", m.Channel, now.Render())
		}
	}
}

func dmPosts(fs *fakeslack.Server) int {
	n := 0
	for _, m := range fs.Messages() {
		if strings.HasPrefix(m.Channel, "D") {
			n++
		}
	}
	return n
}

// Two levels are paged by DM; bob acknowledges from the card: both page
// DMs are rewritten in place to say who acknowledged and when, without
// the button, even though one of them cannot be updated (its DM is gone)
// — that one is logged and the other still is. Resolving rewrites them
// again; nothing more is paged.
func TestPageDMsSayWhoAcknowledgedAndResolved(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.SetProfile("U2", "Bob Jones", "Robert Jones")
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	clock, tick, bot := startLadderEnv(t, fs, ladderContacts, nil, app.Options{Manual: app.Loops{Engine: true, Sweep: true}})

	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tick()
	dm1 := fs.ExpectMessage(t, "DU1", "level 1 (On-call engineer)")
	clock.Add(15 * time.Minute)
	tick()
	dm2 := fs.ExpectMessage(t, "DU2", "level 2 (Engineering lead)")
	clock.Add(2 * time.Minute) // 03:17

	// alice's DM can no longer be updated; bob's still can.
	fs.SetChannel("DU1", "channel_not_found")
	fs.Click(t, "U2", card, "Acknowledge")
	fs.ExpectUpdated(t, dm2, "Acknowledged by Bob Jones at 03:17 UTC")
	noAckButton(t, fs, dm2)
	if c := current(t, fs, dm1); c.Versions != 1 {
		t.Fatalf("the DM that could not be updated changed: %s", c.Render())
	}
	if !strings.Contains(bot.Logs.String(), "could not update a page DM") {
		t.Fatalf("the failed DM update was not logged:\n%s", bot.Logs.String())
	}

	fs.SetChannel("DU1", "")
	clock.Add(40 * time.Minute) // 03:57
	fs.Command(t, "U1", "C1", "resolve INC-1 rolled back")
	fs.ExpectUpdated(t, dm1, "Resolved by alice at 03:57 UTC")
	fs.ExpectUpdated(t, dm2, "Resolved by alice at 03:57 UTC")
	noAckButton(t, fs, dm1)
	noAckButton(t, fs, dm2)

	// The ladder has stopped: nothing more is paged, ever.
	posted := dmPosts(fs)
	clock.Add(2 * time.Hour)
	tick()
	if n := dmPosts(fs); n != posted {
		t.Fatalf("%d page DMs after the resolve", n-posted)
	}
}

// Acknowledged from one page DM: every other page DM of the incident says
// so too, and the clicked one keeps the acknowledger's confirmation.
func TestAckFromOneDMUpdatesTheOthers(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.SetProfile("U1", "", "Alice Smith") // no display name: Slack shows the real name
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	clock, tick := startLadder(t, fs, ladderContacts, app.Options{Manual: app.Loops{Engine: true, Sweep: true}})

	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tick()
	dm1 := fs.ExpectMessage(t, "DU1", "level 1 (On-call engineer)")
	clock.Add(15 * time.Minute)
	tick()
	dm2 := fs.ExpectMessage(t, "DU2", "level 2 (Engineering lead)")

	fs.Click(t, "U1", dm1, "Acknowledge")
	fs.ExpectUpdated(t, dm1, "You acknowledged *INC-1*")
	fs.ExpectUpdated(t, dm2, "Acknowledged by Alice Smith at 03:15 UTC")
	noAckButton(t, fs, dm1)
	noAckButton(t, fs, dm2)
}
