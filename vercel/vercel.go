// Package vercel reads and rolls back the app's production deployments
// through Vercel's REST API (the runbook's examples run on Vercel): the
// app's half of an auth outage. It knows nothing of Slack.
package vercel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
)

// DefaultAPIURL is Vercel's REST API.
const DefaultAPIURL = "https://api.vercel.com"

// Config names the project and how to reach Vercel.
type Config struct {
	Token   string // VERCEL_TOKEN
	Project string // VERCEL_PROJECT_ID: prj_… or the project's name
	Team    string // VERCEL_TEAM_ID, sent as teamId on every call when set
	APIURL  string // VERCEL_API_URL
	// HTTP sends each request (nil: http.DefaultClient), which has at most
	// 15 s either way.
	HTTP *http.Client
	// OnCall hears of every call (the audit log); nil: nobody.
	OnCall func(ctx context.Context, c Call)
	// Count counts every call (metrics); nil: not counted.
	Count httpx.Counter
}

// Call is one request to Vercel, as the audit log shows it: the route
// (no token, no query values), the status and how it ended.
type Call struct {
	Method, Route string
	Status        int // 0 when no answer came
	Err           error
}

// Client calls Vercel for one project.
type Client struct {
	cfg Config
}

// New returns a client.
func New(c Config) *Client {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	return &Client{cfg: c}
}

// ProjectRef is the VERCEL_PROJECT_ID as configured.
func (c *Client) ProjectRef() string { return c.cfg.Project }

// Error is Vercel's {"error":{"code","message"}} with its status; its
// Error() is a sentence that says what to do.
type Error struct {
	Status  int
	Code    string
	Message string
	Op      string    // what was asked: "list deployments", "roll back"…
	Reset   time.Time // a 429's error.limit.reset
}

func (e *Error) Error() string {
	detail := ""
	if e.Message != "" {
		detail = ": " + strings.TrimSuffix(e.Message, ".")
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return fmt.Sprintf("Vercel rejected VERCEL_TOKEN (401%s) when asked to %s. The token is wrong, expired or revoked: create one at https://vercel.com/account/tokens and set VERCEL_TOKEN.", detail, e.Op)
	case http.StatusForbidden:
		return fmt.Sprintf("Vercel refused VERCEL_TOKEN access (403%s) when asked to %s. Give the token the scope of the team that owns the project and set VERCEL_TEAM_ID to that team, or check VERCEL_PROJECT_ID.", detail, e.Op)
	case http.StatusPaymentRequired:
		return fmt.Sprintf("Vercel's plan for this team does not allow this (402%s) when asked to %s. On the Hobby plan only the previous production deployment can be rolled back to: use `rollback previous`, or roll back from the Vercel dashboard.", detail, e.Op)
	case http.StatusNotFound:
		return fmt.Sprintf("Vercel knows no such project or deployment (404%s) when asked to %s. Check VERCEL_PROJECT_ID (and VERCEL_TEAM_ID for a team's project) and the deployment ID.", detail, e.Op)
	case http.StatusConflict:
		return fmt.Sprintf("Vercel answered conflict (409%s) when asked to %s: another promote or rollback is probably running, or that deployment already serves production. Run `deploys` to see what serves production now, then try again.", detail, e.Op)
	case http.StatusUnprocessableEntity, http.StatusGone, http.StatusBadRequest:
		return fmt.Sprintf("Vercel cannot do this (%d%s) when asked to %s: the deployment must be an earlier production deployment of this project that is READY. Pick one from `deploys`.", e.Status, detail, e.Op)
	case http.StatusTooManyRequests:
		if !e.Reset.IsZero() {
			return fmt.Sprintf("Vercel's rate limit is spent (429) when asked to %s; it resets at %s. Try again then.", e.Op, e.Reset.UTC().Format("15:04:05 UTC"))
		}
		return fmt.Sprintf("Vercel's rate limit is spent (429) when asked to %s. Try again in a minute.", e.Op)
	}
	if e.Status >= 500 {
		return fmt.Sprintf("Vercel failed (%d) when asked to %s. Check https://www.vercel-status.com and try again.", e.Status, e.Op)
	}
	return fmt.Sprintf("Vercel answered %d%s when asked to %s.", e.Status, detail, e.Op)
}

