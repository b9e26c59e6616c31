package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatuspage"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// With an injected clock and two replicas sweeping at once: a P1 with no
// update for 20 minutes reminds its commander once; Snooze holds the next
// one off for 30 minutes; then it fires once more, to the comms person
// once one is named.
func TestUpdateRemindersFireOnceAcrossReplicasAndSnooze(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	clock := &testClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
	prefix := redistest.Prefix()
	var sweeps []func(ctx context.Context)
	for range 2 {
		b := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC"},
			Options: app.Options{Manual: app.Loops{Sweep: true}, Now: clock.Now}})
		sweeps = append(sweeps, b.Sweep)
	}
	sweep := func() {
		var wg sync.WaitGroup
		for _, s := range sweeps {
			wg.Go(func() { s(context.Background()) })
		}
		wg.Wait()
	}
	reminders := func() []fakeslack.Message {
		var out []fakeslack.Message
		for _, m := range fs.Messages() {
			if strings.Contains(m.Text, ":bell:") {
				out = append(out, m)
			}
		}
		return out
	}
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.Command(t, "U1", "C1", "ack")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"acknowledged INC-1"}})

	clock.Add(19 * time.Minute)
	sweep()
	if n := len(reminders()); n != 0 {
		t.Fatalf("%d reminders before 20 minutes", n)
	}
	clock.Add(2 * time.Minute)
	sweep()
	sweep()
	first := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{":bell: <@U1>, no update on INC-1 for 21 min", "Draft an update", "Snooze 30m"}})
	if n := len(reminders()); n != 1 {
		t.Fatalf("%d reminders from two replicas, want 1", n)
	}
	fs.Click(t, "U1", first, "Draft an update")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1", "Investigating: Problems signing in", "next update will come by 03:41 UTC"}})
	fs.ExpectEphemeral(t, "U1", "A draft update for INC-1 is in its thread")
	fs.Click(t, "U1", first, "Snooze 30m")
	fs.ExpectEphemeral(t, "U1", "snoozed for 30 minutes")

	clock.Add(25 * time.Minute) // 46 min: due at 41 by the interval, but snoozed until 51
	sweep()
	if n := len(reminders()); n != 1 {
		t.Fatalf("%d reminders while snoozed", n)
	}
	clock.Add(6 * time.Minute) // 52 min
	sweep()
	sweep()
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{":bell: <@U1>"}})
	if n := len(reminders()); n != 2 {
		t.Fatalf("%d reminders after the snooze, want 2", n)
	}

	fs.Command(t, "U1", "C1", "role comms <@U2>")
	fs.ExpectEphemeral(t, "U1", "<@U2> is now comms of INC-1")
	fs.ExpectUpdated(t, card, "*Comms*", "<@U2>")
	clock.Add(21 * time.Minute)
	sweep()
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{":bell: <@U2>"}})
	// A note is an update: the clock restarts.
	fs.Command(t, "U1", "C1", "note Clerk is rolling out a fix")
	fs.ExpectEphemeral(t, "U1", "Note added")
	clock.Add(15 * time.Minute)
	sweep()
	if n := len(reminders()); n != 3 {
		t.Fatalf("%d reminders 15 minutes after a note, want 3", n)
	}
}

