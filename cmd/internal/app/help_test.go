package app_test

import (
	"fmt"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/handlers"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// help, help <command> for every command and the reply to an unknown
// subcommand go through the real bot to a fake Slack that enforces
// Block Kit's limits; Slack takes every one, and help names every
// command, audit and the closing line included.
func TestHelpRepliesPassSlackBlockLimits(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.Spec{})
	s := h.Slack
	s.Unlimited()

	s.Command(t, "U1", "C1", "help")
	help := s.ExpectEphemeral(t, "U1", "runs the Clerk incident runbook", "applies to the only open incident")
	for i, sub := range handlers.Subcommands() {
		if !help.Contains("`/clerk-incident " + sub.Name) {
			t.Errorf("help does not show %s:\n%s", sub.Name, help.Render())
		}
		// One reader each: reads are throttled per user.
		user := fmt.Sprintf("UH%02d", i)
		s.Command(t, user, "C1", "help "+sub.Name)
		s.ExpectEphemeral(t, user, render.Esc(sub.Usage), "*Examples:*", render.Esc(sub.Examples[0]))
	}

	s.Command(t, "U1", "C1", "help bypas")
	s.ExpectEphemeral(t, "U1", "There is no command `bypas`. Did you mean `bypass`?")
	s.Command(t, "U1", "C1", "opne outage")
	s.ExpectEphemeral(t, "U1", "`opne` is not a /clerk-incident subcommand. Did you mean `open`? `/clerk-incident help` lists all commands.")

	if r := s.Rejected(); len(r) > 0 {
		t.Fatalf("Slack refused replies: %q", r)
	}
	s.NoUnexpectedMessages(t)
}
