// Package fakestatuspage is an in-repo Atlassian Statuspage REST API:
// POST and PATCH /v1/pages/{page}/incidents with `Authorization: OAuth
// <key>`, answering as Statuspage does (201 with the incident, 401 for a
// wrong key, 404 for an unknown incident, 420/429 when rate limited). It
// records every incident and update, and can fail on demand.
package fakestatuspage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Incident is one incident on the fake page.
type Incident struct {
	ID, Name, Status, Impact string
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
	limited   int // requests still to answer 420
}

// New starts the fake.
func New() *Server {
	s := &Server{Key: "fake-statuspage-key", Page: "pg_fake", incidents: map[string]*Incident{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
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
	var body struct {
		Incident struct {
			Name, Status, Body string
			Impact             string `json:"impact_override"`
		} `json:"incident"`
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
		if in.Name == "" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"error":"Name can't be blank"}`))
			return
		}
		id := fmt.Sprintf("sp%04d", len(s.order)+1)
		inc := &Incident{ID: id, Name: in.Name, Status: in.Status, Impact: in.Impact, Updates: []Update{{Status: in.Status, Body: in.Body}}}
		s.incidents[id] = inc
		s.order = append(s.order, id)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "name": inc.Name, "status": inc.Status, "impact": inc.Impact, "page_id": s.Page})
	case r.Method == http.MethodPatch && len(parts) == 4:
		inc, ok := s.incidents[parts[3]]
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
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte(`{"error":"Method not allowed"}`))
	}
}
