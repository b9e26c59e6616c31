// Package fakeapp is the user's app as the bot sees it: a Clerk webhook
// receiver that verifies Svix signatures with Svix's Go library and
// upserts users, which tests can
// make slow, fail for some users, or accept anything (a security hole the
// bot must flag).
package fakeapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

// Server is the fake app.
type Server struct {
	Secret string // whsec_…

	srv *httptest.Server
	// wh is Svix's own library: the app verifies (and Deliver signs) as
	// Svix documents, independently of the bot's resync.Secret.
	wh *svix.Webhook

	mu         sync.Mutex
	users      map[string]int // user ID → deliveries
	badSig     int
	delay      time.Duration
	failUsers  map[string]int // user ID → status to answer
	acceptAll  bool
	rejectAll  bool
	deliveries int
	events     map[string]int // event type → count
	overshoot  time.Duration  // how late time.Sleep wakes, on average
	flaky      int            // every flaky-th delivery answers 503
	attempts   int
	ids        map[string][]string // user ID → svix-id of each attempt
	seenIDs    map[string]bool     // svix-ids applied (receivers de-duplicate by it)
	pauseURL   string              // the bot's GET /v1/webhooks, read per delivery ("" : never paused)
	pauseToken string
	held       int // deliveries answered 503 because processing was paused
}

// HonourPause makes the app read the bot's webhook pause (GET /v1/webhooks
// with the read token) on every delivery, as the README's handler does:
// while paused it answers Clerk's deliveries 503 so Svix retries them, and
// lets through, after verifying the signature, the ones whose svix-id
// carries the resync prefix the JSON gives. When the bot does not answer
// it processes as usual: a missed pause is a race, a held delivery a
// delay of hours.
func (s *Server) HonourPause(url, token string) {
	s.mu.Lock()
	s.pauseURL, s.pauseToken = url, token
	s.mu.Unlock()
}

// Held returns how many deliveries were answered 503 for the pause.
func (s *Server) Held() int { s.mu.Lock(); defer s.mu.Unlock(); return s.held }

// Deliver sends the app one delivery as Clerk's Svix would (svix-id id,
// signed with the app's secret) and returns the status it answered.
func (s *Server) Deliver(id string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, s.WebhookURL(), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	now := time.Now()
	sig, err := s.wh.Sign(id, now, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("svix-id", id)
	req.Header.Set("svix-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("svix-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// pausedFor reports whether processing is paused for a delivery with
// this svix-id (the README's handler, in Go).
func (s *Server) pausedFor(ctx context.Context, svixID string) bool {
	s.mu.Lock()
	url, token := s.pauseURL, s.pauseToken
	s.mu.Unlock()
	if url == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var st struct {
		Paused         bool   `json:"paused"`
		ResyncIDPrefix string `json:"resync_id_prefix"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return false
	}
	return st.Paused && (st.ResyncIDPrefix == "" || !strings.HasPrefix(svixID, st.ResyncIDPrefix))
}

// FailIntermittently makes every nth delivery answer 503, as an app under
// load or mid-deploy does (0: never).
func (s *Server) FailIntermittently(n int) { s.mu.Lock(); s.flaky = n; s.mu.Unlock() }

// MessageIDs returns the svix-id of every attempt to deliver a user.
func (s *Server) MessageIDs(userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids[userID]...)
}

// New starts a fake app with a fresh signing secret.
func New() *Server {
	s := &Server{Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", users: map[string]int{}, failUsers: map[string]int{}, events: map[string]int{}}
	s.wh, _ = svix.NewWebhook(s.Secret)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/webhooks/clerk", s.webhook)
	s.srv = httptest.NewServer(mux)
	return s
}

// WebhookURL is APP_WEBHOOK_URL.
func (s *Server) WebhookURL() string { return s.srv.URL + "/api/webhooks/clerk" }

// Close stops it.
func (s *Server) Close() { s.srv.Close() }

// SetDelay makes every delivery take d.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// FailUser makes deliveries for a user answer status.
func (s *Server) FailUser(id string, status int) {
	s.mu.Lock()
	s.failUsers[id] = status
	s.mu.Unlock()
}

// AcceptUnsigned makes the app skip signature checks (a security finding).
func (s *Server) AcceptUnsigned(v bool) { s.mu.Lock(); s.acceptAll = v; s.mu.Unlock() }

// RejectSignatures makes the app reject every signature (a wrong secret).
func (s *Server) RejectSignatures(v bool) { s.mu.Lock(); s.rejectAll = v; s.mu.Unlock() }

// Users returns how many distinct users the app holds.
func (s *Server) Users() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.users) }

// Has reports whether the app holds a user.
func (s *Server) Has(id string) bool { s.mu.Lock(); defer s.mu.Unlock(); return s.users[id] > 0 }

// Stats returns deliveries accepted and signature failures.
func (s *Server) Stats() (deliveries, badSignatures int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliveries, s.badSig
}

// wait takes d on average: the runtime's timers wake late by up to a
// millisecond, so the fake learns by how much and sleeps that much less.
func (s *Server) wait(d time.Duration) {
	s.mu.Lock()
	over := s.overshoot
	s.mu.Unlock()
	start := time.Now()
	time.Sleep(max(d-over, 0))
	late := time.Since(start) - max(d-over, 0)
	s.mu.Lock()
	s.overshoot = (s.overshoot*15 + late) / 16
	s.mu.Unlock()
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	delay, accept, reject := s.delay, s.acceptAll, s.rejectAll
	s.mu.Unlock()
	if delay > 0 {
		s.wait(delay)
	}
	if !accept {
		// Verify enforces Svix's 5-minute timestamp tolerance against the
		// wall clock, as a real receiver does.
		if err := s.wh.Verify(body, r.Header); err != nil || reject {
			s.mu.Lock()
			s.badSig++
			s.mu.Unlock()
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
	}
	// Only after the signature: the svix-id it covers is then the sender's.
	if s.pausedFor(r.Context(), r.Header.Get("svix-id")) {
		s.mu.Lock()
		s.held++
		s.mu.Unlock()
		http.Error(w, "webhook processing paused", http.StatusServiceUnavailable)
		return
	}
	var ev struct {
		Type string `json:"type"`
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[ev.Type]++
	if s.ids == nil {
		s.ids, s.seenIDs = map[string][]string{}, map[string]bool{}
	}
	msgID := r.Header.Get("svix-id")
	s.ids[ev.Data.ID] = append(s.ids[ev.Data.ID], msgID)
	s.attempts++
	if s.flaky > 0 && s.attempts%s.flaky == 0 {
		http.Error(w, "upstream busy", http.StatusServiceUnavailable)
		return
	}
	if s.seenIDs[msgID] {
		w.WriteHeader(http.StatusNoContent) // a redelivery: already applied
		return
	}
	s.seenIDs[msgID] = true
	if code := s.failUsers[ev.Data.ID]; code != 0 {
		w.WriteHeader(code)
		return
	}
	if ev.Type == "user.updated" || ev.Type == "user.created" {
		if ev.Data.ID == "" {
			http.Error(w, "no user id", http.StatusBadRequest)
			return
		}
		s.users[ev.Data.ID]++
	}
	s.deliveries++
	w.WriteHeader(http.StatusNoContent)
}
