// Package fakevercel is an in-process Vercel REST API for tests and the
// sandbox: the operations of specs/vercel-rest-api-subset.json with their
// documented shapes and errors (a bearer token, teamId, {"error":{code,
// message}} bodies, 429 with error.limit), production deployments with
// pagination, environment variables that list as ciphertext and read back
// one by one (never when sensitive), and a rollback whose job the project's
// lastAliasRequest reports as pending, in-progress, then succeeded or failed.
package fakevercel

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

// Server is the fake.
type Server struct {
	srv *httptest.Server

	Token     string
	ProjectID string
	Project   string // the project's name
	Team      string // when set, every call must carry teamId=Team

	mu       sync.Mutex
	now      func() time.Time
	deps     []*Deployment
	envs     []*Env
	prod     string
	alias    map[string]any
	steps    []string // scripted job statuses for the next rollback
	job      []string // the running job's statuses still to come
	hobby    bool
	failures []failure
	calls    []string
	onCall   func(method, path string)
	latency  time.Duration
	envPage  int // envs per page of the list (0: all)
	rec      speccheck.Recorder
}

// SpecRequests is every request received, for a check against Vercel's
// REST API description (speccheck.Vercel).
func (s *Server) SpecRequests() []speccheck.Request { return s.rec.Requests() }

// SpecErrors checks every request received against the description
// (speccheck.Vercel): one error per request outside it.
func (s *Server) SpecErrors() []error {
	return speccheck.MustLoad(speccheck.Vercel).CheckAll(s.rec.Requests())
}

// EnvPageSize makes the env list answer n variables a page, newest change
// first, with pagination.next for the rest (0: all on one page).
func (s *Server) EnvPageSize(n int) { s.mu.Lock(); s.envPage = n; s.mu.Unlock() }

// SetLatency delays every answer (a slow Vercel, or one a test kills the
// bot in front of); calls are counted when they arrive.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// Deployment is a deployment the fake holds.
type Deployment struct {
	UID     string
	Created time.Time // queued (createdAt)
	Ready   time.Time // became READY; zero: a minute after Created
	State   string    // READY unless set
	Target  string    // production unless set ("preview")
	SHA     string
	Message string
	Author  string
	// Staged: built for production with --skip-domain and never served
	// it: isRollbackCandidate false, and Vercel refuses it as a target.
	Staged bool
}

// Env is an environment variable.
type Env struct {
	ID      string
	Key     string
	Value   string
	Type    string   // encrypted, sensitive, plain, secret (legacy)
	Target  []string // production unless set
	Updated time.Time
	// Undecrypted: reading it answers the ciphertext with decrypted: false.
	Undecrypted bool
}

type failure struct {
	method, prefix string
	status         int
	code, message  string
	left           int
	reset          time.Time
}

// New starts a fake with one project and no deployments.
func New() *Server {
	s := &Server{Token: "fake-vercel-token", ProjectID: "prj_fakeapp", Project: "fake-app", now: time.Now}
	s.srv = httptest.NewServer(s.rec.Wrap(http.HandlerFunc(s.serve)))
	return s
}

// URL is the API base URL (VERCEL_API_URL).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetNow injects the clock that stamps rollbacks.
func (s *Server) SetNow(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// Hobby puts the project on the Hobby plan: only the previous production
// deployment can be rolled back to (402 otherwise).
func (s *Server) Hobby() { s.mu.Lock(); s.hobby = true; s.mu.Unlock() }

// OnCall hears of every request (method, path), before it is answered.
func (s *Server) OnCall(fn func(method, path string)) { s.mu.Lock(); s.onCall = fn; s.mu.Unlock() }

// AddDeployment adds a deployment; the newest production one that is
// READY serves production unless Promote says otherwise.
func (s *Server) AddDeployment(d Deployment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.State == "" {
		d.State = "READY"
	}
	if d.Target == "" {
		d.Target = "production"
	}
	s.deps = append(s.deps, &d)
	sort.SliceStable(s.deps, func(i, j int) bool { return s.deps[i].Created.After(s.deps[j].Created) })
	if d.Ready.IsZero() {
		d.Ready = d.Created.Add(time.Minute)
	}
	if d.Target == "production" && d.State == "READY" && !d.Staged {
		if cur := s.find(s.prod); cur == nil || d.Created.After(cur.Created) {
			s.prod = d.UID
		}
	}
}

// Production is the deployment serving production.
func (s *Server) Production() string { s.mu.Lock(); defer s.mu.Unlock(); return s.prod }

// AddEnv adds an environment variable.
func (s *Server) AddEnv(e Env) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Type == "" {
		e.Type = "encrypted"
	}
	if e.Target == nil {
		e.Target = []string{"production"}
	}
	if e.ID == "" {
		e.ID = fmt.Sprintf("env_%03d", len(s.envs)+1)
	}
	s.envs = append(s.envs, &e)
}

