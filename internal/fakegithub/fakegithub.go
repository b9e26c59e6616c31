// Package fakegithub is an in-process GitHub REST API for tests and the
// sandbox: creating an issue (POST /repos/{owner}/{repo}/issues) and
// searching issues (GET /search/issues) with GitHub's shapes and its
// documented failures: 401 bad credentials, 404 for a repository the token
// cannot see, 410 when issues are disabled, 422 validation, 400 for a body
// that is not JSON, 503, and secondary rate limits answered 403 or 429 with
// retry-after. Search lags new issues as GitHub's does, refuses (422) a
// query without is:issue or is:pull-request as GitHub's advanced issue
// search does, and reads in:title/in:body; like GitHub Enterprise it can
// leave HTML comments unindexed. Every request is recorded for the spec
// test (SpecRequests).
package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

// Server is the fake.
type Server struct {
	srv *httptest.Server

	Token string
	Repo  string // owner/name

	mu         sync.Mutex
	now        func() time.Time
	issues     []Issue
	disabled   bool
	failures   []Failure
	lag        time.Duration
	lagCount   int
	requests   []Request
	afterPost  func(Issue)
	noComments bool // HTML comments are not indexed (GitHub Enterprise)
	rec        speccheck.Recorder
}

// Issue is an issue the fake holds.
type Issue struct {
	Number    int
	Title     string
	Body      string
	Labels    []string
	CreatedAt time.Time
}

// Request is one request the fake saw.
type Request struct {
	Method, Path, Query string
	Header              http.Header
}

// Failure is a scripted answer to the next matching call.
type Failure struct {
	Method     string // "" any
	Status     int
	RetryAfter string // the retry-after header ("" none)
	Message    string // default: GitHub's message for Status
}

// New starts a fake for repo acme/incidents with a token.
func New() *Server {
	s := &Server{Token: "ghp_fakeToken0123456789abcdefABCDEF0123", Repo: "acme/incidents", now: time.Now}
	s.srv = httptest.NewServer(s.rec.Wrap(http.HandlerFunc(s.serve)))
	return s
}

// SpecRequests is every request received, for a check against GitHub's
// REST API description (speccheck.GitHub).
func (s *Server) SpecRequests() []speccheck.Request { return s.rec.Requests() }

// SpecErrors checks every request received against the description
// (speccheck.GitHub): one error per request outside it.
func (s *Server) SpecErrors() []error {
	return speccheck.MustLoad(speccheck.GitHub).CheckAll(s.rec.Requests())
}

// UnindexedComments makes search blind to HTML comments in bodies, as
// GitHub Enterprise Server's search may be: a marker hidden in a comment
// is then found only by what the title says.
func (s *Server) UnindexedComments(on bool) { s.mu.Lock(); s.noComments = on; s.mu.Unlock() }

// URL is the API's base URL (GITHUB_API_URL).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetNow sets the fake's clock (search lag is measured on it).
func (s *Server) SetNow(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// DisableIssues answers 410 to creates, as a repository with issues off.
func (s *Server) DisableIssues(off bool) { s.mu.Lock(); s.disabled = off; s.mu.Unlock() }

// Fail scripts the next n matching calls.
func (s *Server) Fail(f Failure, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, f)
	}
}

// SetSearchLag hides issues younger than d (on the fake's clock) from
// search; SetSearchLagCount hides the newest n issues.
func (s *Server) SetSearchLag(d time.Duration) { s.mu.Lock(); s.lag = d; s.mu.Unlock() }

// SetSearchLagCount hides the newest n issues from search.
func (s *Server) SetSearchLagCount(n int) { s.mu.Lock(); s.lagCount = n; s.mu.Unlock() }

// AfterCreate runs fn after an issue is created and before the answer is
// written (a test kills the caller there).
func (s *Server) AfterCreate(fn func(Issue)) { s.mu.Lock(); s.afterPost = fn; s.mu.Unlock() }

// Create files an issue directly, as if a caller's POST had succeeded.
func (s *Server) Create(title, body string) Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.create(title, body, nil)
}

// Issues is every issue created, in order.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Issue(nil), s.issues...)
}

// Requests is every request seen.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// IssueURL is an issue's html_url.
func (s *Server) IssueURL(n int) string {
	return fmt.Sprintf("https://github.com/%s/issues/%d", s.Repo, n)
}

func (s *Server) create(title, body string, labels []string) Issue {
	is := Issue{Number: len(s.issues) + 1, Title: title, Body: body, Labels: labels, CreatedAt: s.now()}
	s.issues = append(s.issues, is)
	return is
}

func (s *Server) issueJSON(is Issue) map[string]any {
	return map[string]any{
		"id": 1000 + is.Number, "number": is.Number, "title": is.Title, "body": is.Body, "state": "open",
		"html_url": s.IssueURL(is.Number),
		"url":      fmt.Sprintf("%s/repos/%s/issues/%d", s.srv.URL, s.Repo, is.Number),
	}
}

var messages = map[int]string{
	http.StatusBadRequest:          "Problems parsing JSON",
	http.StatusUnauthorized:        "Bad credentials",
	http.StatusForbidden:           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
	http.StatusNotFound:            "Not Found",
	http.StatusGone:                "Issues are disabled for this repo",
	http.StatusUnprocessableEntity: "Validation Failed",
	http.StatusTooManyRequests:     "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
	http.StatusServiceUnavailable:  "Service Unavailable",
}

