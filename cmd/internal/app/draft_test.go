package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// The draft editor, as Slack's modals behave: a click's trigger_id opens
// one modal (a second use is exchanged_trigger_id, which says to click
// again); saving onto a draft replaced since, or posted since, is refused
// in the modal (response_action: errors on the input block) and changes
// nothing; a save onto the draft it was opened on goes through.
func TestDraftEditorRefusesStaleSavesAndReusedClicks(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	prefix := redistest.Prefix()
	apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "STATUS_UPDATE_CHANNEL": "CANN"}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.Command(t, "U1", "C1", "update draft")
	first := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1", "[Edit] [Post] [Discard]"}})
	fs.ExpectEphemeral(t, "U1", "A draft update for INC-1 is in its thread") // stored by now

	// Edit opens the editor; the same click again cannot open another.
	edit := press(t, fs, "U1", first, "Edit")
	stale, err := fs.WaitView("U1", fakeslack.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Resend(edit); err != nil {
		t.Fatal(err)
	}
	fs.ExpectEphemeral(t, "U1", "That click already opened the editor once", "click Edit again", "The draft is unchanged")

	// A newer draft replaces the first: the editor opened on it refuses.
	fs.Command(t, "U1", "C1", "update draft INC-1")
	second := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1", "[Edit] [Post] [Discard]"}})
	fs.ExpectEphemeral(t, "U1", "A draft update for INC-1 is in its thread")
	refused(t, fs, stale, "Text typed onto the old draft", "The draft changed since you opened it")
	draftIs(t, prefix, second.TS, "")

	press(t, fs, "U1", second, "Edit")
	fresh, err := fs.WaitViewAfter("U1", stale, fakeslack.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	edited := "We are investigating failed sign-ins. Next update by 04:00 UTC."
	if a := submit(t, fs, fresh, edited); len(a.Payload) > 0 && strings.Contains(string(a.Payload), "errors") {
		t.Fatalf("a save onto the current draft was refused: %s", a.Payload)
	}
	fs.ExpectUpdated(t, second, edited)
	draftIs(t, prefix, second.TS, edited)

	// Once posted, the same editor (still open) cannot save onto it.
	fs.Click(t, "U1", second, "Post")
	fs.ExpectMessage(t, "CANN", edited)
	refused(t, fs, fresh, "A late change", "This draft was already posted or discarded")
	if n := len(fs.Messages()); n == 0 {
		t.Fatal("no messages")
	}
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text, "A late change") || strings.Contains(m.Text, "Text typed onto the old draft") {
			t.Fatalf("a refused save reached Slack: %q", m.Text)
		}
	}
}

func press(t *testing.T, fs *fakeslack.Server, user string, m *fakeslack.Message, label string) string {
	t.Helper()
	for _, b := range m.Buttons() {
		if b.Label == label {
			id, err := fs.Press(user, m, b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fs.WaitAck(id, fakeslack.Timeout); err != nil {
				t.Fatal(err)
			}
			return id
		}
	}
	t.Fatalf("no %q button", label)
	return ""
}

func submit(t *testing.T, fs *fakeslack.Server, v *fakeslack.View, text string) fakeslack.Ack {
	t.Helper()
	id, err := fs.SubmitView("U1", v, text)
	if err != nil {
		t.Fatal(err)
	}
	a, err := fs.WaitAck(id, fakeslack.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// refused submits text in v and wants the ack to show want on the input
// block, as Slack's response_action "errors" does.
func refused(t *testing.T, fs *fakeslack.Server, v *fakeslack.View, text, want string) {
	t.Helper()
	a := submit(t, fs, v, text)
	var p struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(a.Payload, &p); err != nil || p.Action != "errors" || !strings.Contains(p.Errors["update"], want) {
		t.Fatalf("ack %s (%v), want errors on block update saying %q", a.Payload, err, want)
	}
}

// draftIs checks the stored draft: shown at ts, with text (any, if "").
func draftIs(t *testing.T, prefix, ts, text string) {
	t.Helper()
	rdb, _ := redistest.Client(t)
	d, err := incident.NewStores(rdb, prefix, nil).Drafts.GetDraft(context.Background(), "INC-1")
	if err != nil || d.TS != ts || (text != "" && d.Text != text) || strings.Contains(d.Text, "old draft") {
		t.Fatalf("draft %+v %v, want ts %s text %q", d, err, ts, text)
	}
}

// Comms (alice) writes what customers read. The first draft never shows
// the responders' title ("Token leak from Bob's laptop"); a reminder's
// *Draft an update* keeps her edited draft rather than writing over it;
// once she posted, the next draft starts from her wording with its
// next-update time moved on.
func TestDraftsKeepCommsWordingAndNeverTheInternalTitle(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	prefix := redistest.Prefix()
	clock := &testClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "STATUS_UPDATE_CHANNEL": "CANN", "SLACK_RESPONDERS": "U1,U2"},
		Options: app.Options{Manual: app.Loops{Sweep: true}, Now: clock.Now}})
	fs.Command(t, "U2", "C1", "open security P1 Token leak from Bob's laptop")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Token leak")
	fs.Command(t, "U2", "C1", "role comms <@U1|alice>")
	fs.ExpectEphemeral(t, "U2", "is now comms of INC-1")

	fs.Command(t, "U1", "C1", "update draft")
	first := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1", "Suspicious account activity"}})
	if strings.Contains(first.Render(), "Token leak") || strings.Contains(first.Render(), "laptop") {
		t.Fatalf("the customer draft carries the internal title:\n%s", first.Render())
	}
	fs.ExpectEphemeral(t, "U1", "A draft update for INC-1 is in its thread")
	press(t, fs, "U1", first, "Edit")
	v, err := fs.WaitView("U1", fakeslack.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	mine := "We are investigating unusual sign-ins to some accounts and have signed the affected users out. Next update by 03:30 UTC."
	submit(t, fs, v, mine)
	fs.ExpectUpdated(t, first, "have signed the affected users out")

	// The reminder fires; its Draft an update keeps her draft.
	clock.Add(21 * time.Minute)
	bot.Sweep(context.Background())
	reminder := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{":bell: <@U1>", "Draft an update"}})
	fs.Click(t, "U1", reminder, "Draft an update")
	fs.ExpectEphemeral(t, "U1", "already in its thread, kept as written")
	draftIs(t, prefix, first.TS, mine)

	fs.Click(t, "U1", first, "Post")
	fs.ExpectMessage(t, "CANN", "have signed the affected users out")
	fs.ExpectEphemeral(t, "U1", "Posted to")

	// The next draft starts from what she posted, the time moved on.
	clock.Add(30 * time.Minute) // 03:51; P1 updates every 20 minutes
	fs.Command(t, "U1", "C1", "update draft")
	next := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft customer update for INC-1", "have signed the affected users out", "Next update by 04:11 UTC"}})
	if strings.Contains(next.Render(), "03:30 UTC") {
		t.Fatalf("the next draft keeps the old time:\n%s", next.Render())
	}
}
