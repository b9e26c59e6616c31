// Package fakestatus serves Clerk's status page in every format the bot
// reads (Statuspage summary at /api/v2/summary.json and indicator at
// /api/v2/status.json, incident.io widget at /api/v1/summary and page data
// at /proxy/<host>, an RSS feed at /feed.rss) from one switchable state,
// with ETag support, plus a fake app health endpoint at /api/health/clerk.
// Serve limits which formats answer (the rest are 404), as a real page
// serves only some.
package fakestatus

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Incident is an upstream incident in the fake page.
type Incident struct {
	ID, Name, Status, Impact string // impact: degraded_performance, partial_outage, full_outage
	Components               []string
	Updates                  []string // bodies, oldest first
}

// Server is the fake status page and app.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	components map[string]string // name → status
	order      []string
	incidents  []*Incident
	broken     bool // answer 500
	healthCode int
	healthWait time.Duration
	requests   int
	notMod     int
	t0         time.Time
	only       map[string]bool // formats that answer; nil: all
	indicator  string          // overrides the computed indicator
	resolved   []*Incident     // still in the feed, as resolved
	planned    []Planned
}

// Planned is scheduled maintenance on the page.
type Planned struct {
	ID, Name   string
	Components []string
}

// The formats, for Serve.
const (
	Statuspage = "statuspage" // /api/v2/summary.json
	Widget     = "widget"     // /api/v1/summary
	PageData   = "pagedata"   // /proxy/<host>
	Indicator  = "indicator"  // /api/v2/status.json
	Feed       = "feed"       // /feed.rss
)

// Serve makes only these formats answer; the other endpoints are 404.
func (s *Server) Serve(formats ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.only = map[string]bool{}
	for _, f := range formats {
		s.only[f] = true
	}
}

// SetIndicator makes the page's overall indicator say ind whatever the
// components say ("" computes it again).
func (s *Server) SetIndicator(ind string) { s.mu.Lock(); s.indicator = ind; s.mu.Unlock() }

// ScheduleMaintenance lists planned work.
func (s *Server) ScheduleMaintenance(m Planned) {
	s.mu.Lock()
	s.planned = append(s.planned, m)
	s.mu.Unlock()
}

// RootURL is the page's root, where the bot detects the format.
func (s *Server) RootURL() string { return s.srv.URL }

func (s *Server) serves(format string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.only == nil || s.only[format]
}

// New starts the fake with Clerk's components all operational.
func New() *Server {
	s := &Server{components: map[string]string{}, healthCode: 200, t0: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
	for _, c := range []string{"User and authentication", "Session management", "Webhooks", "Email delivery", "SMS delivery", "Dashboard"} {
		s.components[c] = "operational"
		s.order = append(s.order, c)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v2/summary.json", s.gate(Statuspage, s.statuspage))
	mux.HandleFunc("/api/v2/status.json", s.gate(Indicator, s.statusOnly))
	mux.HandleFunc("/api/v1/summary", s.gate(Widget, s.incidentIO))
	mux.HandleFunc("/proxy/", s.gate(PageData, s.pageData))
	mux.HandleFunc("/feed.rss", s.gate(Feed, s.feed))
	mux.HandleFunc("/api/health/clerk", s.health)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close stops it.
func (s *Server) Close() { s.srv.Close() }

// StatuspageURL and IncidentIOURL are the two formats' URLs.
func (s *Server) StatuspageURL() string { return s.srv.URL + "/api/v2/summary.json" }
func (s *Server) IncidentIOURL() string { return s.srv.URL + "/api/v1/summary" }
func (s *Server) HealthURL() string     { return s.srv.URL + "/api/health/clerk" }

// SetComponent sets a component's status (operational, degraded_performance, partial_outage, major_outage).
func (s *Server) SetComponent(name, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.components[name]; !ok {
		s.order = append(s.order, name)
	}
	s.components[name] = status
}

// StartIncident posts an upstream incident and sets its components.
func (s *Server) StartIncident(in Incident) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := in
	s.incidents = append(s.incidents, &c)
	for _, name := range in.Components {
		s.components[name] = statusFor(in.Impact)
	}
}

func statusFor(impact string) string {
	if impact == "full_outage" {
		return "major_outage"
	}
	return impact
}

// AddUpdate posts an update to an incident.
func (s *Server) AddUpdate(id, status, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.incidents {
		if in.ID == id {
			in.Status = status
			in.Updates = append(in.Updates, body)
		}
	}
}

// Resolve marks an incident resolved (it leaves the page, and stays in
// the feed as resolved) and its components operational.
func (s *Server) Resolve(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep []*Incident
	for _, in := range s.incidents {
		if in.ID == id {
			for _, c := range in.Components {
				s.components[c] = "operational"
			}
			s.resolved = append(s.resolved, in)
			continue
		}
		keep = append(keep, in)
	}
	s.incidents = keep
}

// Hide removes an incident from the page without resolving it (flapping).
func (s *Server) Hide(id string) *Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, in := range s.incidents {
		if in.ID == id {
			s.incidents = append(s.incidents[:i], s.incidents[i+1:]...)
			return in
		}
	}
	return nil
}

// Show puts a hidden incident back.
func (s *Server) Show(in *Incident) {
	s.mu.Lock()
	s.incidents = append(s.incidents, in)
	s.mu.Unlock()
}

// Break makes the status page answer 500 (or heals it).
func (s *Server) Break(broken bool) {
	s.mu.Lock()
	s.broken = broken
	s.mu.Unlock()
}

// SetHealth sets the app health answer and delay.
func (s *Server) SetHealth(code int, delay time.Duration) {
	s.mu.Lock()
	s.healthCode, s.healthWait = code, delay
	s.mu.Unlock()
}

// Requests and NotModified count status page requests and 304 answers.
func (s *Server) Requests() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.notMod
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body any) {
	s.mu.Lock()
	s.requests++
	broken := s.broken
	s.mu.Unlock()
	if broken {
		http.Error(w, "upstream error", http.StatusInternalServerError)
		return
	}
	raw, _ := json.Marshal(body)
	sum := sha256.Sum256(raw)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		s.mu.Lock()
		s.notMod++
		s.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(raw)
}

