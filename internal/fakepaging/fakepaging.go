// Package fakepaging is an in-repo Twilio REST API (Messages and Calls:
// form-encoded, basic auth, Twilio's JSON error body; a call's From must
// be a phone number, and a placed call's status is read back with GET
// Calls/{sid}.json, with answered_by only for calls that asked for
// answering-machine detection; the message list, newest first, sent
// messages included, paged by next_page_uri, date_sent in RFC 2822) and
// PagerDuty Events API v2 (JSON, 202 {"status":"success",…}, 429 when
// rate limited). Each records what it received, can answer slowly, and
// fails on demand.
package fakepaging

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

// Sent is one SMS or call Twilio accepted.
type Sent struct {
	Kind, To, From, Body string // Kind: sms or call; Body: the SMS text or the TwiML
}

// Twilio is the fake Twilio.
type Twilio struct {
	SID, Token, From string

	srv         *httptest.Server
	mu          sync.Mutex
	sent        []Sent
	refuse      map[string]int // number → Twilio error code answered for it
	latency     time.Duration
	callLatency time.Duration
	onSent      func(Sent)
	script      map[string][]string // number → statuses its calls report, one per read
	calls       map[string]*call    // call SID → its scripted statuses
	messages    []message           // every message, oldest first
	requests    []Request
	now         func() time.Time
	rec         speccheck.Recorder
}

// SpecRequests is every request received.
func (t *Twilio) SpecRequests() []speccheck.Request { return t.rec.Requests() }

// SpecErrors checks every request received against Twilio's own API
// description (speccheck.Twilio): one error per request outside it.
func (t *Twilio) SpecErrors() []error {
	return speccheck.MustLoad(speccheck.Twilio).CheckAll(t.rec.Requests())
}

// Request is one request the fake received, for checking against
// Twilio's OpenAPI description.
type Request struct {
	Method, Path string
	Query, Form  url.Values
}

// message is one SMS in the account's message list.
type message struct {
	sid, from, to, body, direction, status, service string
	sent                                            time.Time
}

// call is one placed call: each read of its status takes the next one
// scripted; the last stays. amd: it asked for answering-machine detection.
type call struct {
	statuses []string
	reads    int
	amd      bool
}

// ScriptCall makes calls placed to number report these statuses, one per
// read of the call (GET …/Calls/{sid}.json), the last one from then on:
// for instance "ringing", "no-answer". A status may carry who answered,
// as answering-machine detection decides it: "completed:machine_start"
// (answered_by is only reported when the call asked for detection).
// Unscripted calls report "completed" by a human.
func (t *Twilio) ScriptCall(number string, statuses ...string) {
	t.mu.Lock()
	t.script[number] = statuses
	t.mu.Unlock()
}

// CallReads is how many times call statuses were read.
func (t *Twilio) CallReads() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.calls {
		n += c.reads
	}
	return n
}

// SetClock makes date_sent come from now (the tests' clock).
func (t *Twilio) SetClock(now func() time.Time) { t.mu.Lock(); t.now = now; t.mu.Unlock() }

// Reply is an SMS texted from a phone to one of the account's numbers:
// it appears in the message list as inbound, received. It returns its SID.
func (t *Twilio) Reply(from, to, body string) string {
	return t.addMessage(message{from: from, to: to, body: body, direction: "inbound", status: "received"})
}

// Outbound is a message the account sent by other means (another
// service using the same number): listed, outbound-api, delivered.
func (t *Twilio) Outbound(from, to, body string) string {
	return t.addMessage(message{from: from, to: to, body: body, direction: "outbound-api", status: "delivered"})
}

func (t *Twilio) addMessage(m message) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	m.sid = fmt.Sprintf("SM%032x", len(t.messages)+1)
	m.sent = t.now().UTC().Truncate(time.Second)
	t.messages = append(t.messages, m)
	return m.sid
}

// Requests returns every request received, in order.
func (t *Twilio) Requests() []Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Request(nil), t.requests...)
}