func writeErr(w http.ResponseWriter, status int, msg string, errs []map[string]string) {
	if msg == "" {
		msg = messages[status]
	}
	body := map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue", "status": fmt.Sprint(status)}
	if errs != nil {
		body["errors"] = errs
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

var issuesPath = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()})
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		s.mu.Unlock()
		writeErr(w, http.StatusUnauthorized, "", nil)
		return
	}
	for i, f := range s.failures {
		if f.Method == "" || f.Method == r.Method {
			s.failures = append(s.failures[:i:i], s.failures[i+1:]...)
			s.mu.Unlock()
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			if f.Status == http.StatusForbidden || f.Status == http.StatusTooManyRequests {
				w.Header().Set("X-RateLimit-Remaining", "4999")
			}
			writeErr(w, f.Status, f.Message, nil)
			return
		}
	}
	s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && issuesPath.MatchString(r.URL.Path):
		s.postIssue(w, r, issuesPath.FindStringSubmatch(r.URL.Path)[1])
	case r.Method == http.MethodGet && r.URL.Path == "/search/issues":
		s.search(w, r)
	default:
		writeErr(w, http.StatusNotFound, "", nil)
	}
}

func (s *Server) postIssue(w http.ResponseWriter, r *http.Request, repo string) {
	var in struct {
		Title  *string  `json:"title"`
		Body   string   `json:"body"`
		Labels []string `json:"labels"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(w, http.StatusBadRequest, "", nil)
		return
	}
	s.mu.Lock()
	if !strings.EqualFold(repo, s.Repo) {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, "", nil)
		return
	}
	if s.disabled {
		s.mu.Unlock()
		writeErr(w, http.StatusGone, "", nil)
		return
	}
	switch {
	case in.Title == nil || strings.TrimSpace(*in.Title) == "":
		s.mu.Unlock()
		writeErr(w, http.StatusUnprocessableEntity, "", []map[string]string{{"resource": "Issue", "code": "missing_field", "field": "title"}})
		return
	case len(*in.Title) > 256:
		s.mu.Unlock()
		writeErr(w, http.StatusUnprocessableEntity, "", []map[string]string{{"resource": "Issue", "code": "custom", "field": "title", "message": "title is too long (maximum is 256 characters)"}})
		return
	case len(in.Body) > 65536:
		s.mu.Unlock()
		writeErr(w, http.StatusUnprocessableEntity, "", []map[string]string{{"resource": "Issue", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}})
		return
	}
	is := s.create(*in.Title, in.Body, in.Labels)
	after := s.afterPost
	out := s.issueJSON(is)
	s.mu.Unlock()
	if after != nil {
		after(is)
	}
	w.Header().Set("Location", fmt.Sprintf("%s/repos/%s/issues/%d", s.srv.URL, s.Repo, is.Number))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(out)
}

var (
	phraseRe  = regexp.MustCompile(`"([^"]*)"`)
	repoRe    = regexp.MustCompile(`(?:^|\s)repo:(\S+)`)
	isRe      = regexp.MustCompile(`(?:^|\s)(?:is|type):(issue|pull-request|pr)(?:\s|$)`)
	inRe      = regexp.MustCompile(`(?:^|\s)in:(\S+)`)
	commentRe = regexp.MustCompile(`(?s)<!--.*?-->`)
)

// search understands a quoted phrase, repo:, is:issue and in:title/body;
// issues are matched on title and body (in: narrows it), minus those
// search has not indexed yet.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeErr(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"resource": "Search", "field": "q", "code": "missing"}})
		return
	}
	if !isRe.MatchString(q) {
		// GitHub's advanced issue search: the kind must be named.
		writeErr(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"resource": "Search", "field": "q", "code": "invalid",
			"message": "Query must include 'is:issue' or 'is:pull-request'"}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := repoRe.FindStringSubmatch(q); m != nil && !strings.EqualFold(m[1], s.Repo) {
		writeErr(w, http.StatusUnprocessableEntity, "Validation Failed", []map[string]string{{"resource": "Search", "field": "q", "code": "invalid", "message": "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them."}})
		return
	}
	inTitle, inBody := true, true
	if m := inRe.FindStringSubmatch(q); m != nil {
		inTitle, inBody = strings.Contains(m[1], "title"), strings.Contains(m[1], "body")
	}
	var phrases []string
	for _, m := range phraseRe.FindAllStringSubmatch(q, -1) {
		phrases = append(phrases, strings.ToLower(m[1]))
	}
	items := []map[string]any{}
	now := s.now()
	for i, is := range s.issues {
		if i >= len(s.issues)-s.lagCount || now.Sub(is.CreatedAt) < s.lag {
			continue
		}
		var text string
		if inTitle {
			text += is.Title + "\n"
		}
		if inBody {
			body := is.Body
			if s.noComments {
				body = commentRe.ReplaceAllString(body, " ")
			}
			text += body
		}
		text = strings.ToLower(text)
		ok := true
		for _, p := range phrases {
			ok = ok && strings.Contains(text, p)
		}
		if ok {
			items = append(items, s.issueJSON(is))
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"total_count": len(items), "incomplete_results": false, "items": items})
}
