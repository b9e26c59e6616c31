// Package fakestatuspage is an in-repo Atlassian Statuspage REST API:
// POST and PATCH /v1/pages/{page}/incidents, and GET of
// /incidents/unresolved and /incidents (a JSON array, newest first, with
// each incident's metadata), with `Authorization: OAuth <key>`, answering
// as Statuspage does (201 with the incident, 401 for a wrong key, 404 for
// an unknown incident, 420/429 when rate limited). It records every
// incident and update, and can fail on demand: even after creating an
// incident, as a real 5xx or a dropped connection can. Metadata is any
// two-level JSON object, as other integrations set it (numbers, booleans);
// AddIncident puts such a foreign incident on the page. Every request is
// recorded for the spec test (SpecRequests).
package fakestatuspage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

// Incident is one incident on the fake page.
type Incident struct {
	ID, Name, Status, Impact string
	Metadata                 map[string]map[string]any
	Updates                  []Update // oldest first
}

// Update is one body posted to an incident.
type Update struct{ Status, Body string }

// Server is the fake.
type Server struct {
	Key, Page string

	srv       *httptest.Server
	mu        sync.Mutex
	incidents map[string]*Incident
	order     []string
	limited   int   // requests still to answer 420
	afterFail []int // how the next creates answer once done: a status, or 0 to drop the connection
	hold      chan struct{}
	held      chan struct{}
	rec       speccheck.Recorder
}

// SpecRequests is every request received, for a check against
// Statuspage's API description (speccheck.Statuspage).
func (s *Server) SpecRequests() []speccheck.Request { return s.rec.Requests() }

// SpecErrors checks every request received against the description
// (speccheck.Statuspage): one error per request outside it.
func (s *Server) SpecErrors() []error {
	return speccheck.MustLoad(speccheck.Statuspage).CheckAll(s.rec.Requests())
}

// AddIncident puts an incident made by another tool on the page, with its
// metadata (values of any JSON type), and returns its ID.
func (s *Server) AddIncident(name, status string, metadata map[string]map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprintf("sp%04d", len(s.order)+1)
	s.incidents[id] = &Incident{ID: id, Name: name, Status: status, Impact: "minor", Metadata: metadata, Updates: []Update{{Status: status, Body: name}}}
	s.order = append(s.order, id)
	return id
}

// Dropped, passed to FailAfterCreate, drops the connection instead of answering.
const Dropped = 0

// FailAfterCreate makes the next creates create the incident and then
// answer each status in turn (e.g. 502), or drop the connection
// (Dropped): the client sees an error though the incident exists.
func (s *Server) FailAfterCreate(statuses ...int) {
	s.mu.Lock()
	s.afterFail = append(s.afterFail, statuses...)
	s.mu.Unlock()
}

// HoldCreate makes the next create wait, before doing anything, until
// release is called; held is closed once it is waiting.
func (s *Server) HoldCreate() (held <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.held = make(chan struct{}), make(chan struct{})
	h := s.hold
	return s.held, func() { close(h) }
}

// New starts the fake.
func New() *Server {
	s := &Server{Key: "fake-statuspage-key", Page: "pg_fake", incidents: map[string]*Incident{}}
	s.srv = httptest.NewServer(s.rec.Wrap(http.HandlerFunc(s.handle)))
	return s
}

// URL is what STATUSPAGE_API_URL should be set to.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Close stops it.
func (s *Server) Close() { s.srv.Close() }

// RateLimit makes the next n requests answer 420, as Statuspage does.
func (s *Server) RateLimit(n int) { s.mu.Lock(); s.limited = n; s.mu.Unlock() }

// Incidents returns copies of the incidents, in creation order.
func (s *Server) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Incident, 0, len(s.order))
	for _, id := range s.order {
		in := *s.incidents[id]
		in.Updates = append([]Update(nil), in.Updates...)
		out = append(out, in)
	}
	return out
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	s.mu.Lock()
	if hold := s.hold; hold != nil && r.Method == http.MethodPost {
		s.hold = nil
		close(s.held)
		s.mu.Unlock()
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if r.Header.Get("Authorization") != "OAuth "+s.Key {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"Could not authenticate"}`))
		return
	}
	if s.limited > 0 {
		s.limited--
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(420)
		_, _ = w.Write([]byte(`{"error":"Rate limit exceeded"}`))
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1"), "/"), "/")
	if len(parts) < 3 || parts[0] != "pages" || parts[1] != s.Page || parts[2] != "incidents" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Not found"}`))
		return
	}
	if r.Method == http.MethodGet && (len(parts) == 3 || len(parts) == 4 && parts[3] == "unresolved") {
		s.list(w, len(parts) == 4)
		return
	}
	var body struct {
		Incident incidentBody `json:"incident"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"Invalid JSON"}`))
		return
	}
	in := body.Incident
	valid := map[string]bool{"investigating": true, "identified": true, "monitoring": true, "resolved": true}
	if in.Status != "" && !valid[in.Status] {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = fmt.Fprintf(w, `{"error":"Status %s is not valid"}`, in.Status)
		return
	}
	switch {
	case r.Method == http.MethodPost && len(parts) == 3:
		s.create(w, in)
	case r.Method == http.MethodPatch && len(parts) == 4:
		s.update(w, parts[3], in)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte(`{"error":"Method not allowed"}`))
	}
}

// incidentBody is what a create or update sends.
type incidentBody struct {
	Name, Status, Body string
	Impact             string                    `json:"impact_override"`
	Metadata           map[string]map[string]any `json:"metadata"`
}

// list answers GET incidents (or the unresolved ones), newest first.
func (s *Server) list(w http.ResponseWriter, unresolved bool) {
	out := []map[string]any{}
	for i := len(s.order) - 1; i >= 0; i-- {
		inc := s.incidents[s.order[i]]
		if unresolved && inc.Status == "resolved" {
			continue
		}
		out = append(out, map[string]any{"id": inc.ID, "name": inc.Name, "status": inc.Status, "impact": inc.Impact, "page_id": s.Page, "metadata": inc.Metadata})
	}
	_ = json.NewEncoder(w).Encode(out)
}

// create answers POST incidents; a queued failure is answered after the
// incident is created, as a real server failing late would.
func (s *Server) create(w http.ResponseWriter, in incidentBody) {
	if in.Name == "" {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"error":"Name can't be blank"}`))
		return
	}
	id := fmt.Sprintf("sp%04d", len(s.order)+1)
	inc := &Incident{ID: id, Name: in.Name, Status: in.Status, Impact: in.Impact, Metadata: in.Metadata, Updates: []Update{{Status: in.Status, Body: in.Body}}}
	s.incidents[id] = inc
	s.order = append(s.order, id)
	if len(s.afterFail) > 0 {
		status := s.afterFail[0]
		s.afterFail = s.afterFail[1:]
		if status == Dropped {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					_ = c.Close()
					return
				}
			}
			status = http.StatusBadGateway
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":"Internal server error"}`))
		return
	}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "name": inc.Name, "status": inc.Status, "impact": inc.Impact, "page_id": s.Page})
}

// update answers PATCH incidents/{id}.
func (s *Server) update(w http.ResponseWriter, id string, in incidentBody) {
	inc, ok := s.incidents[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Incident not found"}`))
		return
	}
	if in.Status != "" {
		inc.Status = in.Status
	}
	if in.Body != "" {
		inc.Updates = append(inc.Updates, Update{Status: inc.Status, Body: in.Body})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"id": inc.ID, "name": inc.Name, "status": inc.Status, "page_id": s.Page})
}