// update draft → Edit (a modal, submitted) → Post: the text goes to the
// announcement channel and opens a Statuspage incident; "Notify users via
// status page" is ticked; a second Post posts nothing; resolving resolves
// the Statuspage incident too.
func TestCustomerUpdateDraftEditPostAndResolve(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	sp := fakestatuspage.New()
	defer sp.Close()
	prefix := redistest.Prefix()
	apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "STATUS_UPDATE_CHANNEL": "CANN",
		"STATUSPAGE_API_KEY": sp.Key, "STATUSPAGE_PAGE_ID": sp.Page, "STATUSPAGE_API_URL": sp.URL()}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.Command(t, "U1", "C1", "update draft")
	draft := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1", "Some users cannot sign in", "[Edit] [Post] [Discard]"}})
	fs.ExpectEphemeral(t, "U1", "Edit it, then Post it to <#CANN> and the status page")

	// A click whose trigger expired before views.open says to click again.
	fs.ExpireTriggers(true)
	fs.Click(t, "U1", draft, "Edit")
	fs.ExpectEphemeral(t, "U1", "click Edit again", "The draft is unchanged")
	fs.ExpireTriggers(false)
	fs.Click(t, "U1", draft, "Edit")
	view, err := fs.WaitView("U1", fakeslack.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	edited := "We are investigating failed sign-ins for some users. Next update by 04:00 UTC."
	id, err := fs.SubmitView("U1", view, edited)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.WaitAck(id, fakeslack.Timeout); err != nil {
		t.Fatal(err)
	}
	fs.ExpectUpdated(t, draft, edited)

	tickedIn(t, prefix, "INC-1", incident.StepNotifyUsers, false)
	var post fakeslack.Button
	for _, b := range fs.Messages() {
		if b.TS == draft.TS {
			for _, bt := range b.Buttons() {
				if bt.Label == "Post" {
					post = bt
				}
			}
		}
	}
	fs.Click(t, "U1", draft, "Post")
	fs.ExpectMessage(t, "CANN", edited)
	fs.ExpectEphemeral(t, "U1", "Posted to <#CANN> and the status page")
	fs.ExpectUpdated(t, draft, "posted to <#CANN> and the status page by <@U1>")
	tickedIn(t, prefix, "INC-1", incident.StepNotifyUsers, true)
	incs := sp.Incidents()
	if len(incs) != 1 || incs[0].Name != "Sign-in failing" || incs[0].Status != "investigating" || incs[0].Impact != "critical" || incs[0].Updates[0].Body != edited {
		t.Fatalf("statuspage %+v", incs)
	}
	// A second click on a stale copy of the draft posts nothing.
	id, err = fs.Press("U2", draft, post)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.WaitAck(id, fakeslack.Timeout); err != nil {
		t.Fatal(err)
	}
	fs.ExpectEphemeral(t, "U2", "already posted or discarded")
	if n := len(sp.Incidents()[0].Updates); n != 1 {
		t.Fatalf("%d updates after a second Post", n)
	}

	fs.Command(t, "U1", "C1", "resolve Clerk recovered")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"status page incident is resolved too"}})
	if incs := sp.Incidents(); len(incs) != 1 || incs[0].Status != "resolved" || len(incs[0].Updates) != 2 {
		t.Fatalf("after resolve %+v", incs)
	}
}

// A resolve that comes while Post is still creating the public incident
// waits its turn (a per-incident lease in Redis, as replicas share it) and
// then resolves the incident the create made, rather than finding none.
func TestResolveDuringStatuspageCreateResolvesIt(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	sp := fakestatuspage.New()
	defer sp.Close()
	prefix := redistest.Prefix()
	env := map[string]string{"SLACK_CHANNEL_ID": "CINC", "STATUSPAGE_API_KEY": sp.Key, "STATUSPAGE_PAGE_ID": sp.Page, "STATUSPAGE_API_URL": sp.URL()}
	apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: env})
	apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: env})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.Command(t, "U1", "C1", "update draft")
	draft := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1", "[Edit] [Post] [Discard]"}})

	held, release := sp.HoldCreate()
	fs.Click(t, "U1", draft, "Post")
	select {
	case <-held:
	case <-time.After(fakeslack.Timeout):
		t.Fatal("Post did not create the status page incident")
	}
	fs.Command(t, "U2", "C1", "resolve INC-1 Clerk recovered")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"resolved INC-1 after"}})
	release()
	fs.ExpectEphemeral(t, "U1", "Posted to the status page")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"status page incident is resolved too"}})
	if incs := sp.Incidents(); len(incs) != 1 || incs[0].Status != "resolved" || len(incs[0].Updates) != 2 {
		t.Fatalf("after a resolve during the create: %+v", incs)
	}
}