// OnSent calls f with each SMS or call accepted (the sandbox prints them).
func (t *Twilio) OnSent(f func(Sent)) { t.mu.Lock(); t.onSent = f; t.mu.Unlock() }

// NewTwilio starts a fake Twilio.
func NewTwilio() *Twilio {
	t := &Twilio{SID: "ACfake0000000000000000000000000000", Token: "faketwiliotoken0123456789abcdef", From: "+15550000000", refuse: map[string]int{},
		script: map[string][]string{}, calls: map[string]*call{}, now: time.Now}
	t.srv = httptest.NewServer(t.rec.Wrap(http.HandlerFunc(t.handle)))
	return t
}

// URL is TWILIO_API_URL.
func (t *Twilio) URL() string { return t.srv.URL }

// Close stops it.
func (t *Twilio) Close() { t.srv.Close() }

// Refuse answers every message or call to number with Twilio error code
// (21211 invalid number, 21608 unverified on a trial account, 20429 …).
func (t *Twilio) Refuse(number string, code int) { t.mu.Lock(); t.refuse[number] = code; t.mu.Unlock() }

// SetLatency delays every answer; a caller that goes away meanwhile (a
// killed bot) sends nothing.
func (t *Twilio) SetLatency(d time.Duration) { t.mu.Lock(); t.latency = d; t.mu.Unlock() }

// CallLatency delays calls only (SMS answer at once).
func (t *Twilio) CallLatency(d time.Duration) { t.mu.Lock(); t.callLatency = d; t.mu.Unlock() }

// Sent returns what was accepted, in order.
func (t *Twilio) Sent() []Sent {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Sent(nil), t.sent...)
}

func twilioErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

