package fakepaging

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The fake PagerDuty REST API, from PagerDuty's API reference: GET
// /incidents with `Authorization: Token token=<REST API key>` and
// `Accept: application/vnd.pagerduty+json;version=2`; filters
// incident_key, date_range, limit (at most 100) and offset; the answer
// {"incidents":[…],"limit","offset","more","total":null}; errors as
// {"error":{"message","code"}}: 401 code 2006 for a missing or unknown
// key, 403 code 2010 for a key without access, 429 with ratelimit-reset.

// pdIncident is one incident the events opened.
type pdIncident struct {
	ID, Status, Key, Title string
	Created                time.Time
	Acks                   []pdAck
	LastChangeBy           pdRef
	LastChangeAt           time.Time
}

type pdAck struct {
	At time.Time
	By pdRef
}

type pdRef struct{ ID, Type, Summary string }

// restState is the REST side's memory.
type restState struct {
	byKey    map[string][]*pdIncident // incident_key → its incidents, oldest first
	n        int
	now      func() time.Time
	pageMax  int  // the largest page answered (PagerDuty's is 100)
	limited  int  // next n REST requests answer 429
	failing  int  // next n REST requests answer 500
	denied   bool // APIToken answers 403 (its role lost access to incidents)
	requests []APIRequest
}

// APIRequest is one REST request the fake received.
type APIRequest struct {
	Path, Query string
	// Authorized: the Authorization header carried a known key in
	// PagerDuty's form; Versioned: Accept named version 2.
	Authorized, Versioned bool
}

// service is who acts on an incident through Events API v2.
var service = pdRef{ID: "PSVC001", Type: "service_reference", Summary: "Clerk incidents"}

// follow applies an accepted event to the incidents (p.mu held): a
// trigger opens an incident unless one with the key is open; acknowledge
// and resolve change the open one, as the service.
func (p *PagerDuty) follow(e Event) {
	st := &p.rest
	now := st.now()
	open := st.open(e.DedupKey)
	switch e.Action {
	case "trigger":
		if open == nil {
			st.n++
			st.byKey[e.DedupKey] = append(st.byKey[e.DedupKey], &pdIncident{ID: fmt.Sprintf("Q%013d", st.n), Status: "triggered",
				Key: e.DedupKey, Title: e.Summary, Created: now, LastChangeBy: service, LastChangeAt: now})
		}
	case "acknowledge":
		if open != nil {
			open.Status, open.LastChangeBy, open.LastChangeAt = "acknowledged", service, now
			open.Acks = append(open.Acks, pdAck{At: now, By: service})
		}
	case "resolve":
		if open != nil {
			open.Status, open.LastChangeBy, open.LastChangeAt, open.Acks = "resolved", service, now, nil
		}
	}
}

// open is the key's incident not resolved yet (nil when none).
func (r *restState) open(key string) *pdIncident {
	for _, in := range r.byKey[key] {
		if in.Status != "resolved" {
			return in
		}
	}
	return nil
}

// SetClock makes the fake stamp incidents with now (tests with an
// injected clock).
func (p *PagerDuty) SetClock(now func() time.Time) { p.mu.Lock(); p.rest.now = now; p.mu.Unlock() }

// Acknowledge acknowledges the open incident with key as a person does
// in PagerDuty's app; false when none is open.
func (p *PagerDuty) Acknowledge(key, userID, name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.rest.open(key)
	if in == nil {
		return false
	}
	now := p.rest.now()
	by := pdRef{ID: userID, Type: "user_reference", Summary: name}
	in.Status, in.LastChangeBy, in.LastChangeAt = "acknowledged", by, now
	in.Acks = append(in.Acks, pdAck{At: now, By: by})
	return true
}

// Resolve resolves the open incident with key as a person does in
// PagerDuty's app (acknowledgements are cleared, as PagerDuty does).
func (p *PagerDuty) Resolve(key, userID, name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.rest.open(key)
	if in == nil {
		return false
	}
	in.Status, in.LastChangeBy, in.LastChangeAt, in.Acks = "resolved", pdRef{ID: userID, Type: "user_reference", Summary: name}, p.rest.now(), nil
	return true
}

// OpenIncident adds an incident with key created at created, as another
// tool (or an earlier life of the bot) would have.
func (p *PagerDuty) OpenIncident(key, status string, created time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rest.n++
	p.rest.byKey[key] = append(p.rest.byKey[key], &pdIncident{ID: fmt.Sprintf("Q%013d", p.rest.n), Status: status, Key: key,
		Created: created, LastChangeBy: service, LastChangeAt: created})
}

// DenyAccess takes incidents away from APIToken's role while on (403,
// as PagerDuty answers a key that may not read them) and gives them back.
func (p *PagerDuty) DenyAccess(on bool) { p.mu.Lock(); p.rest.denied = on; p.mu.Unlock() }