// Snooze on a reminder of an incident resolved since says so, and only
// that: it no longer adds "snoozed" after the refusal.
func TestSnoozeSaysWhyItDidNotSnooze(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	clock := &testClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
	b := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: redistest.Prefix(), Env: map[string]string{"SLACK_CHANNEL_ID": "CINC"},
		Options: app.Options{Manual: app.Loops{Sweep: true}, Now: clock.Now}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	// The opening is done (its last write landed) before the clock moves.
	fs.Command(t, "U1", "C1", "ack")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"acknowledged INC-1"}})
	clock.Add(21 * time.Minute)
	b.Sweep(context.Background())
	reminder := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{":bell:", "Snooze 30m"}})
	fs.Click(t, "U1", reminder, "Snooze 30m")
	fs.ExpectEphemeral(t, "U1", "Update reminders for INC-1 are snoozed for 30 minutes, until 03:51 UTC")

	fs.Command(t, "U1", "C1", "resolve INC-1 fixed")
	fs.ExpectEphemeral(t, "U1", "INC-1 is resolved.")
	fs.Click(t, "U1", reminder, "Snooze 30m")
	fs.ExpectEphemeral(t, "U1", "INC-1 is resolved, so it has no update reminders to snooze; nothing changed.")
	snoozed := 0
	for _, m := range fs.Messages() {
		if m.Ephemeral && strings.Contains(m.Text, "are snoozed") {
			snoozed++
		}
	}
	if snoozed != 1 {
		t.Fatalf("%d snooze confirmations, want 1 (the refused snooze must not confirm)", snoozed)
	}
}

// Naming someone outside SLACK_RESPONDERS as comms makes them a responder
// for that incident, and the reply says so: carol may then draft and post
// updates for INC-1, and still may not act on INC-2.
func TestCommsOutsideTheRespondersMayActOnTheirIncident(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	for id, name := range map[string]string{"U1": "alice", "U2": "bob", "U3": "carol"} {
		fs.AddUser(id, name)
	}
	apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "SLACK_RESPONDERS": "U1,U2"}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	fs.ExpectMessage(t, "CINC", "INC-2 · Users not syncing")
	fs.ExpectEphemeral(t, "U1", "Opened")

	fs.Command(t, "U3", "C1", "update INC-1 draft")
	fs.ExpectEphemeral(t, "U3", "Only incident responders may use `update`")

	fs.Command(t, "U1", "C1", "role INC-1 comms <@U3|carol>")
	fs.ExpectEphemeral(t, "U1", "<@U3> is now comms of INC-1.", "<@U3> is not in SLACK_RESPONDERS; as comms of INC-1 they may now act on this incident")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"named <@U3> comms", "as comms of INC-1 they may now act on this incident"}})

	fs.Command(t, "U3", "C1", "update INC-1 draft")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1"}})
	fs.ExpectEphemeral(t, "U3", "A draft update for INC-1 is in its thread")
	fs.Command(t, "U3", "C1", "note INC-1 Drafted the first update")
	fs.ExpectEphemeral(t, "U3", "Note added")
	fs.Command(t, "U3", "C1", "note INC-2 Not mine")
	fs.ExpectEphemeral(t, "U3", "Only incident responders may use `note`")

	// A responder named to a role hears nothing about it.
	fs.Command(t, "U1", "C1", "role INC-1 commander <@U2|bob>")
	named := fs.ExpectEphemeral(t, "U1", "<@U2> is now commander of INC-1.")
	if strings.Contains(named.Render(), "SLACK_RESPONDERS") {
		t.Fatalf("a responder told they are not one:\n%s", named.Render())
	}
}

// In Slack a message can show before the bot hears it was posted: a Post
// clicked on the draft the moment it appears posts it (the draft is kept
// before its message goes out), and the message then shows it was done.
func TestDraftPostedTheMomentItAppears(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	sp := fakestatuspage.New()
	defer sp.Close()
	apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC",
		"STATUSPAGE_API_KEY": sp.Key, "STATUSPAGE_PAGE_ID": sp.Page, "STATUSPAGE_API_URL": sp.URL()}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")

	release := fs.HoldPostReplies("Draft customer update for INC-1")
	defer release()
	fs.Command(t, "U1", "C1", "update draft")
	draft := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1", "[Edit] [Post] [Discard]"}})
	fs.Click(t, "U1", draft, "Post")
	fs.ExpectEphemeral(t, "U1", "Posted to the status page")
	if incs := sp.Incidents(); len(incs) != 1 {
		t.Fatalf("status page incidents: %+v", incs)
	}
	// The click knew the message: it shows the update posted, buttons gone.
	done := fs.ExpectUpdated(t, draft, "Customer update for INC-1", "posted to the status page by")
	release()
	fs.ExpectEphemeral(t, "U1", "A draft update for INC-1 is in its thread")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"posted the customer update to the status page"}})
	if done.Contains("[Post]") {
		t.Fatalf("the posted draft still offers Post:\n%s", done.Render())
	}
}
