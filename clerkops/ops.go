// Package clerkops is the bot's Clerk Backend API access: finding users by
// ID or e-mail, revoking sessions, banning and unbanning, over clerk-sdk-go
// per-resource clients (never the global key) with one rate-limited,
// retrying transport. Clerk errors become plain sentences here.
package clerkops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/clerk/clerk-sdk-go/v2/svixwebhook"
	"github.com/clerk/clerk-sdk-go/v2/user"
	"github.com/redis/go-redis/v9"
)

// Config configures the Clerk client.
type Config struct {
	SecretKey string
	APIURL    string // default https://api.clerk.com/v1
	// Budget overrides the request budget (requests per Window); 0 takes
	// half of the instance's limit (DefaultBudget): the limit is shared
	// with the production app, which must keep at least half of it.
	Budget int
	Window time.Duration
	// Redis, when set, keeps one budget for every replica under Prefix.
	Redis  redis.UniversalClient
	Prefix string
	// Guard runs RevokeMany's workers and its progress callback (a panic is
	// logged with its stack and told once in Slack); nil recovers quietly.
	Guard Guard
}

// DefaultBudget is Clerk's documented per-instance limit for a key.
func DefaultBudget(key string) (int, time.Duration) {
	if strings.HasPrefix(key, "sk_live_") {
		return 1000, 10 * time.Second
	}
	return 100, 10 * time.Second
}

// EffectiveBudget is the client's budget: CLERK_RATE_LIMIT when given,
// else half of the instance's limit, because the limit is per instance and
// the production app must keep at least half of it during an incident.
func EffectiveBudget(cfg Config) (int, time.Duration) {
	if cfg.Budget > 0 {
		return cfg.Budget, cfg.Window
	}
	n, w := DefaultBudget(cfg.SecretKey)
	return max(1, n/2), w
}

// ParseBudget reads CLERK_RATE_LIMIT: "1000/10s", "100/10s" or a bare
// number of requests per 10 s.
func ParseBudget(s string) (int, time.Duration, error) {
	s = strings.TrimSpace(s)
	num, per, found := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("%q: want requests per window such as 1000/10s", s)
	}
	w := 10 * time.Second
	if found {
		w, err = time.ParseDuration(strings.TrimSpace(per))
		if err != nil || w <= 0 {
			return 0, 0, fmt.Errorf("%q: the window must be a duration such as 10s", s)
		}
	}
	return n, w, nil
}

// Client talks to Clerk.
type Client struct {
	users    *user.Client
	sessions *session.Client
	jwks     *jwks.Client
	svix     *svixwebhook.Client
	http     *http.Client
	guard    Guard
	sec      secClients
}

// Guard runs fn, recovering a panic and reporting whether one happened
// (internal/guard.Guard).
type Guard interface {
	Run(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) bool
}

// New builds the client. The secret key is only ever placed in the
// Authorization header by the SDK.
func New(cfg Config, observe func(method, path string, status int)) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.clerk.com/v1"
	}
	n, w := EffectiveBudget(cfg)
	var lim RequestBudget
	if cfg.Redis != nil {
		lim = NewSharedLimiter(cfg.Redis, cfg.Prefix, n, w)
	} else {
		// Keep a little under the budget: requests reach the server in a
		// different order and at slightly different times than they leave.
		lim = NewLimiter(max(1, n*98/100), w)
	}
	tr := NewTransport(nil, lim)
	tr.Observe = observe
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	key, url := cfg.SecretKey, cfg.APIURL
	cc := &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{Key: &key, URL: &url, HTTPClient: hc}}
	g := cfg.Guard
	if g == nil {
		g = &guard.Guard{}
	}
	return &Client{users: user.NewClient(cc), sessions: session.NewClient(cc), jwks: jwks.NewClient(cc), svix: svixwebhook.NewClient(cc), http: hc, guard: g, sec: newSecClients(cc)}
}

func fromClerk(u *clerk.User) account.User {
	out := account.User{ID: u.ID, Banned: u.Banned, Locked: u.Locked}
	for _, e := range u.EmailAddresses {
		if e == nil {
			continue
		}
		out.Emails = append(out.Emails, e.EmailAddress)
		if out.Email == "" || (u.PrimaryEmailAddressID != nil && e.ID == *u.PrimaryEmailAddressID) {
			out.Email = e.EmailAddress
		}
	}
	var parts []string
	if u.FirstName != nil && *u.FirstName != "" {
		parts = append(parts, *u.FirstName)
	}
	if u.LastName != nil && *u.LastName != "" {
		parts = append(parts, *u.LastName)
	}
	out.Name = strings.Join(parts, " ")
	return out
}

