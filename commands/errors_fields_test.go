package commands

import (
	"fmt"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Sentence reads the typed errors' fields, never their strings: extra
// wrapping changes nothing in what the user reads, and a string that only
// looks like an incident's ID names nothing.
func TestSentenceReadsFieldsNotStrings(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"no change, wrapped", withID(fmt.Errorf("update INC-1: %w", &incident.NoChangeError{Why: "already mitigated"}), "INC-1"),
			"INC-1: already mitigated; nothing changed."},
		{"no change, bare", withID(incident.ErrNoChange, "INC-1"), "INC-1: nothing to change; nothing changed."},
		{"no change, no ID", &incident.NoChangeError{Why: "severity is already P1"}, "The incident: severity is already P1; nothing changed."},
		{"not found, wrapped", fmt.Errorf("read the card: %w", &incident.NotFoundError{ID: "INC-7"}),
			"There is no incident INC-7. `/clerk-incident list` shows the incidents."},
		{"not found, ID only in the text", fmt.Errorf("INC-9: %w", incident.ErrNotFound),
			"There is no incident by that ID. `/clerk-incident list` shows the incidents."},
	} {
		if got, internal := Sentence(c.err); got != c.want || internal {
			t.Errorf("%s: %q (internal %v), want %q", c.name, got, internal, c.want)
		}
	}
}
