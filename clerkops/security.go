package clerkops

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/actortoken"
	"github.com/clerk/clerk-sdk-go/v2/blocklistidentifier"
	"github.com/clerk/clerk-sdk-go/v2/instancesettings"
	"github.com/clerk/clerk-sdk-go/v2/oauthapplication"
	"github.com/clerk/clerk-sdk-go/v2/signintoken"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
)

// Procedure 2's instance-wide levers: Clerk Protect, the instance's
// restrictions and blocklist, trusted devices, outstanding tokens and
// rotating the secrets of machines and OAuth applications. Where
// clerk-sdk-go v2.4.2 has no call (Protect, trusted devices, a machine's
// key rotation) the request goes through the SDK's backend, so the
// shared budget, retries and error sentences apply all the same.

// secClients are the SDK's clients of these endpoints.
type secClients struct {
	blocklist *blocklistidentifier.Client
	signIn    *signintoken.Client
	actor     *actortoken.Client
	oauth     *oauthapplication.Client
	instance  *instancesettings.Client
}

func newSecClients(cc *clerk.ClientConfig) secClients {
	return secClients{blocklist: blocklistidentifier.NewClient(cc), signIn: signintoken.NewClient(cc), actor: actortoken.NewClient(cc),
		oauth: oauthapplication.NewClient(cc), instance: instancesettings.NewClient(cc)}
}

type protectResource struct {
	clerk.APIResource
	account.Protect
}

type protectParams struct {
	clerk.APIParams
	RulesEnabled *bool `json:"rules_enabled,omitempty"`
}

// Protect reads Clerk Protect's switches (GET /instance/protect).
func (c *Client) Protect(ctx context.Context) (account.Protect, error) {
	var out protectResource
	if err := c.users.Backend.Call(ctx, clerk.NewAPIRequest(http.MethodGet, "/instance/protect"), &out); err != nil {
		return account.Protect{}, Explain(err, "read Clerk Protect's settings")
	}
	return out.Protect, nil
}

// SetProtectRules turns Clerk Protect's rules on or off
// (PATCH /instance/protect {rules_enabled}) and returns what Clerk answered.
func (c *Client) SetProtectRules(ctx context.Context, on bool) (account.Protect, error) {
	req := clerk.NewAPIRequest(http.MethodPatch, "/instance/protect")
	req.SetParams(&protectParams{RulesEnabled: &on})
	var out protectResource
	if err := c.users.Backend.Call(ctx, req, &out); err != nil {
		return account.Protect{}, Explain(err, "change Clerk Protect's rules")
	}
	return out.Protect, nil
}

// Restrict turns one restriction on or off (PATCH /instance/restrictions,
// only that field sent).
func (c *Client) Restrict(ctx context.Context, what string, on bool) (account.Restrictions, error) {
	p := &instancesettings.UpdateRestrictionsParams{}
	switch what {
	case account.RestrictDisposable:
		p.BlockDisposableEmailDomains = &on
	case account.RestrictSubaddresses:
		p.BlockEmailSubaddresses = &on
	default:
		return account.Restrictions{}, fmt.Errorf("unknown restriction %q", what)
	}
	r, err := c.sec.instance.UpdateRestrictions(ctx, p)
	if err != nil {
		return account.Restrictions{}, Explain(err, "change the instance's restrictions")
	}
	return account.Restrictions{Allowlist: r.Allowlist, Blocklist: r.Blocklist, Subaddresses: r.BlockEmailSubaddresses, Disposable: r.BlockDisposableEmailDomains}, nil
}

// Block adds an identifier to the instance's blocklist
// (POST /blocklist_identifiers).
func (c *Client) Block(ctx context.Context, identifier string) (account.Blocked, error) {
	b, err := c.sec.blocklist.Create(ctx, &blocklistidentifier.CreateParams{Identifier: clerk.String(identifier)})
	if err != nil {
		return account.Blocked{}, Explain(err, "add "+identifier+" to the blocklist")
	}
	return account.Blocked{ID: b.ID, Identifier: b.Identifier, Type: b.IdentifierType}, nil
}

// Unblock removes an identifier from the blocklist: it finds the entry
// (GET /blocklist_identifiers) and deletes it by ID. found is false when
// the identifier was not on the list (nothing deleted).
func (c *Client) Unblock(ctx context.Context, identifier string) (b account.Blocked, found bool, err error) {
	// The SDK's List adds paginated=true, which this endpoint does not
	// define: ask through the backend with no query.
	var list clerk.BlocklistIdentifierList
	if err := c.users.Backend.Call(ctx, clerk.NewAPIRequest(http.MethodGet, "/blocklist_identifiers"), &list); err != nil {
		return account.Blocked{}, false, Explain(err, "read the blocklist")
	}
	for _, e := range list.BlocklistIdentifiers {
		if e != nil && strings.EqualFold(e.Identifier, identifier) {
			b = account.Blocked{ID: e.ID, Identifier: e.Identifier, Type: e.IdentifierType}
			if _, err := c.sec.blocklist.Delete(ctx, e.ID); err != nil && !isNotFound(err) {
				return b, true, Explain(err, "remove "+identifier+" from the blocklist")
			}
			return b, true, nil
		}
	}
	return account.Blocked{}, false, nil
}