// FindUsers looks up users by ID or e-mail. E-mails go in one list call
// (up to 100 at a time); IDs are fetched one by one. Refs that match no
// user come back in unknown.
func (c *Client) FindUsers(ctx context.Context, refs []string) (found []account.User, unknown []string, err error) {
	var emails []string
	for _, r := range refs {
		if account.IsUserID(r) {
			u, err := c.users.Get(ctx, r)
			if isNotFound(err) {
				unknown = append(unknown, r)
				continue
			}
			if err != nil {
				return nil, nil, Explain(err, "look up "+r)
			}
			found = append(found, fromClerk(u))
			continue
		}
		emails = append(emails, r)
	}
	for start := 0; start < len(emails); start += 100 {
		batch := emails[start:min(start+100, len(emails))]
		limit := int64(min(len(batch)*2, 500))
		list, err := c.ListUsers(ctx, &user.ListParams{EmailAddresses: batch, ListParams: clerk.ListParams{Limit: &limit}})
		if err != nil {
			return nil, nil, Explain(err, "look up users by e-mail")
		}
		matched := map[string]bool{}
		for _, u := range list {
			fu := fromClerk(u)
			for _, e := range u.EmailAddresses {
				if e != nil {
					matched[strings.ToLower(e.EmailAddress)] = true
				}
			}
			found = append(found, fu)
		}
		for _, e := range batch {
			if !matched[strings.ToLower(e)] {
				unknown = append(unknown, e)
			}
		}
	}
	return found, unknown, nil
}

// ListUsers is GET /users alone. The SDK's user.List also calls
// /users/count on every page, with the list's limit and offset, which the
// spec does not define for count; callers that need the total ask once.
func (c *Client) ListUsers(ctx context.Context, params *user.ListParams) ([]*clerk.User, error) {
	req := clerk.NewAPIRequest(http.MethodGet, "/users")
	req.SetParams(params)
	var out []*clerk.User
	if err := c.users.Backend.Call(ctx, req, (*userArray)(&out)); err != nil {
		return nil, err
	}
	return out, nil
}

// userArray decodes Clerk's bare JSON array of users.
type userArray []*clerk.User

// Read implements the SDK's response reader.
func (u *userArray) Read(resp *clerk.APIResponse) {}

// CountUsers returns the number of users (GET /users/count, once).
func (c *Client) CountUsers(ctx context.Context) (int64, error) {
	n, err := c.users.Count(ctx, &user.ListParams{})
	if err != nil {
		return 0, Explain(err, "count users")
	}
	return n.TotalCount, nil
}

// RawUser is a Clerk user as Clerk sent it, with the fields paging needs.
type RawUser struct {
	ID        string
	CreatedAt int64
	UpdatedAt int64
	JSON      json.RawMessage
}

// ListUsersRaw pages users newest first as Clerk sent them (the whole JSON
// object, for replaying as webhook data) without the SDK's count call.
func (c *Client) ListUsersRaw(ctx context.Context, limit int, before int64, offset int) ([]RawUser, error) {
	l, o, order := int64(limit), int64(offset), "-created_at"
	params := &user.ListParams{OrderBy: &order, ListParams: clerk.ListParams{Limit: &l}}
	if offset > 0 {
		params.Offset = &o
	}
	if before > 0 {
		params.CreatedAtBefore = &before
	}
	req := clerk.NewAPIRequest(http.MethodGet, "/users")
	req.SetParams(params)
	var raw rawArray
	if err := c.users.Backend.Call(ctx, req, &raw); err != nil {
		return nil, Explain(err, "list users")
	}
	out := make([]RawUser, 0, len(raw))
	for _, r := range raw {
		var head struct {
			ID        string `json:"id"`
			CreatedAt int64  `json:"created_at"`
			UpdatedAt int64  `json:"updated_at"`
		}
		if err := json.Unmarshal(r, &head); err != nil || head.ID == "" {
			continue
		}
		out = append(out, RawUser{ID: head.ID, CreatedAt: head.CreatedAt, UpdatedAt: head.UpdatedAt, JSON: r})
	}
	return out, nil
}

type rawArray []json.RawMessage

// Read implements the SDK's response reader.
func (r *rawArray) Read(*clerk.APIResponse) {}