func (s *Server) statuspage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var comps []map[string]any
	for _, name := range s.order {
		st := s.components[name]
		comps = append(comps, map[string]any{"id": "c-" + name, "name": name, "status": st})
	}
	incs := []map[string]any{}
	for _, in := range s.incidents {
		var ups []map[string]any
		for i := len(in.Updates) - 1; i >= 0; i-- { // newest first, as Statuspage does
			ups = append(ups, map[string]any{"id": in.ID + "-u" + string(rune('0'+i)), "status": in.Status, "body": in.Updates[i],
				"created_at": s.t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)})
		}
		var cs []map[string]any
		for _, c := range in.Components {
			cs = append(cs, map[string]any{"id": "c-" + c, "name": c, "status": s.components[c]})
		}
		impact := map[string]string{"degraded_performance": "minor", "partial_outage": "major", "full_outage": "critical"}[in.Impact]
		incs = append(incs, map[string]any{"id": in.ID, "name": in.Name, "status": in.Status, "impact": impact,
			"shortlink": "https://stspg.io/" + in.ID, "incident_updates": ups, "components": cs})
	}
	var planned []map[string]any
	for _, m := range s.planned {
		var cs []map[string]any
		for _, c := range m.Components {
			cs = append(cs, map[string]any{"id": "c-" + c, "name": c})
		}
		planned = append(planned, map[string]any{"id": m.ID, "name": m.Name, "status": "scheduled", "shortlink": "https://stspg.io/" + m.ID, "components": cs})
	}
	s.mu.Unlock()
	s.serve(w, r, map[string]any{"page": map[string]any{"name": "Clerk", "url": "https://status.clerk.com"},
		"status": s.status(), "components": comps, "incidents": incs, "scheduled_maintenances": planned})
}

// status is the overall indicator: the override, or the worst component.
func (s *Server) status() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	worst := 0
	rank := map[string]int{"degraded_performance": 1, "partial_outage": 2, "major_outage": 3}
	for _, st := range s.components {
		worst = max(worst, rank[st])
	}
	ind := []string{"none", "minor", "major", "critical"}[worst]
	desc := []string{"All Systems Operational", "Minor Service Outage", "Partial System Outage", "Major System Outage"}[worst]
	if s.indicator != "" {
		ind, desc = s.indicator, "Reported "+s.indicator
	}
	return map[string]any{"indicator": ind, "description": desc}
}

func (s *Server) gate(format string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.serves(format) {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}
}

func (s *Server) statusOnly(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, map[string]any{"page": map[string]any{"name": "Clerk", "url": "https://status.clerk.com"}, "status": s.status()})
}

