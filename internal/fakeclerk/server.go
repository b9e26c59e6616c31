// Package fakeclerk is an in-process Clerk Backend API with the wire
// shapes of Clerk's OpenAPI spec: bare JSON arrays for /users, /users/count,
// paginated sessions, POST bodies of `null`, JSON error bodies, 429 with
// Retry-After from a configurable request budget, and a call log.
package fakeclerk

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

// User is a fake Clerk user.
type User struct {
	ID        string
	FirstName string
	LastName  string
	Email     string
	Banned    bool
	Locked    bool
	CreatedAt int64
	TwoFactor bool
	// LastSignIn and LastActive are Unix ms (0: never).
	LastSignIn, LastActive int64
}

// Session is a fake Clerk session.
type Session struct {
	ID       string
	UserID   string
	Status   string
	Activity *Activity // nil: Clerk's latest_activity is null
}

// Activity is a session's latest_activity.
type Activity struct {
	Device, Browser, Version, IP, City, Country string
	Mobile                                      bool
}

// Call is one request as received.
type Call struct {
	Method string
	Path   string
	Query  string
	Body   string
	Status int
	At     time.Time
}

// Server is the fake Clerk.
type Server struct {
	Key string

	srv *httptest.Server

	mu       sync.Mutex
	users    map[string]*User
	sessions map[string]*Session
	seq      int
	calls    []Call
	budget   int           // requests allowed per window; 0: unlimited
	window   time.Duration // of the budget
	sent     []time.Time   // request times inside the window
	latency  time.Duration
	countLag int
	failures []failure
	banCode  int // status for ban and unban (402: the plan lacks banning); 0: success
	lockCode int // status for lock and unlock (403: user lockout is off); 0: success
	fapiCode int // status of the Frontend API paths; 0: they answer
	holds    []*hold
	security *secState // Procedure 2's endpoints (security.go); made on first use
}

// hold keeps matching requests waiting until released (Hold).
type hold struct {
	method, suffix string
	arrived        chan struct{}
	release        chan struct{}
	once           sync.Once
}

type failure struct {
	method, prefix string
	status         int
	retryAfter     int
	left           int
}

// New starts a fake Clerk whose secret key is sk_test_fake.
func New() *Server {
	s := &Server{Key: "sk_test_fakeclerkkey", users: map[string]*User{}, sessions: map[string]*Session{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// URL is what CLERK_API_URL should be set to.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SvixSecret is the secret inside the dashboard link /webhooks/svix_url
// returns; tests check it never reaches a channel or a log.
const SvixSecret = "eyJhcHBJZCI6ImFwcF9mYWtlIn0.svixOneTimeSecret"

// AddUser adds a user with n active sessions and returns it.
func (s *Server) AddUser(first, email string, sessions int) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	u := &User{ID: fmt.Sprintf("user_%04d%s", s.seq, strings.Repeat("x", 4)), FirstName: first, Email: email, CreatedAt: int64(1700000000000 + s.seq)}
	s.users[u.ID] = u
	for range sessions {
		s.addSession(u.ID)
	}
	return u
}

func (s *Server) addSession(userID string) {
	s.seq++
	id := fmt.Sprintf("sess_%06d", s.seq)
	s.sessions[id] = &Session{ID: id, UserID: userID, Status: "active"}
}

// AddSessionFrom gives a user one more active session with its latest
// activity, and returns the session's ID.
func (s *Server) AddSessionFrom(userID string, a Activity) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addSession(userID)
	id := fmt.Sprintf("sess_%06d", s.seq)
	s.sessions[id].Activity = &a
	return id
}

// AddSessions gives a user n more active sessions.
func (s *Server) AddSessions(userID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.addSession(userID)
	}
}

// User returns a copy of a user.
func (s *Server) User(id string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		return *u
	}
	return User{}
}

// SetBanned bans or unbans a user directly, as the dashboard would.
func (s *Server) SetBanned(id string, banned bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		u.Banned = banned
	}
}

// ActiveSessions counts active sessions of a user ("" for all users).
func (s *Server) ActiveSessions(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if ss.Status == "active" && (userID == "" || ss.UserID == userID) {
			n++
		}
	}
	return n
}

// SetBudget enforces n requests per window (a sliding window, as a
// client must assume); excess requests get 429 with Retry-After.
func (s *Server) SetBudget(n int, window time.Duration) {
	s.mu.Lock()
	s.budget, s.window = n, window
	s.mu.Unlock()
}

// SetCountLag makes /users/count report n users fewer than the list has,
// as a count that lags new or imported users does.
func (s *Server) SetCountLag(n int) {
	s.mu.Lock()
	s.countLag = n
	s.mu.Unlock()
}