// RollbackSteps scripts the job statuses of the next rollback: the first
// read of the project after it shows pending, each later read the next
// step, and the last one stays. The default is in-progress, then
// succeeded. A final "failed" leaves production as it was.
func (s *Server) RollbackSteps(steps ...string) { s.mu.Lock(); s.steps = steps; s.mu.Unlock() }

// Fail answers the next times calls of method (or any, "") on paths
// starting with prefix with status and Vercel's error body; a 429 carries
// error.limit with reset.
func (s *Server) Fail(method, prefix string, status int, code, message string, times int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{method: method, prefix: prefix, status: status, code: code, message: message, left: times, reset: reset})
}

// Calls counts the requests of method whose path contains part.
func (s *Server) Calls(method, part string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if strings.HasPrefix(c, method+" ") && strings.Contains(c, part) {
			n++
		}
	}
	return n
}

func (s *Server) find(uid string) *Deployment {
	for _, d := range s.deps {
		if d.UID == uid {
			return d
		}
	}
	return nil
}

func vercelError(w http.ResponseWriter, status int, code, message string, extra map[string]any) {
	e := map[string]any{"code": code, "message": message}
	for k, v := range extra {
		e[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	hook, latency := s.onCall, s.latency
	s.mu.Unlock()
	if hook != nil {
		hook(r.Method, r.URL.Path)
	}
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		vercelError(w, http.StatusUnauthorized, "forbidden", "Not authorized", map[string]any{"invalidToken": true})
		return
	}
	if s.Team != "" && r.URL.Query().Get("teamId") != s.Team {
		vercelError(w, http.StatusForbidden, "forbidden", "You don't have permission to access this resource", nil)
		return
	}
	s.mu.Lock()
	for i := range s.failures {
		f := &s.failures[i]
		if f.left > 0 && strings.HasPrefix(r.URL.Path, f.prefix) && (f.method == "" || f.method == r.Method) {
			f.left--
			s.mu.Unlock()
			var extra map[string]any
			if f.status == http.StatusTooManyRequests {
				extra = map[string]any{"limit": map[string]any{"remaining": 0, "reset": f.reset.Unix(), "resetMs": f.reset.UnixMilli(), "total": 100}}
			}
			vercelError(w, f.status, f.code, f.message, extra)
			return
		}
	}
	s.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v6/deployments":
		s.listDeployments(w, r)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "v9" && parts[1] == "projects":
		if !s.isProject(parts[2], true) {
			vercelError(w, http.StatusNotFound, "not_found", "Project not found", nil)
			return
		}
		s.project(w)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "v10" && parts[1] == "projects" && parts[3] == "env":
		if !s.isProject(parts[2], true) {
			vercelError(w, http.StatusNotFound, "not_found", "Project not found", nil)
			return
		}
		s.listEnvs(w, r)
	case r.Method == http.MethodGet && len(parts) == 5 && parts[0] == "v1" && parts[1] == "projects" && parts[3] == "env":
		if !s.isProject(parts[2], true) {
			vercelError(w, http.StatusNotFound, "not_found", "Project not found", nil)
			return
		}
		s.readEnv(w, parts[4])
	case r.Method == http.MethodPost && len(parts) == 5 && parts[0] == "v1" && parts[1] == "projects" && parts[3] == "rollback":
		if !s.isProject(parts[2], false) {
			vercelError(w, http.StatusNotFound, "not_found", "Project not found", nil)
			return
		}
		s.rollback(w, parts[4])
	default:
		vercelError(w, http.StatusNotFound, "not_found", "The requested path was not found", nil)
	}
}