// ErrorCode codes the refusal for apperr.CodeOf: a rate limit or a
// failure of Vercel's may pass; the rest will not change on retry.
func (e *Error) ErrorCode() apperr.Code {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return apperr.UnavailableRemote
	case e.Status == http.StatusNotFound:
		return apperr.NotFound
	}
	return apperr.Invalid
}

// HTTPStatus is the status Vercel answered.
func (e *Error) HTTPStatus() int { return e.Status }

// IsStatus reports whether err is Vercel answering status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// do sends one request, once (a 429 or 5xx is the caller's to wait out:
// Follow polls on); route is the path with its placeholders for the audit
// log and metrics, path the real one.
func (c *Client) do(ctx context.Context, method, route, path string, q url.Values, op string, out any) error {
	if q == nil {
		q = url.Values{}
	}
	if c.cfg.Team != "" {
		q.Set("teamId", c.cfg.Team)
	}
	u := c.cfg.APIURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.cfg.Token)
	h.Set("Accept", "application/json")
	svc := httpx.Service{Name: "vercel", HTTP: c.cfg.HTTP, Timeout: 15 * time.Second, Limit: 8 << 20, Count: c.cfg.Count,
		Policy: httpx.Policy{Classify: httpx.Never}}
	a, err := svc.Do(ctx, httpx.Request{Method: method, URL: u, Route: route, Header: h})
	var bad *httpx.RequestError
	if errors.As(err, &bad) {
		return fmt.Errorf("vercel %s: %w", op, bad.Err)
	}
	call := Call{Method: method, Route: route}
	if err != nil {
		// The URL has no secret; the error is the transport's.
		err = apperr.Wrap(apperr.UnavailableRemote, "", fmt.Errorf("no answer from Vercel when asked to %s: %w", op, errors.Unwrap(err)))
		call.Err = err
		c.report(ctx, call)
		return err
	}
	body := a.Body
	call.Status = a.Status
	if a.Status >= 300 {
		e := &Error{Status: a.Status, Op: op}
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Limit   *struct {
					Reset   int64 `json:"reset"`
					ResetMs int64 `json:"resetMs"`
				} `json:"limit"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &env) == nil {
			e.Code, e.Message = env.Error.Code, oneLine(env.Error.Message, 200)
			if l := env.Error.Limit; l != nil {
				switch {
				case l.ResetMs > 0:
					e.Reset = time.UnixMilli(l.ResetMs)
				case l.Reset > 0:
					e.Reset = time.Unix(l.Reset, 0)
				}
			}
		}
		if e.Reset.IsZero() {
			if s, err := strconv.ParseInt(a.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
				e.Reset = time.Unix(s, 0)
			}
		}
		call.Err = e
		c.report(ctx, call)
		return e
	}
	c.report(ctx, call)
	if out == nil || len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return apperr.Wrap(apperr.UnavailableRemote, "", fmt.Errorf("the answer of Vercel to %s could not be read: %w", op, err))
	}
	return nil
}

func (c *Client) report(ctx context.Context, call Call) {
	if c.cfg.OnCall != nil {
		c.cfg.OnCall(context.WithoutCancel(ctx), call)
	}
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// Deployment is one deployment of the list (GET /v6/deployments).
type Deployment struct {
	UID          string  `json:"uid"`
	Name         string  `json:"name"`
	URL          string  `json:"url"` // host, no scheme
	Created      int64   `json:"created"`
	CreatedAt    int64   `json:"createdAt"`
	Ready        int64   `json:"ready"`
	State        string  `json:"state"`
	ReadyState   string  `json:"readyState"`
	Target       *string `json:"target"`
	InspectorURL string  `json:"inspectorUrl"`
	Creator      struct {
		Username string `json:"username"`
	} `json:"creator"`
	Meta map[string]string `json:"meta"`
	// IsRollbackCandidate is false for a deployment that never served
	// production (built with --skip-domain): Vercel refuses to roll back
	// to it. Absent in older answers.
	IsRollbackCandidate *bool `json:"isRollbackCandidate"`
}

// RollbackCandidate reports whether Vercel takes it as a rollback target
// (true when the answer does not say).
func (d Deployment) RollbackCandidate() bool {
	return d.IsRollbackCandidate == nil || *d.IsRollbackCandidate
}

// At is when it became ready (when it could serve), else when it was
// created: a build queued long before it went live dates from going live.
func (d Deployment) At() time.Time {
	if d.Ready > 0 {
		return time.UnixMilli(d.Ready)
	}
	if d.CreatedAt > 0 {
		return time.UnixMilli(d.CreatedAt)
	}
	return time.UnixMilli(d.Created)
}

// CreatedTime is when it was queued: its environment variables are the
// values of then (a change later reaches only newer deployments).
func (d Deployment) CreatedTime() time.Time {
	if d.CreatedAt > 0 {
		return time.UnixMilli(d.CreatedAt)
	}
	return time.UnixMilli(d.Created)
}

// Status is its readyState (state in older answers).
func (d Deployment) Status() string {
	if d.ReadyState != "" {
		return d.ReadyState
	}
	return d.State
}

// SHA is the Git commit, short, or "" for a deployment not from Git.
func (d Deployment) SHA() string {
	s := d.Meta["githubCommitSha"]
	if len(s) > 7 {
		s = s[:7]
	}
	return s
}

// Message is the commit message's first line, or "".
func (d Deployment) Message() string {
	m, _, _ := strings.Cut(d.Meta["githubCommitMessage"], "\n")
	return oneLine(m, 100)
}

// Author is the commit's author, else who deployed.
func (d Deployment) Author() string {
	for _, k := range []string{"githubCommitAuthorLogin", "githubCommitAuthorName"} {
		if v := d.Meta[k]; v != "" {
			return v
		}
	}
	return d.Creator.Username
}

// Link is where a person looks at it.
func (d Deployment) Link() string {
	if d.InspectorURL != "" {
		return d.InspectorURL
	}
	if d.URL != "" {
		return "https://" + d.URL
	}
	return ""
}

// Deployments lists the project's last n production deployments, newest
// first, following the pagination's next (passed as until).
func (c *Client) Deployments(ctx context.Context, n int) ([]Deployment, error) {
	var out []Deployment
	until := int64(0)
	for len(out) < n {
		q := url.Values{"projectId": {c.cfg.Project}, "target": {"production"}, "limit": {strconv.Itoa(min(n-len(out), 100))}}
		if until > 0 {
			q.Set("until", strconv.FormatInt(until, 10))
		}
		var page struct {
			Deployments []Deployment `json:"deployments"`
			Pagination  struct {
				Next *int64 `json:"next"`
			} `json:"pagination"`
		}
		if err := c.do(ctx, http.MethodGet, "/v6/deployments", "/v6/deployments", q, "list deployments", &page); err != nil {
			return nil, err
		}
		out = append(out, page.Deployments...)
		if page.Pagination.Next == nil || *page.Pagination.Next == 0 || len(page.Deployments) == 0 {
			break
		}
		until = *page.Pagination.Next
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// AliasRequest is the project's last promote or rollback.
type AliasRequest struct {
	Type             string `json:"type"` // promote, rollback
	FromDeploymentID string `json:"fromDeploymentId"`
	ToDeploymentID   string `json:"toDeploymentId"`
	JobStatus        string `json:"jobStatus"` // pending, in-progress, succeeded, failed, skipped
	RequestedAt      int64  `json:"requestedAt"`
}

// Done reports whether the job has ended.
func (a AliasRequest) Done() bool {
	return a.JobStatus == "succeeded" || a.JobStatus == "failed" || a.JobStatus == "skipped"
}

// Project is what the bot reads of a project (GET /v9/projects/{idOrName}).
type Project struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Targets map[string]*struct {
		ID string `json:"id"`
	} `json:"targets"`
	LastAliasRequest *AliasRequest `json:"lastAliasRequest"`
}

// Production is the ID of the deployment serving production, or "".
func (p *Project) Production() string {
	if t := p.Targets["production"]; t != nil {
		return t.ID
	}
	return ""
}

// Project reads the project.
func (c *Client) Project(ctx context.Context) (*Project, error) {
	var p Project
	if err := c.do(ctx, http.MethodGet, "/v9/projects/{idOrName}", "/v9/projects/"+url.PathEscape(c.cfg.Project), nil, "read the project", &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Env is one environment variable as the list gives it: its value there
// is ciphertext, never shown.
type Env struct {
	ID        string  `json:"id"`
	Key       string  `json:"key"`
	Type      string  `json:"type"` // encrypted, sensitive, plain, system, secret
	Target    Targets `json:"target"`
	UpdatedAt int64   `json:"updatedAt"`
	CreatedAt int64   `json:"createdAt"`
}

// Changed is when it was last changed.
func (e Env) Changed() time.Time {
	if e.UpdatedAt > 0 {
		return time.UnixMilli(e.UpdatedAt)
	}
	return time.UnixMilli(e.CreatedAt)
}

// Sensitive variables can never be read back.
func (e Env) Sensitive() bool { return e.Type == "sensitive" }

// Unreadable is why the variable's value cannot be read, from its type
// alone (sensitive, a legacy secret), or nil.
func (e Env) Unreadable() error {
	switch e.Type {
	case "sensitive":
		return ErrSensitive
	case "secret":
		return ErrLegacySecret
	}
	return nil
}

// Targets is a variable's target: Vercel answers a list or one string.
type Targets []string

// UnmarshalJSON takes either form.
func (t *Targets) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*t = Targets{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*t = many
	return nil
}

// Has reports whether the target list holds env.
func (t Targets) Has(env string) bool {
	for _, x := range t {
		if x == env {
			return true
		}
	}
	return false
}

// Envs lists the project's environment variables (values not read),
// following the list's pagination.next (passed back as until).
func (c *Client) Envs(ctx context.Context) ([]Env, error) {
	var all []Env
	seen := map[string]bool{}
	until := int64(0)
	for range 50 { // 50 pages: far beyond any project's variables
		q := url.Values{}
		if until > 0 {
			q.Set("until", strconv.FormatInt(until, 10))
		}
		var page struct {
			Envs       []Env `json:"envs"`
			Pagination *struct {
				Next *int64 `json:"next"`
			} `json:"pagination"`
		}
		if err := c.do(ctx, http.MethodGet, "/v10/projects/{idOrName}/env", "/v10/projects/"+url.PathEscape(c.cfg.Project)+"/env", q, "list environment variables", &page); err != nil {
			return nil, err
		}
		fresh := 0
		for _, e := range page.Envs {
			if !seen[e.ID] {
				seen[e.ID] = true
				all = append(all, e)
				fresh++
			}
		}
		// A page with nothing new, or a next that does not move back,
		// would loop: stop there.
		if page.Pagination == nil || page.Pagination.Next == nil || *page.Pagination.Next <= 0 || fresh == 0 ||
			(until > 0 && *page.Pagination.Next >= until) {
			break
		}
		until = *page.Pagination.Next
	}
	return all, nil
}

// ErrUnreadable: Vercel gives no plain value to check. Each reason wraps it.
var ErrUnreadable = errors.New("cannot be read")

var (
	// ErrSensitive: stored as sensitive, its value is never returned.
	ErrSensitive = fmt.Errorf("%w (sensitive)", ErrUnreadable)
	// ErrLegacySecret: a legacy secret variable (type secret) holds a
	// reference, not the value.
	ErrLegacySecret = fmt.Errorf("%w (a legacy secret: Vercel migrates these to sensitive variables)", ErrUnreadable)
	// ErrNotDecrypted: Vercel answered the value still encrypted.
	ErrNotDecrypted = fmt.Errorf("%w (Vercel answered it still encrypted)", ErrUnreadable)
)

// Value reads one variable's decrypted value. The caller must never log,
// show or store it: only facts about it (prefix kind, host it decodes to).
func (c *Client) Value(ctx context.Context, e Env) (string, error) {
	if err := e.Unreadable(); err != nil {
		return "", err
	}
	var out struct {
		Type      string  `json:"type"`
		Value     *string `json:"value"`
		Decrypted *bool   `json:"decrypted"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/projects/{idOrName}/env/{id}", "/v1/projects/"+url.PathEscape(c.cfg.Project)+"/env/"+url.PathEscape(e.ID), nil, "read "+e.Key, &out); err != nil {
		return "", err
	}
	switch {
	case out.Type == "sensitive" || out.Value == nil:
		return "", ErrSensitive
	case out.Type == "secret":
		return "", ErrLegacySecret
	case out.Decrypted != nil && !*out.Decrypted && out.Type != "plain":
		return "", ErrNotDecrypted
	}
	return *out.Value, nil
}