// InstanceID reads the instance ID from the JWKS key ID (ins_…), which
// Clerk puts in every webhook event; "" when unknown.
func (c *Client) InstanceID(ctx context.Context) string {
	set, err := c.jwks.Get(ctx, &jwks.GetParams{})
	if err != nil {
		return ""
	}
	for _, k := range set.Keys {
		if k != nil && strings.HasPrefix(k.KeyID, "ins_") {
			return k.KeyID
		}
	}
	return ""
}

// RevokeSessions revokes every active session of a user: paged listing of
// active sessions, one revoke each. Each revoke's response must say
// "revoked"; with verify it lists again and reports any still active.
// Revoking a user with no active sessions is a no-op, so it is idempotent.
func (c *Client) RevokeSessions(ctx context.Context, userID string, verify bool) account.RevokeResult {
	res := account.RevokeResult{User: userID}
	active := "active"
	for round := 0; ; round++ {
		limit := int64(100)
		list, err := c.sessions.List(ctx, &session.ListParams{UserID: &userID, Status: &active, ListParams: clerk.ListParams{Limit: &limit}})
		if err != nil {
			res.Err = Explain(err, "list sessions of "+userID)
			return res
		}
		if len(list.Sessions) == 0 {
			return res
		}
		if round >= 5 {
			res.Left = int(list.TotalCount)
			res.Err = fmt.Errorf("%d sessions of %s are still active after 5 rounds; run revoke again", res.Left, userID)
			return res
		}
		unconfirmed := 0
		for _, s := range list.Sessions {
			got, err := c.sessions.Revoke(ctx, &session.RevokeParams{ID: s.ID})
			switch {
			case isNotFound(err):
				// Gone between the listing and the revoke: nothing to do.
			case err != nil:
				res.Err = Explain(err, "revoke session "+s.ID)
				return res
			case got.Status == "revoked":
				res.Revoked++
			default:
				unconfirmed++
			}
		}
		// One listing is enough when it held every session and each
		// revoke came back "revoked"; otherwise list again.
		if !verify && unconfirmed == 0 && int64(len(list.Sessions)) >= list.TotalCount {
			return res
		}
	}
}

// Ban blocks sign-in and revokes every session (Clerk does both).
func (c *Client) Ban(ctx context.Context, id string) (account.User, error) {
	u, err := c.users.Ban(ctx, id)
	if err != nil {
		return account.User{}, Explain(err, "ban "+id)
	}
	return fromClerk(u), nil
}

// Unban lifts a ban.
func (c *Client) Unban(ctx context.Context, id string) (account.User, error) {
	u, err := c.users.Unban(ctx, id)
	if err != nil {
		return account.User{}, Explain(err, "unban "+id)
	}
	return fromClerk(u), nil
}

// Unlock lifts a lockout after failed sign-in attempts.
func (c *Client) Unlock(ctx context.Context, id string) (account.User, error) {
	u, err := c.users.Unlock(ctx, id)
	if err != nil {
		return account.User{}, Explain(err, "unlock "+id)
	}
	return fromClerk(u), nil
}

// SampleUsers is the runbook's API timing call: GET /users?limit=1.
func (c *Client) SampleUsers(ctx context.Context) error {
	limit := int64(1)
	_, err := c.ListUsers(ctx, &user.ListParams{ListParams: clerk.ListParams{Limit: &limit}})
	return Explain(err, "list users")
}

// Ping proves the secret key works at no rate cost (GET /jwks).
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.jwks.Get(ctx, &jwks.GetParams{})
	return Explain(err, "reach Clerk")
}

func isNotFound(err error) bool {
	var api *clerk.APIErrorResponse
	return errors.As(err, &api) && api.HTTPStatusCode == http.StatusNotFound
}

// Error is a Clerk failure told as a sentence.
type Error struct {
	Op     string
	Status int
	Reason string
	err    error
}

func (e *Error) Error() string { return e.Reason }
func (e *Error) Unwrap() error { return e.err }

