// Package github files issues through GitHub's REST API: create one
// (POST /repos/{owner}/{repo}/issues) and find one by a marker in its body
// (GET /search/issues). It knows nothing of incidents or Slack.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
)

// DefaultAPIURL is GitHub's REST API.
const DefaultAPIURL = "https://api.github.com"

// Config names the repository and how to reach GitHub.
type Config struct {
	Token  string // GITHUB_TOKEN
	Repo   string // GITHUB_REPOSITORY: owner/name
	APIURL string // GITHUB_API_URL
	// HTTP sends each attempt (nil: http.DefaultClient); an attempt has
	// at most 20 s either way.
	HTTP *http.Client
	// Sleep waits out a retry-after or a backoff (tests inject it); nil:
	// backoff.Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxWait is the longest retry-after waited out (default 60 s): a
	// longer one is said, not slept through.
	MaxWait time.Duration
	// Attempts bounds the tries of one call (default 4).
	Attempts int
	// Now reads the clock for reset headers; nil: time.Now.
	Now func() time.Time
	// Count counts every attempt (metrics); nil: not counted.
	Count httpx.Counter
}

// Client calls GitHub for one repository.
type Client struct {
	cfg Config
}

var repoRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

// ValidRepo checks GITHUB_REPOSITORY's owner/name form.
func ValidRepo(s string) error {
	if !repoRe.MatchString(s) || strings.HasSuffix(s, "/.") || strings.HasSuffix(s, "/..") {
		return fmt.Errorf("%q is not owner/name, such as acme/incidents", s)
	}
	return nil
}

// New returns a client.
func New(c Config) *Client {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.Sleep == nil {
		c.Sleep = backoff.Sleep
	}
	if c.MaxWait == 0 {
		c.MaxWait = time.Minute
	}
	if c.Attempts == 0 {
		c.Attempts = 4
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Client{cfg: c}
}

// Repo is GITHUB_REPOSITORY.
func (c *Client) Repo() string { return c.cfg.Repo }

// Issue is an issue as GitHub answers it.
type Issue struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	State   string `json:"state"`
}

// NewIssue is what CreateIssue posts.
type NewIssue struct {
	Title  string   `json:"title"`
	Body   string   `json:"body,omitempty"`
	Labels []string `json:"labels,omitempty"`
}

// Error is GitHub's answer when it is not a success: its status, its
// message and, for 422, the fields at fault. Error() is a sentence that
// says what to do; it never holds the token.
type Error struct {
	Status  int
	Message string
	Fields  []string // 422: "title missing_field"…
	Op      string   // "create an issue", "search issues"
	Repo    string
	// RetryAfter is a rate limit's wait (retry-after, or until
	// x-ratelimit-reset); zero when none was given.
	RetryAfter time.Duration
	RateLimit  bool
}

func (e *Error) Error() string {
	detail := ""
	if e.Message != "" {
		detail = ": " + strings.TrimSuffix(e.Message, ".")
	}
	if len(e.Fields) > 0 {
		detail += " (" + strings.Join(e.Fields, ", ") + ")"
	}
	switch {
	case e.RateLimit:
		wait := "a minute"
		if e.RetryAfter > 0 {
			wait = e.RetryAfter.Round(time.Second).String()
		}
		return fmt.Sprintf("GitHub's rate limit is spent (%d%s) when asked to %s; it asks to wait %s, longer than the bot waits. Try again then.", e.Status, detail, e.Op, wait)
	case e.Status == http.StatusUnauthorized:
		return fmt.Sprintf("GitHub rejected GITHUB_TOKEN (401%s) when asked to %s. The token is wrong, expired or revoked: create one with the Issues (write) permission on %s and set GITHUB_TOKEN.", detail, e.Op, e.Repo)
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("GitHub refused GITHUB_TOKEN (403%s) when asked to %s. Give the token the Issues (write) permission on %s.", detail, e.Op, e.Repo)
	case e.Status == http.StatusNotFound:
		return fmt.Sprintf("GitHub knows no repository %s that GITHUB_TOKEN can see (404%s) when asked to %s. Check GITHUB_REPOSITORY (owner/name) and that the token has access to it.", e.Repo, detail, e.Op)
	case e.Status == http.StatusGone:
		return fmt.Sprintf("Issues are turned off in %s (410%s). Turn them on in the repository's settings (General → Features → Issues), or set GITHUB_REPOSITORY to a repository that has them.", e.Repo, detail)
	case e.Status == http.StatusUnprocessableEntity && e.Op == opSearch:
		return fmt.Sprintf("GitHub refused the issue search (422%s). GITHUB_REPOSITORY (%s) may name a repository that GITHUB_TOKEN cannot see, or GitHub no longer takes the query the bot built (a bug in the bot; it was logged).", detail, e.Repo)
	case e.Status == http.StatusUnprocessableEntity:
		return fmt.Sprintf("GitHub did not accept the issue (422%s) when asked to %s. A label or assignee may not exist in %s, or the text is too long.", detail, e.Op, e.Repo)
	case e.Status == http.StatusBadRequest:
		return fmt.Sprintf("GitHub could not read the request (400%s) when asked to %s. This is a bug in the bot; it was logged.", detail, e.Op)
	case e.Status == http.StatusServiceUnavailable:
		return fmt.Sprintf("GitHub is unavailable (503%s) when asked to %s, after retries. Check https://www.githubstatus.com and try again.", detail, e.Op)
	case e.Status >= 500:
		return fmt.Sprintf("GitHub failed (%d) when asked to %s. Check https://www.githubstatus.com and try again.", e.Status, e.Op)
	}
	return fmt.Sprintf("GitHub answered %d%s when asked to %s.", e.Status, detail, e.Op)
}