func (t *Twilio) handle(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm() // the body read, the server notices a caller that goes away
	t.mu.Lock()
	t.requests = append(t.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Form: r.PostForm})
	d := t.latency
	if strings.HasSuffix(r.URL.Path, "/Calls.json") {
		d += t.callLatency
	}
	t.mu.Unlock()
	select {
	case <-time.After(d):
	case <-r.Context().Done():
		return // the caller went away before Twilio took it: nothing was sent
	}
	sid, token, ok := r.BasicAuth()
	if !ok || sid != t.SID || token != t.Token {
		twilioErr(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	prefix := "/2010-04-01/Accounts/" + t.SID + "/"
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, prefix+"Calls/") && strings.HasSuffix(r.URL.Path, ".json") {
		t.callStatus(w, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix+"Calls/"), ".json"))
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == prefix+"Messages.json" {
		t.listMessages(w, r.URL.Query())
		return
	}
	kind := map[string]string{prefix + "Messages.json": "sms", prefix + "Calls.json": "call"}[r.URL.Path]
	if r.Method != http.MethodPost || kind == "" {
		twilioErr(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	_ = r.ParseForm()
	to, from, body, ok := readSend(w, kind, r.PostForm)
	if !ok {
		return
	}
	t.mu.Lock()
	code := t.refuse[to]
	if code == 0 {
		t.sent = append(t.sent, Sent{Kind: kind, To: to, From: from, Body: body})
	}
	n := len(t.sent)
	resSID := fmt.Sprintf("%s%032d", map[string]string{"sms": "SM", "call": "CA"}[kind], n)
	if code == 0 && kind == "call" {
		statuses := t.script[to]
		if len(statuses) == 0 {
			statuses = []string{"completed:human"}
		}
		md := r.PostForm.Get("MachineDetection")
		t.calls[resSID] = &call{statuses: statuses, amd: md == "Enable" || md == "DetectMessageEnd"}
	}
	if code == 0 && kind == "sms" {
		m := message{from: from, to: to, body: body, direction: "outbound-api", status: "sent", sent: t.now().UTC().Truncate(time.Second)}
		if strings.HasPrefix(from, "MG") {
			m.from, m.service = t.From, from // the service's number
		}
		m.sid = fmt.Sprintf("SM%032x", len(t.messages)+1)
		t.messages = append(t.messages, m)
		resSID = m.sid
	}
	on := t.onSent
	t.mu.Unlock()
	if code == 0 && on != nil {
		on(Sent{Kind: kind, To: to, From: from, Body: body})
	}
	switch code {
	case 0:
	case 20429:
		twilioErr(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	default:
		twilioErr(w, http.StatusBadRequest, code, "refused by the fake")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": resSID, "status": "queued", "to": to, "from": from})
}

// readSend reads a message or call; when it is invalid it answers
// Twilio's error and ok is false.
func readSend(w http.ResponseWriter, kind string, f url.Values) (to, from, body string, ok bool) {
	to, from, body = f.Get("To"), f.Get("From"), f.Get("Body")
	if kind == "call" {
		body = f.Get("Twiml")
	}
	if kind == "sms" && from == "" {
		from = f.Get("MessagingServiceSid")
	}
	switch {
	case kind == "call" && !strings.HasPrefix(to, "+"):
		twilioErr(w, http.StatusBadRequest, 21217, fmt.Sprintf("Phone number %s does not appear to be valid.", to))
		return to, from, body, false
	case kind == "call" && from != "" && !strings.HasPrefix(from, "+"):
		// A call's From must be a number: a Messaging Service SID only sends messages.
		twilioErr(w, http.StatusBadRequest, 21212, fmt.Sprintf("Invalid From Number (caller ID): %s", from))
		return to, from, body, false
	case !strings.HasPrefix(to, "+"):
		twilioErr(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
		return to, from, body, false
	case from == "" || body == "":
		twilioErr(w, http.StatusBadRequest, 21603, "A 'From' and a body are required")
		return to, from, body, false
	case kind == "sms" && len([]rune(body)) > 1600:
		twilioErr(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return to, from, body, false
	}
	return to, from, body, true
}

// callStatus answers GET Calls/{sid}.json with the call's next scripted status.
func (t *Twilio) callStatus(w http.ResponseWriter, sid string) {
	t.mu.Lock()
	c := t.calls[sid]
	status, by := "", ""
	amd := false
	if c != nil {
		status, by, _ = strings.Cut(c.statuses[min(c.reads, len(c.statuses)-1)], ":")
		c.reads++
		amd = c.amd
	}
	t.mu.Unlock()
	if c == nil {
		twilioErr(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource /2010-04-01/Accounts/%s/Calls/%s.json was not found", t.SID, sid))
		return
	}
	// Twilio answers answered_by null without detection; with it, null
	// until the call is picked up and detection has decided.
	var answeredBy any
	if amd && by != "" && (status == "in-progress" || status == "completed") {
		answeredBy = by
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": sid, "status": status, "account_sid": t.SID, "answered_by": answeredBy,
		"api_version": "2010-04-01", "uri": "/2010-04-01/Accounts/" + t.SID + "/Calls/" + sid + ".json"})
}

// Event is one PagerDuty event received.
type Event struct {
	Action, DedupKey, Summary, Severity, Source, Link string
}

// PagerDuty is the fake Events API v2 and the REST API's incidents
// (rest.go): events open, acknowledge and resolve incidents keyed by
// their dedup_key, which GET /incidents?incident_key= finds.
type PagerDuty struct {
	Key string
	// APIToken is the REST API key GET /incidents accepts; NoAccessToken
	// one PagerDuty knows but refuses incidents to (403).
	APIToken, NoAccessToken string

	srv     *httptest.Server
	mu      sync.Mutex
	events  []Event
	fail    int // next n requests answer 500
	limited int // next n requests answer 429
	latency time.Duration
	onEvent func(Event)
	rest    restState
	rec     speccheck.Recorder
}

// SpecRequests is every request received.
func (p *PagerDuty) SpecRequests() []speccheck.Request { return p.rec.Requests() }

// SpecErrors checks every request received against PagerDuty's own
// descriptions: events (/v2/…) against Events API v2, the rest against the
// REST API (GET /incidents).
func (p *PagerDuty) SpecErrors() []error {
	events, rest := speccheck.MustLoad(speccheck.PagerDutyEvents), speccheck.MustLoad(speccheck.PagerDutyREST)
	var errs []error
	for _, r := range p.rec.Requests() {
		spec := rest
		if strings.HasPrefix(r.Path, "/v2/") {
			spec = events
		}
		if err := spec.Check(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// OnEvent calls f with each event accepted (the sandbox prints them).
func (p *PagerDuty) OnEvent(f func(Event)) { p.mu.Lock(); p.onEvent = f; p.mu.Unlock() }

// NewPagerDuty starts a fake PagerDuty.
func NewPagerDuty() *PagerDuty {
	p := &PagerDuty{Key: "fakeroutingkey0123456789abcdef01", APIToken: "u+fakeRESTkey0123456789", NoAccessToken: "u+fakeNoAccess012345678",
		rest: restState{byKey: map[string][]*pdIncident{}, now: time.Now, pageMax: 100}}
	p.srv = httptest.NewServer(p.rec.Wrap(http.HandlerFunc(p.serve)))
	return p
}

// URL is PAGERDUTY_EVENTS_URL.
func (p *PagerDuty) URL() string { return p.srv.URL + "/v2/enqueue" }

// Close stops it.
func (p *PagerDuty) Close() { p.srv.Close() }

// Fail makes the next n events answer 500.
func (p *PagerDuty) Fail(n int) { p.mu.Lock(); p.fail = n; p.mu.Unlock() }

// RateLimit makes the next n events answer 429, as PagerDuty does past
// about 120 events a minute per integration key.
func (p *PagerDuty) RateLimit(n int) { p.mu.Lock(); p.limited = n; p.mu.Unlock() }

// SetLatency delays every answer.
func (p *PagerDuty) SetLatency(d time.Duration) { p.mu.Lock(); p.latency = d; p.mu.Unlock() }

// Events returns what was accepted, in order.
// KeyFor is the dedup_key the latest trigger for incident id came with
// (id itself, or id@<install>); id when none came.
func (p *PagerDuty) KeyFor(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.events) - 1; i >= 0; i-- {
		if k := p.events[i].DedupKey; p.events[i].Action == "trigger" && (k == id || strings.HasPrefix(k, id+"@")) {
			return k
		}
	}
	return id
}

// Events lists the events accepted.
func (p *PagerDuty) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

func (p *PagerDuty) handle(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	d := p.latency
	p.mu.Unlock()
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10)) // read first: the server then notices a caller that goes away
	select {
	case <-time.After(d):
	case <-r.Context().Done():
		return // the caller went away before PagerDuty took it
	}
	w.Header().Set("Content-Type", "application/json")
	var ev struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     *struct {
			Summary, Source, Severity string
		} `json:"payload"`
		Links []struct{ Href string } `json:"links"`
	}
	if r.URL.Path != "/v2/enqueue" || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status":"invalid event","message":"Event object is invalid","errors":["Invalid JSON"]}`))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if p.limited > 0 {
		p.limited--
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "throttle event", "message": "Requests for this service are arriving too quickly. Please retry later."})
		return
	}
	var errs []string
	if ev.RoutingKey != p.Key {
		errs = append(errs, "Invalid routing key")
	}
	switch ev.EventAction {
	case "trigger":
		if ev.Payload == nil || ev.Payload.Summary == "" || ev.Payload.Source == "" {
			errs = append(errs, "'payload.summary' and 'payload.source' are required")
		} else if s := ev.Payload.Severity; s != "critical" && s != "error" && s != "warning" && s != "info" {
			errs = append(errs, "'payload.severity' is invalid")
		}
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			errs = append(errs, "'dedup_key' is required")
		}
	default:
		errs = append(errs, "'event_action' is invalid")
	}
	if len(errs) > 0 {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
		return
	}
	e := Event{Action: ev.EventAction, DedupKey: ev.DedupKey}
	if ev.Payload != nil {
		e.Summary, e.Severity, e.Source = ev.Payload.Summary, ev.Payload.Severity, ev.Payload.Source
	}
	if len(ev.Links) > 0 {
		e.Link = ev.Links[0].Href
	}
	p.events = append(p.events, e)
	p.follow(e)
	if p.onEvent != nil {
		go p.onEvent(e)
	}
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}
