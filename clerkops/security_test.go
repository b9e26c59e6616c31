package clerkops_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
)

// Clerk's refusals of the security endpoints become their own sentences
// and codes, never a user's "not found".
func TestSecurityRefusalsAreSentences(t *testing.T) {
	fc := fakeclerk.New()
	defer fc.Close()
	c := newClient(t, fc)
	ctx := context.Background()
	_, err := c.RotateMachineKey(ctx, "mch_missing", time.Hour)
	if apperr.CodeOf(err) != apperr.NotFound || !strings.Contains(err.Error(), "Clerk has no such object") {
		t.Fatalf("missing machine: %v (%s)", err, apperr.CodeOf(err))
	}
	if _, err := c.RotateMachineKey(ctx, "mch_x", 9*time.Hour); err == nil {
		t.Fatal("a grace over 8 h was sent")
	}
	if n := len(fc.Calls()); n != 1 {
		t.Fatalf("%d calls; the refused grace must not reach Clerk", n)
	}
	public := fc.AddOAuthApp("SPA", true)
	if _, _, err := c.RotateOAuthSecret(ctx, public); err == nil || !strings.Contains(err.Error(), "public client") {
		t.Fatalf("public client: %v", err)
	}
	fc.BlocklistStatus(402)
	if _, err := c.Block(ctx, "eve@example.com"); apperr.CodeOf(err) != apperr.ClerkPlanRequired || strings.Contains(err.Error(), "banning") {
		t.Fatalf("402: %v", err)
	}
	fc.BlocklistStatus(0)
	if _, err := c.Block(ctx, "eve@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Block(ctx, "eve@example.com"); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "already on the block-list") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, found, err := c.Unblock(ctx, "nobody@example.com"); err != nil || found {
		t.Fatalf("unblock of an unlisted address: %v %v", found, err)
	}
	u := fc.AddUser("Eve", "eve@example.com", 0)
	if n, err := c.RemoveTrustedDevices(ctx, u.ID); err != nil || n != 0 {
		t.Fatalf("no devices: %d %v", n, err)
	}
	fc.AddTrustedDevice(u.ID, "phone")
	fc.AddTrustedDevice(u.ID, "tablet")
	if n, err := c.RemoveTrustedDevices(ctx, u.ID); err != nil || n != 2 || fc.TrustedDevices(u.ID) != 0 {
		t.Fatalf("removed %d (%v), %d left", n, err, fc.TrustedDevices(u.ID))
	}
	if _, err := c.RemoveTrustedDevices(ctx, "user_missing"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("missing user: %v", err)
	}
	act := fc.AddToken("act", u.ID)
	if _, err := c.RevokeToken(ctx, act.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeToken(ctx, act.ID); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("second revoke of an actor token: %v", err)
	}
}