// isProject: the ID, or (where the route says idOrName) the name.
func (s *Server) isProject(ref string, orName bool) bool {
	return ref == s.ProjectID || (orName && ref == s.Project)
}

func (s *Server) deploymentJSON(d *Deployment) map[string]any {
	meta := map[string]string{}
	if d.SHA != "" { // Git deployments only
		meta["githubCommitSha"] = d.SHA
		meta["githubCommitMessage"] = d.Message
		meta["githubCommitAuthorLogin"] = d.Author
		meta["githubCommitRef"] = "main"
	}
	var target any
	if d.Target != "preview" {
		target = d.Target
	}
	ms := d.Created.UnixMilli()
	out := map[string]any{"uid": d.UID, "name": s.Project, "projectId": s.ProjectID, "url": s.Project + "-" + strings.TrimPrefix(d.UID, "dpl_") + ".vercel.app",
		"created": ms, "createdAt": ms, "buildingAt": ms, "state": d.State, "readyState": d.State, "type": "LAMBDAS", "target": target,
		"creator": map[string]any{"uid": "usr_fake", "username": "deployer"}, "inspectorUrl": "https://vercel.com/acme/" + s.Project + "/" + strings.TrimPrefix(d.UID, "dpl_"),
		"meta": meta, "isRollbackCandidate": d.Target == "production" && d.State == "READY" && !d.Staged}
	if d.State == "READY" {
		out["ready"] = d.Ready.UnixMilli()
	}
	return out
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if p := q.Get("projectId"); p != "" && !s.isProject(p, true) {
		writeJSON(w, http.StatusOK, map[string]any{"deployments": []any{}, "pagination": map[string]any{"count": 0, "next": nil, "prev": nil}})
		return
	}
	limit := 20
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, 100)
	}
	var until int64
	if u := q.Get("until"); u != "" {
		n, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			vercelError(w, http.StatusBadRequest, "bad_request", "Invalid request: `until` should be number.", nil)
			return
		}
		until = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*Deployment
	for _, d := range s.deps {
		if t := q.Get("target"); t != "" && d.Target != t {
			continue
		}
		if until > 0 && d.Created.UnixMilli() >= until {
			continue
		}
		match = append(match, d)
	}
	var next any
	if len(match) > limit {
		match = match[:limit]
		next = match[limit-1].Created.UnixMilli()
	}
	list := []any{}
	for _, d := range match {
		list = append(list, s.deploymentJSON(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"deployments": list, "pagination": map[string]any{"count": len(list), "next": next, "prev": nil}})
}

// advance moves a rollback's job on by one read of the project.
func (s *Server) advance() {
	if s.alias == nil || len(s.job) == 0 {
		return
	}
	next := s.job[0]
	s.job = s.job[1:]
	s.alias["jobStatus"] = next
	if next == "succeeded" {
		s.prod = s.alias["toDeploymentId"].(string)
	}
}

