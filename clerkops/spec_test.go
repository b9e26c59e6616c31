package clerkops_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
)

// Every request the bot sends names a path, method, query parameter and
// body field that Clerk's own OpenAPI spec (testdata, MIT) defines.
func TestRequestsMatchClerksOpenAPISpec(t *testing.T) {
	raw, err := os.ReadFile("testdata/clerk-bapi-2025-04-10.yml")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := fakeclerk.ParseSpec(raw)
	if err != nil {
		t.Fatal(err)
	}
	fc := fakeclerk.New()
	defer fc.Close()
	u := fc.AddUser("Eve", "eve@example.com", 2)
	fc.AddTrustedDevice(u.ID, "Eve's phone")
	sit, act := fc.AddToken("sit", u.ID), fc.AddToken("act", u.ID)
	mch, app := fc.AddMachine("billing-worker"), fc.AddOAuthApp("Partner portal", false)
	c := newClient(t, fc)
	ctx := context.Background()
	if _, _, err := c.FindUsers(ctx, []string{u.ID, "eve@example.com", "user_missing"}); err != nil {
		t.Fatal(err)
	}
	c.RevokeSessions(ctx, u.ID, true)
	c.RevokeMany(ctx, []string{u.ID}, 2, false, nil)
	for _, op := range []func() error{
		func() error { _, err := c.Ban(ctx, u.ID); return err },
		func() error { _, err := c.Unban(ctx, u.ID); return err },
		func() error { _, err := c.Unlock(ctx, u.ID); return err },
		func() error { return c.Ping(ctx) },
		func() error { _, _, err := c.Investigate(ctx, u.ID); return err },
		func() error { _, err := c.DashboardURL(ctx); return err },
		func() error { _, err := c.Protect(ctx); return err },
		func() error { _, err := c.SetProtectRules(ctx, true); return err },
		func() error { _, err := c.Restrict(ctx, account.RestrictDisposable, true); return err },
		func() error { _, err := c.Restrict(ctx, account.RestrictSubaddresses, false); return err },
		func() error { _, err := c.Block(ctx, "*@evil.example"); return err },
		func() error { _, _, err := c.Unblock(ctx, "*@evil.example"); return err },
		func() error { _, err := c.RemoveTrustedDevices(ctx, u.ID); return err },
		func() error { _, err := c.RevokeToken(ctx, sit.ID); return err },
		func() error { _, err := c.RevokeToken(ctx, act.ID); return err },
		func() error { _, err := c.RotateMachineKey(ctx, mch, 2*time.Hour); return err },
		func() error { _, _, err := c.RotateOAuthSecret(ctx, app); return err },
	} {
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	problems, seen := sp.Check(fc.Calls())
	for _, p := range problems {
		t.Error(p)
	}
	for _, want := range []string{"GET /users", "GET /users/{user_id}", "GET /sessions", "POST /sessions/{session_id}/revoke",
		"POST /users/{user_id}/ban", "POST /users/{user_id}/unban", "POST /users/{user_id}/unlock", "GET /jwks",
		"GET /instance/protect", "PATCH /instance/protect", "PATCH /instance/restrictions", "POST /blocklist_identifiers",
		"GET /blocklist_identifiers", "DELETE /blocklist_identifiers/{identifier_id}", "GET /users/{user_id}/trusted_devices",
		"DELETE /users/{user_id}/trusted_devices/{trusted_device_id}", "POST /sign_in_tokens/{sign_in_token_id}/revoke",
		"POST /actor_tokens/{actor_token_id}/revoke", "POST /machines/{machine_id}/secret_key/rotate",
		"POST /oauth_applications/{oauth_application_id}/rotate_secret"} {
		if !seen[want] {
			t.Errorf("the test never exercised %s", want)
		}
	}
}

// The checker itself refuses what the spec does not allow, so a pass
// above means something.
func TestSpecCheckRefusesWhatTheSpecLacks(t *testing.T) {
	raw, err := os.ReadFile("testdata/clerk-bapi-2025-04-10.yml")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := fakeclerk.ParseSpec(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []fakeclerk.Call{
		{Method: "GET", Path: "/sign_in_tokens"},
		{Method: "POST", Path: "/users/user_1/ban", Body: `{"reason":"x"}`},
		{Method: "GET", Path: "/users", Query: "nope=1"},
		{Method: "PATCH", Path: "/instance/protect", Body: `{"rules":true}`},
		{Method: "PATCH", Path: "/instance/protect", Body: `{"rules_enabled":"yes"}`},
		{Method: "POST", Path: "/machines/mch_1/secret_key/rotate", Body: `{"previous_token_ttl":99999}`},
		{Method: "POST", Path: "/machines/mch_1/secret_key/rotate", Body: `null`},
		{Method: "POST", Path: "/blocklist_identifiers", Body: `{}`},
	} {
		if problems, _ := sp.Check([]fakeclerk.Call{bad}); len(problems) == 0 {
			t.Errorf("%s %s %s passed", bad.Method, bad.Path, bad.Body)
		}
	}
	if problems, _ := sp.Check([]fakeclerk.Call{{Method: "PATCH", Path: "/instance/protect", Body: `{"rules_enabled":false}`}}); len(problems) != 0 {
		t.Errorf("a good call was refused: %v", problems)
	}
}
