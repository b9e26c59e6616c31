package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// Vercel not answering is said as Vercel's trouble, with what was asked,
// and audited as a Vercel failure (not as a failure of the bot).
func TestVercelNotAnsweringIsSaidAsVercels(t *testing.T) {
	h := startVercel(t, map[string]string{"VERCEL_API_URL": "http://127.0.0.1:1"})
	h.slack.Command(t, "U1", "C1", "deploys")
	h.slack.ExpectEphemeral(t, "U1", ":warning: No answer from Vercel when asked to read the project")
	card := h.open(t, "open outage Sign-in broken")
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{":warning: Could not check Vercel for a recent production deploy: No answer from Vercel"}})
	h.slack.Command(t, "U1", "C1", "rollback INC-1 previous")
	h.slack.ExpectEphemeral(t, "U1", ":warning: No answer from Vercel when asked to read the project")
	// A command is audited after its reply: ask again until it is there.
	var text string
	for range 50 {
		h.slack.Command(t, "U1", "C1", "audit")
		text = h.slack.ExpectEphemeral(t, "U1", "Audit log").Render()
		if strings.Contains(text, "· rollback ·") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !slices.ContainsFunc(strings.Split(text, "\n"), func(l string) bool {
		return strings.Contains(l, "· rollback ·") && strings.Contains(l, "failed: vercel")
	}) {
		t.Errorf("the audit log does not say the rollback failed on Vercel:\n%s", text)
	}
}