type trustedDeviceList struct {
	clerk.APIResource
	Data       []account.TrustedDevice `json:"data"`
	TotalCount int64                   `json:"total_count"`
}

type trustedDeviceResource struct {
	clerk.APIResource
	account.TrustedDevice
}

// TrustedDevices lists a user's active trusted devices
// (GET /users/{id}/trusted_devices).
func (c *Client) TrustedDevices(ctx context.Context, userID string) ([]account.TrustedDevice, error) {
	path, err := clerk.JoinPath("/users", userID, "trusted_devices")
	if err != nil {
		return nil, err
	}
	var out trustedDeviceList
	if err := c.users.Backend.Call(ctx, clerk.NewAPIRequest(http.MethodGet, path), &out); err != nil {
		return nil, Explain(err, "list the trusted devices of "+userID)
	}
	var active []account.TrustedDevice
	for _, d := range out.Data {
		if d.Status == "" || d.Status == "active" {
			active = append(active, d)
		}
	}
	return active, nil
}

// RemoveTrustedDevices revokes every active trusted device of a user
// (DELETE /users/{id}/trusted_devices/{device}), so none skips MFA any
// more. It never touches the user's MFA itself. A device gone meanwhile
// counts as removed.
func (c *Client) RemoveTrustedDevices(ctx context.Context, userID string) (int, error) {
	devices, err := c.TrustedDevices(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range devices {
		path, err := clerk.JoinPath("/users", userID, "trusted_devices", d.ID)
		if err != nil {
			return n, err
		}
		var out trustedDeviceResource
		if err := c.users.Backend.Call(ctx, clerk.NewAPIRequest(http.MethodDelete, path), &out); err != nil && !isNotFound(err) {
			return n, Explain(err, "remove trusted device "+d.ID+" of "+userID)
		}
		n++
	}
	return n, nil
}

// RevokeToken revokes a pending sign-in token (sit_…) or actor
// (impersonation) token (act_…). The token string Clerk answers with is
// a credential: it is never kept. Clerk's Backend API cannot list a
// user's tokens, so they are revoked by ID.
func (c *Client) RevokeToken(ctx context.Context, id string) (account.TokenResult, error) {
	if strings.HasPrefix(id, "act_") {
		t, err := c.sec.actor.Revoke(ctx, id)
		if err != nil {
			return account.TokenResult{ID: id}, Explain(err, "revoke actor token "+id)
		}
		return account.TokenResult{ID: t.ID, User: t.UserID, Status: t.Status}, nil
	}
	t, err := c.sec.signIn.Revoke(ctx, id)
	if err != nil {
		return account.TokenResult{ID: id}, Explain(err, "revoke sign-in token "+id)
	}
	return account.TokenResult{ID: t.ID, User: t.UserID, Status: t.Status}, nil
}

type rotateParams struct {
	clerk.APIParams
	PreviousTokenTTL int64 `json:"previous_token_ttl"`
}

// RotateMachineKey rotates a machine's secret key
// (POST /machines/{id}/secret_key/rotate): the old key stays valid for
// keep (0 to 8 h). The new secret is returned once: show it to one
// person, never log it.
func (c *Client) RotateMachineKey(ctx context.Context, id string, keep time.Duration) (string, error) {
	if keep < 0 || keep > account.MaxKeep {
		return "", fmt.Errorf("the old key's grace must be 0 to 8 h, not %s", keep)
	}
	path, err := clerk.JoinPath("/machines", id, "secret_key", "rotate")
	if err != nil {
		return "", err
	}
	req := clerk.NewAPIRequest(http.MethodPost, path)
	req.SetParams(&rotateParams{PreviousTokenTTL: int64(keep / time.Second)})
	var out clerk.MachineSecretKey
	if err := c.users.Backend.Call(ctx, req, &out); err != nil {
		return "", Explain(err, "rotate the secret key of machine "+id)
	}
	if out.Secret == "" {
		return "", &Error{Op: "rotate", Reason: "Clerk rotated the key of machine " + id + " but sent no new secret; rotate again"}
	}
	return out.Secret, nil
}

// RotateOAuthSecret rotates an OAuth application's client secret
// (POST /oauth_applications/{id}/rotate_secret); the old secret stops
// working at once. The new secret is returned once, with the app's name.
func (c *Client) RotateOAuthSecret(ctx context.Context, id string) (name, secret string, err error) {
	app, err := c.sec.oauth.RotateClientSecret(ctx, id)
	if err != nil {
		return "", "", Explain(err, "rotate the client secret of OAuth application "+id)
	}
	if app.ClientSecret == nil || *app.ClientSecret == "" {
		return app.Name, "", &Error{Op: "rotate", Reason: "OAuth application " + id + " has no client secret (a public client); nothing to rotate"}
	}
	return app.Name, *app.ClientSecret, nil
}