// ErrorCode codes the error for apperr.CodeOf: GitHub not answering or
// rate limiting is a remote's unavailability; the rest will not change on
// retry.
func (e *Error) ErrorCode() apperr.Code {
	switch {
	case e.RateLimit || e.Status >= 500:
		return apperr.UnavailableRemote
	case e.Status == http.StatusNotFound:
		return apperr.NotFound
	}
	return apperr.Invalid
}

// HTTPStatus is the status GitHub answered.
func (e *Error) HTTPStatus() int { return e.Status }

// IsStatus reports whether err is GitHub answering status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// NotCreated reports whether err proves that a create did not happen:
// GitHub refused it (4xx, a rate limit) or said it is unavailable (503).
// Any other failure (no answer, 500, 502, 504) may have created the issue.
func NotCreated(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Status < 500 || e.Status == http.StatusServiceUnavailable
}

// CreateIssue posts one issue. Secondary rate limits (403 or 429 with
// retry-after) are waited out when short, and 503 retried with backoff:
// GitHub did nothing then. Any other 5xx or a lost answer is returned at
// once, since the issue may exist: the caller looks before posting again.
func (c *Client) CreateIssue(ctx context.Context, in NewIssue) (Issue, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return Issue{}, fmt.Errorf("github create an issue: %w", err)
	}
	var out Issue
	err = c.call(ctx, http.MethodPost, "/repos/"+c.cfg.Repo+"/issues", nil, body, "create an issue", &out, func(status int) bool {
		return status == http.StatusServiceUnavailable
	})
	return out, err
}

// opSearch names the issue search in errors (its 422 is not a refused issue).
const opSearch = "search issues"

// Search runs an issue search (GET /search/issues) and returns its items.
func (c *Client) Search(ctx context.Context, q string) ([]Issue, error) {
	var out struct {
		TotalCount int     `json:"total_count"`
		Incomplete bool    `json:"incomplete_results"`
		Items      []Issue `json:"items"`
	}
	err := c.call(ctx, http.MethodGet, "/search/issues", url.Values{"q": {q}, "per_page": {"20"}}, nil, opSearch, &out, func(status int) bool {
		return status >= 500
	})
	return out.Items, err
}

// FindByMarker is the issue of this repository whose body holds marker,
// or nil when search shows none. It searches the marker's words in bodies
// and then, since GitHub Enterprise may not index HTML comments, title (a
// phrase the issue's title holds) in titles; either way an issue counts
// only when its body holds marker as written. Search lags new issues by
// seconds: nil does not prove there is none.
func (c *Client) FindByMarker(ctx context.Context, marker, title string) (*Issue, error) {
	// The phrase, without the HTML comment's punctuation, in this repo.
	phrase := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(marker, "<!--"), "-->"))
	queries := []string{fmt.Sprintf(`"%s" repo:%s is:issue in:body`, phrase, c.cfg.Repo)}
	if t := strings.TrimSpace(strings.ReplaceAll(title, `"`, " ")); t != "" {
		queries = append(queries, fmt.Sprintf(`"%s" repo:%s is:issue in:title`, t, c.cfg.Repo))
	}
	for _, q := range queries {
		items, err := c.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			// Search matches words; the marker must be there as written.
			if strings.Contains(it.Body, marker) {
				return &it, nil
			}
		}
	}
	return nil, nil
}