// Explain turns an SDK error into a sentence a responder can act on. It
// never includes the key or request URLs.
func Explain(err error, op string) error {
	if err == nil {
		return nil
	}
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return &Error{Op: op, Status: http.StatusTooManyRequests, err: err,
			Reason: fmt.Sprintf("Could not %s: Clerk's rate limit asks to wait %s (Retry-After); nothing more was sent. Try again after that: the app shares this budget", op, ra.Wait.Round(time.Second))}
	}
	var api *clerk.APIErrorResponse
	if errors.As(err, &api) {
		msg := ""
		if len(api.Errors) > 0 {
			msg = api.Errors[0].LongMessage
			if msg == "" {
				msg = api.Errors[0].Message
			}
		}
		reason := fmt.Sprintf("Clerk refused to %s (%d: %s)", op, api.HTTPStatusCode, msg)
		switch api.HTTPStatusCode {
		case http.StatusUnauthorized:
			reason = "Clerk rejected CLERK_SECRET_KEY (401): check the key and that it belongs to this instance"
		case http.StatusPaymentRequired:
			// The spec's only 402s are ban and unban: the plan lacks banning.
			reason = fmt.Sprintf("Clerk could not %s: this instance's plan does not include banning users (402 Payment Required), so nothing was changed. Upgrade the plan in the Clerk dashboard, or use `revoke` to end the user's sessions", op)
			if !strings.HasPrefix(op, "ban ") && !strings.HasPrefix(op, "unban ") {
				reason = fmt.Sprintf("Clerk could not %s: this instance's plan does not include it (402 Payment Required), so nothing was changed; the Clerk dashboard shows which plan does", op)
			}
		case http.StatusForbidden:
			reason = fmt.Sprintf("Clerk did not allow us to %s (403: %s)", op, msg)
			if strings.HasPrefix(op, "lock ") || strings.HasPrefix(op, "unlock ") {
				reason += "; user lockout may be turned off for this instance (account.Restrictions in the Clerk dashboard)"
			}
		case http.StatusNotFound:
			reason = fmt.Sprintf("Could not %s: user or session not found", op)
			if !strings.Contains(op, "user") && !strings.Contains(op, "session") && !strings.Contains(op, " user_") {
				reason = fmt.Sprintf("Could not %s: Clerk has no such object (404)", op)
			}
		case http.StatusTooManyRequests:
			reason = fmt.Sprintf("Could not %s: Clerk's rate limit is still exceeded after retries", op)
		}
		return &Error{Op: op, Status: api.HTTPStatusCode, Reason: reason, err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &Error{Op: op, Reason: fmt.Sprintf("Could not %s: Clerk did not answer in time", op), err: err}
	}
	return &Error{Op: op, Reason: fmt.Sprintf("Could not %s: Clerk is unreachable or answered unexpectedly", op), err: err}
}

// RevokeMany revokes the sessions of many users, concurrency at a time,
// calling progress after each user. Results keep the input order.
func (c *Client) RevokeMany(ctx context.Context, ids []string, concurrency int, verify bool, progress func(done, failed int)) []account.RevokeResult {
	out := make([]account.RevokeResult, len(ids))
	work := make(chan int)
	var mu sync.Mutex
	done, failed := 0, 0
	var wg sync.WaitGroup
	for range max(1, min(concurrency, len(ids))) {
		wg.Go(func() {
			for i := range work {
				r := c.revokeGuarded(ctx, ids[i], verify)
				out[i] = r
				mu.Lock()
				done++
				if r.Err != nil || r.Left > 0 {
					failed++
				}
				d, f := done, failed
				mu.Unlock()
				if progress != nil {
					// A broken progress line must not stop the revokes.
					c.guard.Run(ctx, "revoke progress", "", func(context.Context) { progress(d, f) })
				}
			}
		})
	}
	for i := range ids {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// ErrorCode classifies the failure for the user's sentence (apperr).
func (e *Error) ErrorCode() apperr.Code {
	switch {
	case e.Status == http.StatusUnauthorized:
		return apperr.ClerkUnauthorized
	case e.Status == http.StatusForbidden:
		return apperr.ClerkForbidden
	case e.Status == http.StatusPaymentRequired:
		return apperr.ClerkPlanRequired
	case e.Status == http.StatusNotFound:
		return apperr.NotFound
	case e.Status == http.StatusTooManyRequests:
		return apperr.ClerkRateLimited
	case e.Status >= 400 && e.Status < 500:
		return apperr.Invalid
	}
	return apperr.UnavailableClerk
}

// revokeGuarded is RevokeSessions in a worker: a panic becomes that user's
// failure (logged by the caller with the rest), not the end of the bot.
func (c *Client) revokeGuarded(ctx context.Context, id string, verify bool) (res account.RevokeResult) {
	if c.guard.Run(ctx, "revoke worker", "", func(ctx context.Context) { res = c.RevokeSessions(ctx, id, verify) }) {
		res = account.RevokeResult{User: id, Err: errors.New("internal error while revoking (logged); run revoke again for this user")}
	}
	return res
}
