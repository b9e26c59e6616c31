package clerkops

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/actortoken"
	"github.com/clerk/clerk-sdk-go/v2/blocklistidentifier"
	"github.com/clerk/clerk-sdk-go/v2/instancesettings"
	"github.com/clerk/clerk-sdk-go/v2/oauthapplication"
	"github.com/clerk/clerk-sdk-go/v2/signintoken"
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

// Protect is Clerk Protect's two switches.
type Protect struct {
	Rules   bool `json:"rules_enabled"`
	Specter bool `json:"specter_enabled"`
}

type protectResource struct {
	clerk.APIResource
	Protect
}

type protectParams struct {
	clerk.APIParams
	RulesEnabled *bool `json:"rules_enabled,omitempty"`
}

// Protect reads Clerk Protect's switches (GET /instance/protect).
func (c *Client) Protect(ctx context.Context) (Protect, error) {
	var out protectResource
	if err := c.users.Backend.Call(ctx, clerk.NewAPIRequest(http.MethodGet, "/instance/protect"), &out); err != nil {
		return Protect{}, Explain(err, "read Clerk Protect's settings")
	}
	return out.Protect, nil
}

// SetProtectRules turns Clerk Protect's rules on or off
// (PATCH /instance/protect {rules_enabled}) and returns what Clerk answered.
func (c *Client) SetProtectRules(ctx context.Context, on bool) (Protect, error) {
	req := clerk.NewAPIRequest(http.MethodPatch, "/instance/protect")
	req.SetParams(&protectParams{RulesEnabled: &on})
	var out protectResource
	if err := c.users.Backend.Call(ctx, req, &out); err != nil {
		return Protect{}, Explain(err, "change Clerk Protect's rules")
	}
	return out.Protect, nil
}

// Restrictions are the instance's sign-up restrictions as Clerk answered.
type Restrictions struct {
	Allowlist, Blocklist, Subaddresses, Disposable bool
}

// Restriction names for Restrict.
const (
	RestrictDisposable   = "disposable"
	RestrictSubaddresses = "subaddresses"
)

// Restrict turns one restriction on or off (PATCH /instance/restrictions,
// only that field sent).
func (c *Client) Restrict(ctx context.Context, what string, on bool) (Restrictions, error) {
	p := &instancesettings.UpdateRestrictionsParams{}
	switch what {
	case RestrictDisposable:
		p.BlockDisposableEmailDomains = &on
	case RestrictSubaddresses:
		p.BlockEmailSubaddresses = &on
	default:
		return Restrictions{}, fmt.Errorf("unknown restriction %q", what)
	}
	r, err := c.sec.instance.UpdateRestrictions(ctx, p)
	if err != nil {
		return Restrictions{}, Explain(err, "change the instance's restrictions")
	}
	return Restrictions{Allowlist: r.Allowlist, Blocklist: r.Blocklist, Subaddresses: r.BlockEmailSubaddresses, Disposable: r.BlockDisposableEmailDomains}, nil
}

// Blocked is one blocklist identifier as Clerk answered.
type Blocked struct {
	ID, Identifier, Type string
}

