package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// A draft is kept before its message is posted: only the `update draft`
// that kept it (its token) may then add the message's ts or, when Slack
// refused the message, put back the draft it replaced. A newer draft, or
// one posted or discarded meanwhile, is left alone.
func TestDraftShownAtAndTakeBackAreForTheirOwnDraft(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	d := incident.NewStores(rdb, prefix, time.Now).Drafts
	get := func() incident.Draft {
		t.Helper()
		got, err := d.GetDraft(ctx, "INC-1")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	older := incident.Draft{Text: "older", TS: "1.000001", Token: "a"}
	if err := d.SetDraft(ctx, "INC-1", incident.Draft{Text: "newer", Token: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := d.ShownAt(ctx, "INC-1", "a", "1.000009"); err != nil || get().TS != "" {
		t.Fatalf("another request's ts was recorded: %v %+v", err, get())
	}
	if err := d.TakeBack(ctx, "INC-1", "a", &older); err != nil || get().Text != "newer" {
		t.Fatalf("another request took the draft back: %v %+v", err, get())
	}
	if err := d.ShownAt(ctx, "INC-1", "b", "1.000002"); err != nil || get().TS != "1.000002" {
		t.Fatalf("its own ts: %v %+v", err, get())
	}
	if err := d.ShownAt(ctx, "INC-1", "b", "1.000003"); err != nil || get().TS != "1.000002" {
		t.Fatalf("a ts already known was replaced: %v %+v", err, get())
	}

	// Slack refused the newer draft's message: the older comes back.
	if err := d.TakeBack(ctx, "INC-1", "b", &older); err != nil || get() != older {
		t.Fatalf("take back: %v %+v", err, get())
	}
	// With nothing before it, taking back leaves no draft.
	if err := d.SetDraft(ctx, "INC-2", incident.Draft{Text: "first", Token: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := d.TakeBack(ctx, "INC-2", "c", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetDraft(ctx, "INC-2"); err == nil {
		t.Fatal("the refused draft stayed")
	}
	// Posted or discarded meanwhile: both are no-ops.
	if err := d.ShownAt(ctx, "INC-2", "c", "1.000004"); err != nil {
		t.Fatal(err)
	}
	if err := d.TakeBack(ctx, "INC-2", "c", &older); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetDraft(ctx, "INC-2"); err == nil {
		t.Fatal("a posted draft came back")
	}
}