// SetFrontendStatus makes the Frontend API paths (/.well-known/jwks.json,
// /v1/environment) answer code with Clerk's error body, as an instance
// that refuses the caller does (0: they answer again).
func (s *Server) SetFrontendStatus(code int) {
	s.mu.Lock()
	s.fapiCode = code
	s.mu.Unlock()
}

// SetLatency delays every response.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Hold keeps every request of method whose path ends with suffix waiting
// until release is called (or the caller gives up); arrived is closed
// when the first one comes. It lets a test act while a call is under way.
func (s *Server) Hold(method, suffix string) (arrived <-chan struct{}, release func()) {
	h := &hold{method: method, suffix: suffix, arrived: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	var done sync.Once
	return h.arrived, func() { done.Do(func() { close(h.release) }) }
}

// Fail makes the next n requests whose path starts with prefix (and
// method, if not "") answer status; retryAfter > 0 adds Retry-After.
func (s *Server) Fail(method, prefix string, status, n, retryAfter int) {
	s.mu.Lock()
	s.failures = append(s.failures, failure{method: method, prefix: prefix, status: status, left: n, retryAfter: retryAfter})
	s.mu.Unlock()
}

// Heal drops every failure still to give.
func (s *Server) Heal() {
	s.mu.Lock()
	s.failures = nil
	s.mu.Unlock()
}

// BanStatus makes ban and unban answer status (402 when the plan lacks
// banning, as the Backend API spec documents for both).
func (s *Server) BanStatus(status int) {
	s.mu.Lock()
	s.banCode = status
	s.mu.Unlock()
}

// Calls returns the call log.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// SpecRequests is every Backend API call as a request to Clerk, whose
// paths start /v1 (the fake serves them at its root), for a check against
// Clerk's Backend API description (clerkops/testdata). The Frontend API's
// calls the fake also answers (/v1/environment, /.well-known/jwks.json)
// are not in that description and are left out.
func (s *Server) SpecRequests() []speccheck.Request {
	var out []speccheck.Request
	for _, c := range s.Calls() {
		if strings.HasPrefix(c.Path, "/v1/") || strings.HasPrefix(c.Path, "/.well-known/") {
			continue
		}
		q, _ := url.ParseQuery(c.Query)
		r := speccheck.Request{Method: c.Method, Path: "/v1" + c.Path, Query: q}
		if c.Body != "" && c.Body != "null" {
			r.ContentType, r.Body = "application/json", []byte(c.Body)
		}
		out = append(out, r)
	}
	return out
}

// CountCalls counts successful calls of a method whose path matches suffix.
func (s *Server) CountCalls(method, suffix string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Method == method && strings.HasSuffix(c.Path, suffix) && c.Status < 300 {
			n++
		}
	}
	return n
}

func clerkError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg, "long_message": msg}},
		"clerk_trace_id": "trace_fake"})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	s.mu.Lock()
	latency := s.latency
	var held []*hold
	for _, h := range s.holds {
		if h.method == r.Method && strings.HasSuffix(r.URL.Path, h.suffix) {
			held = append(held, h)
		}
	}
	s.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}
	for _, h := range held {
		h.once.Do(func() { close(h.arrived) })
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		}
	}
	s.serve(rec, r, body)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Status: rec.status, At: time.Now()})
	s.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	// The Frontend API's public paths answer without a key or session.
	if r.URL.Path == "/.well-known/jwks.json" || r.URL.Path == "/v1/environment" {
		s.servePublic(w, r)
		return
	}
	s.mu.Lock()
	key := s.Key
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+key {
		clerkError(w, http.StatusUnauthorized, "authentication_invalid", "Unauthorized request")
		return
	}
	path := r.URL.Path
	if path != "/jwks" && !s.admit(w) {
		return
	}
	if s.injectedFailure(w, r) {
		return
	}
	if s.serveSecurity(w, r, body) {
		return
	}
	if r.Method == http.MethodPost && len(body) > 0 && strings.TrimSpace(string(body)) != "null" && strings.TrimSpace(string(body)) != "{}" {
		clerkError(w, http.StatusUnprocessableEntity, "form_param_unknown", "this endpoint takes no body")
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && path == "/jwks":
		writeJSON(w, map[string]any{"keys": []map[string]string{{"kid": "ins_fake", "kty": "RSA", "use": "sig", "alg": "RS256", "n": "xyz", "e": "AQAB"}}})
	case r.Method == http.MethodGet && path == "/users":
		s.listUsers(w, r)
	case r.Method == http.MethodGet && path == "/users/count":
		// Clerk's count can lag its list (users created or imported since).
		writeJSON(w, map[string]any{"object": "total_count", "total_count": max(len(s.filterUsers(r))-s.countLag, 0)})
	case len(parts) == 2 && parts[0] == "users" && r.Method == http.MethodGet:
		s.getUser(w, parts[1])
	case len(parts) == 3 && parts[0] == "users" && r.Method == http.MethodPost:
		s.userAction(w, parts[1], parts[2])
	case r.Method == http.MethodGet && path == "/sessions":
		s.listSessions(w, r)
	case r.Method == http.MethodPost && path == "/webhooks/svix_url":
		// A one-time login link to the Svix dashboard: a credential.
		writeJSON(w, map[string]any{"svix_url": "https://app.svix.com/login#key=" + SvixSecret})
	case len(parts) == 3 && parts[0] == "sessions" && parts[2] == "revoke" && r.Method == http.MethodPost:
		s.revokeSession(w, parts[1])
	default:
		clerkError(w, http.StatusNotFound, "resource_not_found", "no such endpoint in the fake: "+r.Method+" "+path)
	}
}