func (s *Server) project(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var prod any
	if d := s.find(s.prod); d != nil {
		prod = map[string]any{"id": d.UID, "createdAt": d.Created.UnixMilli(), "createdIn": "iad1", "creator": map[string]any{"uid": "usr_fake", "username": "deployer"},
			"deploymentHostname": s.Project, "name": s.Project, "plan": s.plan(), "private": false, "readyState": d.State, "type": "LAMBDAS",
			"url": s.Project + "-" + strings.TrimPrefix(d.UID, "dpl_") + ".vercel.app", "userId": "usr_fake", "meta": map[string]string{"githubCommitSha": d.SHA}}
	}
	out := map[string]any{"id": s.ProjectID, "name": s.Project, "accountId": "team_fake", "framework": "nextjs", "targets": map[string]any{"production": prod}}
	if s.alias != nil {
		snapshot := map[string]any{}
		for k, v := range s.alias {
			snapshot[k] = v
		}
		out["lastAliasRequest"] = snapshot
		s.advance() // the job moves on between reads
	} else {
		out["lastAliasRequest"] = nil
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) plan() string {
	if s.hobby {
		return "hobby"
	}
	return "pro"
}

func (s *Server) envJSON(e *Env, value bool) map[string]any {
	out := map[string]any{"id": e.ID, "key": e.Key, "type": e.Type, "target": e.Target, "createdAt": e.Updated.UnixMilli(), "updatedAt": e.Updated.UnixMilli(),
		"configurationId": nil, "createdBy": "usr_fake", "updatedBy": "usr_fake"}
	switch {
	case e.Type == "sensitive" && value:
		out["decrypted"] = false // its value is never returned
	case value && (e.Type == "secret" || e.Undecrypted):
		// A legacy secret answers its reference, still encrypted.
		out["value"], out["decrypted"] = base64.StdEncoding.EncodeToString([]byte("enc:"+e.ID)), false
	case value:
		out["value"], out["decrypted"] = e.Value, true
	case e.Type == "plain":
		out["value"] = e.Value
	default: // the list gives ciphertext
		out["value"] = base64.StdEncoding.EncodeToString([]byte("enc:" + e.ID + ":" + strconv.Itoa(len(e.Key))))
		out["decrypted"] = false
	}
	return out
}

func (s *Server) listEnvs(w http.ResponseWriter, r *http.Request) {
	var until int64
	if u := r.URL.Query().Get("until"); u != "" {
		n, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			vercelError(w, http.StatusBadRequest, "bad_request", "Invalid request: `until` should be number.", nil)
			return
		}
		until = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	envs := append([]*Env(nil), s.envs...)
	if s.envPage > 0 || until > 0 { // paged by time: newest change first
		sort.SliceStable(envs, func(i, j int) bool { return envs[i].Updated.After(envs[j].Updated) })
	}
	list := []any{}
	var next any // the last listed one's time, when more follow
	for _, e := range envs {
		if until > 0 && e.Updated.UnixMilli() >= until {
			continue
		}
		if s.envPage > 0 && len(list) == s.envPage {
			next = list[len(list)-1].(map[string]any)["updatedAt"]
			break
		}
		list = append(list, s.envJSON(e, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"envs": list, "pagination": map[string]any{"count": len(list), "next": next, "prev": nil}})
}

func (s *Server) readEnv(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.envs {
		if e.ID == id {
			writeJSON(w, http.StatusOK, s.envJSON(e, true))
			return
		}
	}
	vercelError(w, http.StatusNotFound, "not_found", "Environment Variable not found", nil)
}

func (s *Server) rollback(w http.ResponseWriter, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.find(to)
	if d == nil {
		vercelError(w, http.StatusNotFound, "not_found", "Deployment not found", nil)
		return
	}
	if s.alias != nil {
		if st := s.alias["jobStatus"].(string); st == "pending" || st == "in-progress" {
			vercelError(w, http.StatusConflict, "conflict", "A rollback or promote is already in progress for this project", nil)
			return
		}
	}
	if d.Target != "production" || d.State != "READY" {
		vercelError(w, http.StatusUnprocessableEntity, "invalid_deployment", "The deployment is not a READY production deployment", nil)
		return
	}
	if d.Staged {
		vercelError(w, http.StatusUnprocessableEntity, "invalid_deployment", "This deployment cannot be used as a rollback target: it was never served to production", nil)
		return
	}
	if d.UID == s.prod {
		vercelError(w, http.StatusConflict, "conflict", "This deployment already serves production", nil)
		return
	}
	if s.hobby {
		// Hobby: only the production deployment before the current one.
		var prev *Deployment
		cur := s.find(s.prod)
		for _, x := range s.deps {
			if x.Target == "production" && x.State == "READY" && !x.Staged && cur != nil && x.Created.Before(cur.Created) {
				prev = x
				break
			}
		}
		if prev == nil || prev.UID != d.UID {
			vercelError(w, http.StatusPaymentRequired, "payment_required", "Rolling back to a deployment other than the previous one requires a Pro plan", nil)
			return
		}
	}
	s.job = s.steps
	if len(s.job) == 0 {
		s.job = []string{"in-progress", "succeeded"}
	}
	s.steps = nil
	s.alias = map[string]any{"type": "rollback", "fromDeploymentId": s.prod, "toDeploymentId": d.UID, "jobStatus": "pending", "requestedAt": s.now().UnixMilli()}
	w.WriteHeader(http.StatusCreated) // no body
}
