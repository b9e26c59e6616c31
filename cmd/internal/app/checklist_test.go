package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// `checklist` (anyone may run it) answers the one who asked at once with
// an ephemeral copy, even while Slack answers every chat.update with 429
// Retry-After 30: the thread's copy is left to the renderer. A responder's
// copy has Tick buttons that work; a non-responder's is read-only.
func TestChecklistAnswersAtOnceWhileSlackThrottlesUpdates(t *testing.T) {
	h := startSecurity(t, nil)
	s := h.slack
	h.open(t, "open outage Clerk down")
	s.ThrottleMethod("chat.update", 30*time.Second)

	start := time.Now()
	s.Command(t, "U1", "C1", "checklist")
	mine := s.ExpectEphemeral(t, "U1", "checklist for INC-1 is in the card's thread")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the answer took %v", d)
	}
	if len(mine.Buttons()) == 0 {
		t.Fatalf("a responder's copy has no Tick buttons:\n%s", mine.Render())
	}
	s.Command(t, "U9", "C1", "checklist")
	theirs := s.ExpectEphemeral(t, "U9", "checklist for INC-1 is in the card's thread")
	if len(theirs.Buttons()) != 0 {
		t.Fatalf("a non-responder's copy has buttons:\n%s", theirs.Render())
	}

	s.UnthrottleMethod("chat.update")
	s.Click(t, "U1", mine, "Tick")
	s.ExpectUpdated(t, mine, "~Confirm outage")
	h.ticked(t, "INC-1", "Confirm outage", true)
}

// Read commands are throttled per user: past the burst, one person is
// told to wait, and someone else is still answered.
func TestReadCommandsAreThrottledPerUser(t *testing.T) {
	h := startSecurity(t, nil)
	s := h.slack
	h.open(t, "open outage Clerk down")
	for range 10 {
		s.Command(t, "U2", "C1", "status")
	}
	s.Command(t, "U2", "C1", "status")
	s.ExpectEphemeral(t, "U2", "asking faster than the bot answers reads")
	s.Command(t, "U3", "C1", "status")
	m := s.Expect(t, fakeslack.Match{User: "U3", Ephemeral: true})
	if strings.Contains(m.Render(), "asking faster") {
		t.Fatal("another user was throttled too")
	}
}