// servePublic answers the Frontend API's public paths (JWKS, environment),
// or the refusal set for them.
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	code := s.fapiCode
	s.mu.Unlock()
	switch {
	case code != 0:
		clerkError(w, code, "fake_frontend_refusal", http.StatusText(code))
	case r.URL.Path == "/v1/environment":
		writeJSON(w, map[string]any{"object": "environment", "auth_config": map[string]any{"object": "auth_config", "id": "aac_fake"},
			"display_config": map[string]any{"object": "display_config", "instance_environment_type": "development"}})
	default:
		writeJSON(w, map[string]any{"keys": []map[string]string{{"kid": "ins_fake", "kty": "RSA", "use": "sig", "alg": "RS256", "n": "xyz", "e": "AQAB"}}})
	}
}

// injectedFailure answers with the first queued failure matching the
// request, if any.
func (s *Server) injectedFailure(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	for i := range s.failures {
		f := &s.failures[i]
		if f.left > 0 && strings.HasPrefix(r.URL.Path, f.prefix) && (f.method == "" || f.method == r.Method) {
			f.left--
			s.mu.Unlock()
			if f.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
			}
			clerkError(w, f.status, "fake_failure", http.StatusText(f.status))
			return true
		}
	}
	s.mu.Unlock()
	return false
}

// getUser answers GET /users/{id}.
func (s *Server) getUser(w http.ResponseWriter, id string) {
	s.mu.Lock()
	u, ok := s.users[id]
	var out map[string]any
	if ok {
		out = userJSON(u)
	}
	s.mu.Unlock()
	if !ok {
		clerkError(w, http.StatusNotFound, "resource_not_found", "User not found")
		return
	}
	writeJSON(w, out)
}

// revokeSession answers POST /sessions/{id}/revoke.
func (s *Server) revokeSession(w http.ResponseWriter, id string) {
	s.mu.Lock()
	ss, ok := s.sessions[id]
	if ok {
		ss.Status = "revoked"
	}
	s.mu.Unlock()
	if !ok {
		clerkError(w, http.StatusNotFound, "resource_not_found", "Session not found")
		return
	}
	writeJSON(w, sessionJSON(ss))
}