// Rollback asks Vercel to point production back at deployment to.
// projectID is the project's ID (the route takes no name).
func (c *Client) Rollback(ctx context.Context, projectID, to, description string) error {
	q := url.Values{}
	if description != "" {
		q.Set("description", oneLine(description, 200))
	}
	return c.do(ctx, http.MethodPost, "/v1/projects/{projectId}/rollback/{deploymentId}",
		"/v1/projects/"+url.PathEscape(projectID)+"/rollback/"+url.PathEscape(to), q, "roll back", nil)
}

// RollbackOf is the project's alias request when it is the rollback to
// deployment to requested at or after since, else nil.
func RollbackOf(p *Project, to string, since time.Time) *AliasRequest {
	a := p.LastAliasRequest
	if a == nil || a.Type != "rollback" || a.ToDeploymentID != to || time.UnixMilli(a.RequestedAt).Before(since.Add(-time.Minute)) {
		return nil
	}
	return a
}

// Follow polls the project, as Vercel's CLI does, until its last alias
// request is the rollback to to and its job has ended (succeeded, failed
// or skipped), or ctx ends. wait sleeps between polls (injected: tests
// poll without sleeping). It returns the last request seen.
func (c *Client) Follow(ctx context.Context, to string, since time.Time, wait func(ctx context.Context) error) (*AliasRequest, error) {
	var last *AliasRequest
	for {
		p, err := c.Project(ctx)
		if err != nil && !IsStatus(err, http.StatusTooManyRequests) && !isServer(err) {
			return last, err
		}
		if err == nil {
			if a := RollbackOf(p, to, since); a != nil {
				last = a
				if a.Done() {
					return a, nil
				}
			}
		}
		if err := wait(ctx); err != nil {
			return last, err
		}
	}
}

func isServer(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status >= 500
}

type actorKey struct{}

type actor struct{ who, incident string }

// WithActor names who a call is made for and its incident, for the audit
// log (OnCall reads it with ActorOf).
func WithActor(ctx context.Context, who, incident string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor{who, incident})
}

// ActorOf is who a call is made for ("" when unknown) and its incident.
func ActorOf(ctx context.Context) (who, incident string) {
	a, _ := ctx.Value(actorKey{}).(actor)
	return a.who, a.incident
}