// call sends one request through the one retry loop with GitHub's rules:
// a rate limit is waited out as asked (no retry-after: MaxWait) unless
// that is longer than MaxWait, the statuses retry says are retried with
// backoff, anything else (a lost answer included) is returned at once;
// at most Attempts tries.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body []byte, op string, out any, retry func(status int) bool) error {
	u := c.cfg.APIURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.cfg.Token)
	h.Set("Accept", "application/vnd.github+json")
	h.Set("X-GitHub-Api-Version", "2022-11-28")
	h.Set("User-Agent", "clerk-incident-bot")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	svc := httpx.Service{Name: "github", HTTP: c.cfg.HTTP, Timeout: 20 * time.Second, Limit: 8 << 20, Count: c.cfg.Count,
		Policy: httpx.Policy{Attempts: c.cfg.Attempts, Sleep: c.cfg.Sleep, Classify: func(a httpx.Answer) httpx.Verdict {
			if a.Err != nil || a.Status < 300 {
				return httpx.Verdict{}
			}
			e := c.errorOf(a, op)
			switch {
			case e.RateLimit:
				if e.RetryAfter > c.cfg.MaxWait {
					return httpx.Verdict{}
				}
				// No retry-after: GitHub asks for at least a minute (MaxWait).
				wait := e.RetryAfter
				if wait == 0 {
					wait = c.cfg.MaxWait
				}
				return httpx.Verdict{Retry: true, Wait: wait}
			case retry(e.Status):
				return httpx.Verdict{Retry: true, Wait: backoff.Delay(a.Attempt, time.Second, 20*time.Second)}
			}
			return httpx.Verdict{}
		}}}
	a, err := svc.Do(ctx, httpx.Request{Method: method, URL: u, Route: route(path), Header: h, Body: body})
	var we *httpx.WaitError
	var bad *httpx.RequestError
	switch {
	case errors.As(err, &we):
		return fmt.Errorf("waiting to retry GitHub (%s): %w", op, we.Err)
	case errors.As(err, &bad):
		return fmt.Errorf("github %s: %w", op, bad.Err)
	case err != nil:
		// The URL holds no secret; the token is only in a header.
		return apperr.Wrap(apperr.UnavailableRemote, "GitHub did not answer when asked to "+op, errors.Unwrap(err))
	case a.Status >= 300:
		return c.errorOf(a, op)
	}
	if out == nil || len(a.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(a.Body, out); err != nil {
		return fmt.Errorf("the answer of GitHub to %s could not be read: %w", op, err)
	}
	return nil
}

// route is path as counted: the repository's issues, or the search.
func route(path string) string {
	if strings.HasSuffix(path, "/issues") && strings.HasPrefix(path, "/repos/") {
		return "/repos/{owner}/{repo}/issues"
	}
	return path
}

// errorOf reads GitHub's {"message","errors":[…]} and its rate-limit
// headers.
func (c *Client) errorOf(a httpx.Answer, op string) *Error {
	raw, status, header := a.Body, a.Status, a.Header
	e := &Error{Status: status, Op: op, Repo: c.cfg.Repo}
	var env struct {
		Message string `json:"message"`
		Errors  []struct {
			Field   string `json:"field"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(raw, &env) == nil {
		e.Message = oneLine(env.Message, 200)
		for _, f := range env.Errors {
			s := strings.TrimSpace(f.Field + " " + f.Code)
			if f.Message != "" {
				s = strings.TrimSpace(s + " " + f.Message)
			}
			e.Fields = append(e.Fields, oneLine(s, 100))
		}
	}
	limited := status == http.StatusForbidden || status == http.StatusTooManyRequests
	if wait, ok := httpx.RetryAfter(header, c.cfg.Now()); ok {
		e.RetryAfter = wait
		e.RateLimit = limited
	}
	if limited && !e.RateLimit {
		// A primary limit: remaining 0 until reset; a secondary one
		// without retry-after names itself in the message.
		if header.Get("X-RateLimit-Remaining") == "0" {
			e.RateLimit = true
			if wait, ok := httpx.ResetIn(header, "X-RateLimit-Reset", c.cfg.Now()); ok {
				e.RetryAfter = wait
			}
		} else if status == http.StatusTooManyRequests || strings.Contains(strings.ToLower(e.Message), "rate limit") {
			e.RateLimit = true
		}
	}
	return e
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
