package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// The commander resolves while an approved rollback still runs: the thread
// said it started, `resolve` names it, the report written meanwhile says it
// is still running, and when it ends the thread says so and the report is
// written again with its outcome.
func TestCommanderSeesWorkInFlightThroughResolveAndReport(t *testing.T) {
	t.Parallel()
	h := startVercel(t, nil)
	s := h.slack
	card := h.open(t, "open outage Sign-in broken")
	h.vercel.RollbackSteps("in-progress", "in-progress", "succeeded")
	release := h.holdRollback()
	defer release()
	req := h.request(t, card, "rollback previous -- matcher broke sign-in", "Approval needed: rollback")
	s.Click(t, "U2", req, "Approve")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Started:* rollback to dpl_old111 (`apr-", "its end is said here"}})

	s.Command(t, "U1", "C1", "resolve INC-1 rolled back the matcher")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"resolved INC-1", "*Still running:* rollback to dpl_old111", "Resolving does not stop it"}})
	s.ExpectEphemeral(t, "U1", "INC-1 is resolved", "Still running")

	s.Command(t, "U1", "C1", "postmortem INC-1")
	s.ExpectEphemeral(t, "U1", "The report for INC-1 is in the thread")
	first := s.ExpectFileNamed(t, "CINC", "inc-1-postmortem")
	if !strings.Contains(first.Content, "### Long actions") || !strings.Contains(first.Content, "rollback to dpl_old111 (apr-") || !strings.Contains(first.Content, "**still running**") {
		t.Fatalf("the report does not say the rollback still runs:\n%s", first.Content)
	}

	release()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{":checkered_flag: *Ended after", "rollback to dpl_old111", "done. succeeded; dpl_old111 serves production again"}})
	s.ExpectUpdated(t, req, "succeeded; `dpl_old111` serves production again")
	var updated string
	for range 200 {
		for _, f := range s.Files() {
			if f.Name == first.Name && f.ID != first.ID {
				updated = f.Content
			}
		}
		if updated != "" {
			break
		}
		time.Sleep(20 * time.Millisecond) // the end's report follows its thread line
	}
	if !strings.Contains(updated, "rollback to dpl_old111 (apr-") || strings.Contains(updated, "still running") || !strings.Contains(updated, ": done - succeeded; dpl_old111 serves production again") ||
		!strings.Contains(updated, "Post-incident report written") {
		t.Fatalf("the report was not written again with the outcome:\n%s", updated)
	}
	if h.vercel.Production() != "dpl_old111" {
		t.Fatal("not rolled back")
	}
}
