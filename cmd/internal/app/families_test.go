package app

import (
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/handlers"
)

// The families the program wires give the table that help and the parser
// read (commands.Unwired): the same rows, in the same order, under the
// same titles, each with a Run.
func TestAssembledTableIsTheTable(t *testing.T) {
	got := familyDeps{people: peopleDeps{Auth: handlers.NewAuthorizer(nil, nil, time.Minute, time.Now)}}.handlers().Subcommands()
	want := handlers.Subcommands()
	if len(got) != len(want) {
		t.Fatalf("%d rows wired, %d in the table", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Family != want[i].Family || got[i].Usage != want[i].Usage || got[i].Run == nil {
			t.Errorf("row %d: wired %s (%s), table %s (%s)", i, got[i].Name, got[i].Family, want[i].Name, want[i].Family)
		}
	}
}