var (
	phoneRe  = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	domainRe = regexp.MustCompile(`^\*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
)

// BlockTarget checks an identifier for the blocklist: an e-mail address,
// a phone number in E.164 (+…) or a whole domain (*@example.com). It
// returns the identifier as Clerk stores it and whether it is a domain.
func BlockTarget(s string) (id string, domain bool, ok bool) {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	if i := strings.Index(s, "|"); strings.HasPrefix(s, "mailto:") && i > 0 {
		s = s[i+1:]
	}
	s = strings.TrimPrefix(s, "mailto:")
	switch {
	case domainRe.MatchString(s):
		return strings.ToLower(s), true, true
	case phoneRe.MatchString(s):
		return s, false, true
	case emailRe.MatchString(s) && !strings.HasPrefix(s, "*"):
		return strings.ToLower(s), false, true
	}
	return "", false, false
}

// Block adds an identifier to the instance's blocklist
// (POST /blocklist_identifiers).
func (c *Client) Block(ctx context.Context, identifier string) (Blocked, error) {
	b, err := c.sec.blocklist.Create(ctx, &blocklistidentifier.CreateParams{Identifier: clerk.String(identifier)})
	if err != nil {
		return Blocked{}, Explain(err, "add "+identifier+" to the blocklist")
	}
	return Blocked{ID: b.ID, Identifier: b.Identifier, Type: b.IdentifierType}, nil
}

// Unblock removes an identifier from the blocklist: it finds the entry
// (GET /blocklist_identifiers) and deletes it by ID. found is false when
// the identifier was not on the list (nothing deleted).
func (c *Client) Unblock(ctx context.Context, identifier string) (b Blocked, found bool, err error) {
	// The SDK's List adds paginated=true, which this endpoint does not
	// define: ask through the backend with no query.
	var list clerk.BlocklistIdentifierList
	if err := c.users.Backend.Call(ctx, clerk.NewAPIRequest(http.MethodGet, "/blocklist_identifiers"), &list); err != nil {
		return Blocked{}, false, Explain(err, "read the blocklist")
	}
	for _, e := range list.BlocklistIdentifiers {
		if e != nil && strings.EqualFold(e.Identifier, identifier) {
			b = Blocked{ID: e.ID, Identifier: e.Identifier, Type: e.IdentifierType}
			if _, err := c.sec.blocklist.Delete(ctx, e.ID); err != nil && !isNotFound(err) {
				return b, true, Explain(err, "remove "+identifier+" from the blocklist")
			}
			return b, true, nil
		}
	}
	return Blocked{}, false, nil
}

// TrustedDevice is one device a user enrolled to skip MFA.
type TrustedDevice struct {
	ID       string `json:"id"`
	Platform string `json:"platform"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	LastUsed int64  `json:"last_used_at"`
}

type trustedDeviceList struct {
	clerk.APIResource
	Data       []TrustedDevice `json:"data"`
	TotalCount int64           `json:"total_count"`
}

type trustedDeviceResource struct {
	clerk.APIResource
	TrustedDevice
}

// TrustedDevices lists a user's active trusted devices
// (GET /users/{id}/trusted_devices).
func (c *Client) TrustedDevices(ctx context.Context, userID string) ([]TrustedDevice, error) {
	path, err := clerk.JoinPath("/users", userID, "trusted_devices")
	if err != nil {
		return nil, err
	}
	var out trustedDeviceList
	if err := c.users.Backend.Call(ctx, clerk.NewAPIRequest(http.MethodGet, path), &out); err != nil {
		return nil, Explain(err, "list the trusted devices of "+userID)
	}
	var active []TrustedDevice
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

var tokenRe = regexp.MustCompile(`^(sit|act)_[A-Za-z0-9]+$`)

// IsTokenID reports whether s is a sign-in token (sit_…) or actor token
// (act_…) ID.
func IsTokenID(s string) bool { return tokenRe.MatchString(s) }

// TokenResult is what revoking one outstanding token did.
type TokenResult struct {
	ID, User, Status string
}

// RevokeToken revokes a pending sign-in token (sit_…) or actor
// (impersonation) token (act_…). The token string Clerk answers with is
// a credential: it is never kept. Clerk's Backend API cannot list a
// user's tokens, so they are revoked by ID.
func (c *Client) RevokeToken(ctx context.Context, id string) (TokenResult, error) {
	if strings.HasPrefix(id, "act_") {
		t, err := c.sec.actor.Revoke(ctx, id)
		if err != nil {
			return TokenResult{ID: id}, Explain(err, "revoke actor token "+id)
		}
		return TokenResult{ID: t.ID, User: t.UserID, Status: t.Status}, nil
	}
	t, err := c.sec.signIn.Revoke(ctx, id)
	if err != nil {
		return TokenResult{ID: id}, Explain(err, "revoke sign-in token "+id)
	}
	return TokenResult{ID: t.ID, User: t.UserID, Status: t.Status}, nil
}

// MaxKeep is the longest a rotated machine key stays valid (Clerk's
// previous_token_ttl maximum).
const MaxKeep = 8 * time.Hour

type rotateParams struct {
	clerk.APIParams
	PreviousTokenTTL int64 `json:"previous_token_ttl"`
}

var (
	machineRe = regexp.MustCompile(`^mch_[A-Za-z0-9]+$`)
	oauthRe   = regexp.MustCompile(`^oa_[A-Za-z0-9]+$`)
)

// IsMachineID and IsOAuthAppID check the IDs `rotate` takes.
func IsMachineID(s string) bool  { return machineRe.MatchString(s) }
func IsOAuthAppID(s string) bool { return oauthRe.MatchString(s) }

// RotateMachineKey rotates a machine's secret key
// (POST /machines/{id}/secret_key/rotate): the old key stays valid for
// keep (0 to 8 h). The new secret is returned once: show it to one
// person, never log it.
func (c *Client) RotateMachineKey(ctx context.Context, id string, keep time.Duration) (string, error) {
	if keep < 0 || keep > MaxKeep {
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
