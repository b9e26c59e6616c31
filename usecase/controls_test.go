package usecase_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// controlsClerk answers as clerkops.Client with what it is told.
type controlsClerk struct {
	rules   bool
	blocked map[string]account.Blocked
}

func (c *controlsClerk) Protect(context.Context) (account.Protect, error) {
	return account.Protect{Rules: c.rules}, nil
}
func (c *controlsClerk) SetProtectRules(_ context.Context, on bool) (account.Protect, error) {
	return account.Protect{Rules: c.rules && on}, nil
}
func (c *controlsClerk) Restrict(_ context.Context, what string, on bool) (account.Restrictions, error) {
	return account.Restrictions{Disposable: what == account.RestrictDisposable && on}, nil
}
func (c *controlsClerk) Block(_ context.Context, ident string) (account.Blocked, error) {
	b := account.Blocked{ID: "blid_1", Identifier: ident, Type: "email_address"}
	c.blocked[ident] = b
	return b, nil
}
func (c *controlsClerk) Unblock(_ context.Context, ident string) (account.Blocked, bool, error) {
	b, ok := c.blocked[ident]
	delete(c.blocked, ident)
	return b, ok, nil
}

// Each change is recorded on its incident: the timeline without the
// address, the thread by kind and ID, and step 5 ticked only when
// protection was added; without an incident nothing is recorded.
func TestControlsRecordWhatTheyChanged(t *testing.T) {
	ctx := context.Background()
	c := &controlsClerk{blocked: map[string]account.Blocked{}}
	rec := &sessionRecord{}
	ctl := usecase.NewControls(c, rec, rec, quietLog())
	inc := &incident.Incident{ID: "INC-1", Channel: "CINC"}
	who := incident.Person{ID: "U1", Name: "alice"}
	if _, err := ctl.ProtectOn(ctx, inc, who); err != nil { // Clerk answers rules still off: no tick
		t.Fatal(err)
	}
	if _, err := ctl.Restrict(ctx, inc, who, account.RestrictDisposable, true); err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Block(ctx, inc, who, "eve@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, found, err := ctl.Unblock(ctx, inc, who, "eve@example.com", false); err != nil || !found {
		t.Fatal(found, err)
	}
	if _, found, err := ctl.Unblock(ctx, inc, who, "eve@example.com", false); err != nil || found {
		t.Fatal("a second unblock found it", err)
	}
	if _, err := ctl.Block(ctx, nil, who, "mal@example.com"); err != nil {
		t.Fatal(err)
	}
	want := "Turned Clerk Protect's rules on|Restriction disposable turned on|Blocklisted an e-mail address (blid_1)|Took off the blocklist an e-mail address (blid_1)"
	if got := strings.Join(rec.entries, "|"); got != want {
		t.Fatalf("timeline %q", got)
	}
	if len(rec.thread) != 4 || strings.Contains(strings.Join(rec.thread, " "), "@example.com") {
		t.Fatalf("thread %q", rec.thread)
	}
	if got := strings.Join(rec.ticks, ","); got != incident.StepExtraVerification+" restrict disposable on,"+incident.StepExtraVerification+" block" {
		t.Fatalf("ticks %q", got)
	}
	if usecase.NewControls(nil, rec, rec, quietLog()).Configured() || !ctl.Configured() {
		t.Fatal("Configured is not whether Clerk is there")
	}
}