// pageData is incident.io's /proxy/<host> shape.
func (s *Server) pageData(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	comps := []map[string]any{}
	affected := []map[string]any{}
	for _, name := range s.order {
		comps = append(comps, map[string]any{"id": "c-" + name, "name": name, "status_page_id": "p1"})
		if st := s.components[name]; st != "operational" {
			if st == "major_outage" {
				st = "full_outage"
			}
			affected = append(affected, map[string]any{"component_id": "c-" + name, "status": st})
		}
	}
	ongoing := []map[string]any{}
	for _, in := range s.incidents {
		var cs []map[string]any
		for _, c := range in.Components {
			cs = append(cs, map[string]any{"component_id": "c-" + c, "status": in.Impact})
		}
		ongoing = append(ongoing, map[string]any{"id": in.ID, "name": in.Name, "status": in.Status, "current_worst_impact": in.Impact,
			"url": "https://status.clerk.com/incidents/" + in.ID, "affected_components": cs})
	}
	planned := []map[string]any{}
	for _, m := range s.planned {
		planned = append(planned, map[string]any{"id": m.ID, "name": m.Name, "url": "https://status.clerk.com/incidents/" + m.ID})
	}
	s.mu.Unlock()
	s.serve(w, r, map[string]any{"summary": map[string]any{"id": "p1", "name": "Clerk", "public_url": "https://status.clerk.com",
		"components": comps, "affected_components": affected, "ongoing_incidents": ongoing,
		"in_progress_maintenances": []any{}, "scheduled_maintenances": planned}})
}

// feed is an RSS feed: one item per incident, newest update first, the
// resolved ones marked so.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var items strings.Builder
	item := func(id, title, desc string) {
		fmt.Fprintf(&items, "<item><title>%s</title><link>https://status.clerk.com/incidents/%s</link><guid>%s</guid><pubDate>%s</pubDate><description>%s</description></item>",
			html.EscapeString(title), id, id, time.Now().UTC().Format(time.RFC1123Z), html.EscapeString(desc))
	}
	describe := func(in *Incident, resolved bool) string {
		var b strings.Builder
		if resolved {
			b.WriteString("<p><strong>Resolved</strong> - This incident has been resolved.</p>")
		}
		for i := len(in.Updates) - 1; i >= 0; i-- {
			st := in.Status
			if i < len(in.Updates)-1 {
				st = "update"
			}
			fmt.Fprintf(&b, "<p><strong>%s</strong> - %s</p>", strings.ToUpper(st[:1])+st[1:], html.EscapeString(in.Updates[i]))
		}
		impact := map[string]string{"degraded_performance": "Degraded performance", "partial_outage": "Partial outage", "full_outage": "Full outage"}[in.Impact]
		fmt.Fprintf(&b, "<p>Affected components: %s (%s)</p>", html.EscapeString(strings.Join(in.Components, ", ")), impact)
		return b.String()
	}
	for _, in := range s.incidents {
		item(in.ID, in.Name, describe(in, false))
	}
	for _, in := range s.resolved {
		item(in.ID, in.Name, describe(in, true))
	}
	for _, m := range s.planned {
		item(m.ID, "Scheduled maintenance: "+m.Name, "<p><strong>Scheduled</strong> - "+html.EscapeString(strings.Join(m.Components, ", "))+"</p>")
	}
	s.mu.Unlock()
	s.mu.Lock()
	s.requests++
	broken := s.broken
	s.mu.Unlock()
	if broken {
		http.Error(w, "upstream error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Clerk status</title><link>https://status.clerk.com</link>%s</channel></rss>`, items.String())
}

func (s *Server) incidentIO(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ongoing := []map[string]any{}
	for _, in := range s.incidents {
		var affected []map[string]any
		for _, c := range in.Components {
			affected = append(affected, map[string]any{"id": "c-" + c, "name": c})
		}
		last := ""
		if len(in.Updates) > 0 {
			last = in.Updates[len(in.Updates)-1]
		}
		ongoing = append(ongoing, map[string]any{"id": in.ID, "name": in.Name, "status": in.Status,
			"url": "https://status.clerk.com/incidents/" + in.ID, "current_worst_impact": in.Impact,
			"last_update_at": s.t0.Add(time.Duration(len(in.Updates)) * time.Minute).Format(time.RFC3339), "last_update_message": last,
			"affected_components": affected})
	}
	planned := []map[string]any{}
	for _, m := range s.planned {
		var cs []map[string]any
		for _, c := range m.Components {
			cs = append(cs, map[string]any{"id": "c-" + c, "name": c})
		}
		planned = append(planned, map[string]any{"id": m.ID, "name": m.Name, "url": "https://status.clerk.com/incidents/" + m.ID, "affected_components": cs})
	}
	s.mu.Unlock()
	s.serve(w, r, map[string]any{"page_title": "Clerk", "page_url": "https://status.clerk.com", "ongoing_incidents": ongoing,
		"in_progress_maintenances": []any{}, "scheduled_maintenances": planned})
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	code, wait := s.healthCode, s.healthWait
	s.mu.Unlock()
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte(`{"clerk":"checked"}`))
}
