package incident_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

func TestFollowupsAddListDoneExport(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	incs := incident.NewStore(rdb, prefix, nil)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	fs := incident.NewFollowupStore(rdb, prefix, func() time.Time { return now })
	alice := incident.Person{ID: "U1", Name: "alice"}
	if _, err := fs.Add(ctx, "INC-1", "x", alice); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("add to a missing incident: %v", err)
	}
	inc, err := incs.Open(ctx, incident.OpenParams{Category: incident.Outage, By: alice})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Add(ctx, inc.ID, "  ", alice); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("empty text: %v", err)
	}
	for i, text := range []string{"Alert on sign-in errors", "Rotate the webhook secret"} {
		f, err := fs.Add(ctx, inc.ID, text, alice)
		if err != nil || f.N != i+1 {
			t.Fatalf("add %d: %+v %v", i, f, err)
		}
	}
	_, _, err = fs.Done(ctx, inc.ID, 3, alice)
	if apperr.CodeOf(err) != apperr.NotFound || !strings.Contains(err.Error(), "INC-1 has no follow-up 3: it has follow-ups 1 to 2") {
		t.Fatalf("done 3: %v", err)
	}
	f, already, err := fs.Done(ctx, inc.ID, 2, alice)
	if err != nil || already || !f.Done {
		t.Fatalf("done 2: %+v %v %v", f, already, err)
	}
	if _, already, err = fs.Done(ctx, inc.ID, 2, alice); err != nil || !already {
		t.Fatalf("done 2 again: already=%v %v", already, err)
	}
	if _, err := fs.BeginExport(ctx, inc.ID, 1, "<!-- m -->"); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.RecordExport(ctx, inc.ID, 1, 42, "https://github.com/a/b/issues/42"); err != nil {
		t.Fatal(err)
	}
	// A late second record does not replace the first.
	if _, err := fs.RecordExport(ctx, inc.ID, 1, 43, "https://github.com/a/b/issues/43"); err != nil {
		t.Fatal(err)
	}
	if f, err := fs.BeginExport(ctx, inc.ID, 1, "<!-- m -->"); err != nil || !f.Exported() {
		t.Fatalf("begin after created: %+v %v", f, err)
	}
	list, err := fs.List(ctx, inc.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("list %+v %v", list, err)
	}
	if list[0].Export == nil || list[0].Export.Number != 42 || list[0].Export.Marker != "<!-- m -->" || !list[1].Done || list[1].Export != nil {
		t.Fatalf("list %+v %+v", list[0], list[1])
	}
}