// RateLimitAPI makes the next n REST requests answer 429.
func (p *PagerDuty) RateLimitAPI(n int) { p.mu.Lock(); p.rest.limited = n; p.mu.Unlock() }

// FailAPI makes the next n REST requests answer 500.
func (p *PagerDuty) FailAPI(n int) { p.mu.Lock(); p.rest.failing = n; p.mu.Unlock() }

// PageSize caps the REST API's pages below PagerDuty's 100.
func (p *PagerDuty) PageSize(n int) { p.mu.Lock(); p.rest.pageMax = n; p.mu.Unlock() }

// APIRequests returns the REST requests received, in order.
func (p *PagerDuty) APIRequests() []APIRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]APIRequest(nil), p.rest.requests...)
}

// APIURL is PAGERDUTY_API_URL.
func (p *PagerDuty) APIURL() string { return p.srv.URL }

// serve routes Events API v2 and the REST API.
func (p *PagerDuty) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/enqueue" {
		p.handle(w, r)
		return
	}
	p.restAPI(w, r)
}

func pdError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "code": code}})
}

func (p *PagerDuty) restAPI(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := &p.rest
	auth := r.Header.Get("Authorization")
	token, form := strings.CutPrefix(auth, "Token token=")
	req := APIRequest{Path: r.URL.Path, Query: r.URL.RawQuery, Authorized: form && (token == p.APIToken || token == p.NoAccessToken),
		Versioned: r.Header.Get("Accept") == "application/vnd.pagerduty+json;version=2"}
	st.requests = append(st.requests, req)
	switch {
	case r.Method != http.MethodGet || r.URL.Path != "/incidents":
		pdError(w, http.StatusNotFound, 2100, "Not Found")
	case !req.Authorized:
		pdError(w, http.StatusUnauthorized, 2006, "Authentication failed")
	case token == p.NoAccessToken || (token == p.APIToken && st.denied):
		pdError(w, http.StatusForbidden, 2010, "Access Denied")
	case st.limited > 0:
		st.limited--
		w.Header().Set("ratelimit-limit", "960")
		w.Header().Set("ratelimit-remaining", "0")
		w.Header().Set("ratelimit-reset", "30")
		pdError(w, http.StatusTooManyRequests, 2020, "Rate Limit Exceeded")
	case st.failing > 0:
		st.failing--
		pdError(w, http.StatusInternalServerError, 2000, "Internal Error")
	default:
		p.listIncidents(w, r)
	}
}

// listIncidents answers GET /incidents (p.mu held).
func (p *PagerDuty) listIncidents(w http.ResponseWriter, r *http.Request) {
	st := &p.rest
	q := r.URL.Query()
	limit, offset := 25, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided")
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided")
			return
		}
		offset = n
	}
	limit = min(limit, 100, st.pageMax)
	var all []*pdIncident
	if key := q.Get("incident_key"); key != "" {
		all = st.byKey[key]
	} else {
		for _, ins := range st.byKey {
			all = append(all, ins...)
		}
	}
	// Without date_range=all PagerDuty shows the last 30 days only.
	if q.Get("date_range") != "all" {
		var recent []*pdIncident
		for _, in := range all {
			if st.now().Sub(in.Created) <= 30*24*time.Hour {
				recent = append(recent, in)
			}
		}
		all = recent
	}
	page := []map[string]any{}
	for i := offset; i < len(all) && i < offset+limit; i++ {
		page = append(page, p.incidentJSON(all[i]))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"incidents": page, "limit": limit, "offset": offset, "more": offset+limit < len(all), "total": nil})
}

func (p *PagerDuty) incidentJSON(in *pdIncident) map[string]any {
	ref := func(r pdRef) map[string]any {
		kind := "users"
		if r.Type == "service_reference" {
			kind = "services"
		}
		return map[string]any{"id": r.ID, "type": r.Type, "summary": r.Summary,
			"self": "https://api.pagerduty.com/" + kind + "/" + r.ID, "html_url": "https://fake.pagerduty.com/" + kind + "/" + r.ID}
	}
	acks := []map[string]any{}
	for _, a := range in.Acks {
		acks = append(acks, map[string]any{"at": a.At.UTC().Format(time.RFC3339), "acknowledger": ref(a.By)})
	}
	return map[string]any{"id": in.ID, "type": "incident", "summary": in.Title, "title": in.Title, "status": in.Status,
		"incident_key": in.Key, "created_at": in.Created.UTC().Format(time.RFC3339), "html_url": "https://fake.pagerduty.com/incidents/" + in.ID,
		"self": "https://api.pagerduty.com/incidents/" + in.ID, "service": ref(service), "urgency": "high",
		"acknowledgements": acks, "last_status_change_by": ref(in.LastChangeBy), "last_status_change_at": in.LastChangeAt.UTC().Format(time.RFC3339)}
}