// admit applies the request budget, answering 429 when it is spent.
func (s *Server) admit(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.budget == 0 {
		return true
	}
	now := time.Now()
	cut := 0
	for cut < len(s.sent) && now.Sub(s.sent[cut]) >= s.window {
		cut++
	}
	s.sent = s.sent[cut:]
	if len(s.sent) >= s.budget {
		wait := s.window - now.Sub(s.sent[0])
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"errors":[{"code":"too_many_requests","message":"Too Many Requests","long_message":"Too Many Requests"}]}`)
		return false
	}
	s.sent = append(s.sent, now)
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func userJSON(u *User) map[string]any {
	email := "idn_" + strings.TrimPrefix(u.ID, "user_")
	return map[string]any{"object": "user", "id": u.ID, "first_name": u.FirstName, "last_name": u.LastName,
		"banned": u.Banned, "locked": u.Locked, "primary_email_address_id": email,
		"email_addresses": []map[string]any{{"id": email, "object": "email_address", "email_address": u.Email,
			"verification": map[string]any{"object": "verification_from_oauth", "status": "verified", "strategy": "email_code"}}},
		"two_factor_enabled": u.TwoFactor, "last_sign_in_at": nullable(u.LastSignIn), "last_active_at": nullable(u.LastActive),
		"created_at": u.CreatedAt, "updated_at": u.CreatedAt}
}

func nullable(ms int64) any {
	if ms == 0 {
		return nil
	}
	return ms
}

func sessionJSON(ss *Session) map[string]any {
	out := map[string]any{"object": "session", "id": ss.ID, "user_id": ss.UserID, "client_id": "client_" + ss.ID,
		"status": ss.Status, "last_active_at": 1700000000000, "expire_at": 1800000000000, "created_at": 1700000000000, "updated_at": 1700000000000,
		"latest_activity": nil}
	if a := ss.Activity; a != nil {
		out["latest_activity"] = map[string]any{"object": "session_activity", "id": "sess_activity_" + ss.ID, "device_type": a.Device,
			"is_mobile": a.Mobile, "browser_name": a.Browser, "browser_version": a.Version, "ip_address": a.IP, "city": a.City, "country": a.Country}
	}
	return out
}

func (s *Server) filterUsers(r *http.Request) []*User {
	q := r.URL.Query()
	emails, ids := q["email_address"], q["user_id"]
	before, _ := strconv.ParseInt(q.Get("created_at_before"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*User
	for _, u := range s.users {
		if before > 0 && u.CreatedAt >= before {
			continue
		}
		if len(emails) > 0 && !containsFold(emails, u.Email) {
			continue
		}
		if len(ids) > 0 && !containsFold(ids, u.ID) {
			continue
		}
		out = append(out, u)
	}
	// Newest first, as Clerk's default order_by=-created_at.
	if r.URL.Query().Get("order_by") == "created_at" || r.URL.Query().Get("order_by") == "+created_at" {
		sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt < out[j].CreatedAt })
		return out
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt > out[j].CreatedAt })
	return out
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	users := s.filterUsers(r)
	limit, offset := intParam(r, "limit", 10), intParam(r, "offset", 0)
	if limit < 1 || limit > 500 {
		clerkError(w, http.StatusUnprocessableEntity, "form_param_value_invalid", "limit must be between 1 and 500")
		return
	}
	var page []map[string]any
	s.mu.Lock()
	for i := offset; i < len(users) && i < offset+limit; i++ {
		page = append(page, userJSON(users[i]))
	}
	s.mu.Unlock()
	if page == nil {
		page = []map[string]any{}
	}
	writeJSON(w, page) // a bare array, as Clerk sends it
}

func intParam(r *http.Request, name string, def int) int {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("paginated") != "true" {
		clerkError(w, http.StatusBadRequest, "fake_expects_paginated", "the bot must ask for paginated=true")
		return
	}
	if q.Get("user_id") == "" && q.Get("client_id") == "" {
		clerkError(w, http.StatusUnprocessableEntity, "form_param_missing", "user_id or client_id is required")
		return
	}
	limit, offset := intParam(r, "limit", 10), intParam(r, "offset", 0)
	s.mu.Lock()
	var all []*Session
	for _, ss := range s.sessions {
		if ss.UserID == q.Get("user_id") && (q.Get("status") == "" || ss.Status == q.Get("status")) {
			all = append(all, ss)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	data := []map[string]any{}
	for i := offset; i < len(all) && i < offset+limit; i++ {
		data = append(data, sessionJSON(all[i]))
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"data": data, "total_count": len(all)})
}

func (s *Server) userAction(w http.ResponseWriter, id, action string) {
	s.mu.Lock()
	u, ok := s.users[id]
	if !ok {
		s.mu.Unlock()
		clerkError(w, http.StatusNotFound, "resource_not_found", "User not found")
		return
	}
	switch action {
	case "ban":
		if s.banCode != 0 {
			code := s.banCode
			s.mu.Unlock()
			clerkError(w, code, "feature_not_enabled", "Banning users is not available on your plan")
			return
		}
		u.Banned = true
		for _, ss := range s.sessions {
			if ss.UserID == id && ss.Status == "active" {
				ss.Status = "revoked"
			}
		}
	case "unban":
		if s.banCode != 0 {
			code := s.banCode
			s.mu.Unlock()
			clerkError(w, code, "feature_not_enabled", "Banning users is not available on your plan")
			return
		}
		u.Banned = false
	case "lock", "unlock":
		// The spec's only documented refusal of lock/unlock: 403
		// (AuthorizationInvalid) when user lockout is off for the instance.
		if s.lockCode != 0 {
			code := s.lockCode
			s.mu.Unlock()
			clerkError(w, code, "authorization_invalid", "User lockout is not enabled for this instance")
			return
		}
		u.Locked = action == "lock"
	default:
		s.mu.Unlock()
		clerkError(w, http.StatusNotFound, "resource_not_found", "no such user action")
		return
	}
	out := userJSON(u)
	s.mu.Unlock()
	writeJSON(w, out)
}

// RevokeKey rotates the instance's secret key, as an admin does after a
// leak: the key the bot holds is answered 401 from now on.
func (s *Server) RevokeKey() {
	s.mu.Lock()
	s.Key = "sk_test_rotated" + s.Key[len("sk_test_"):]
	s.mu.Unlock()
}

// DisableLockout makes lock and unlock answer 403, as an instance with
// user lockout turned off does; ban is unaffected (its refusal is 402).
func (s *Server) DisableLockout() {
	s.mu.Lock()
	s.lockCode = http.StatusForbidden
	s.mu.Unlock()
}
