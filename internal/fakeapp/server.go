// Package fakeapp is the user's app as the bot sees it: a Clerk webhook
// receiver that verifies Svix signatures and upserts users, which tests can
// make slow, fail for some users, or accept anything (a security hole the
// bot must flag).
package fakeapp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// Server is the fake app.
type Server struct {
	Secret string // whsec_…

	srv *httptest.Server
	key resync.Secret

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
	s.key, _ = resync.ParseSecret(s.Secret)
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
		if err := s.key.Verify(r.Header, body, time.Now()); err != nil || reject {
			s.mu.Lock()
			s.badSig++
			s.mu.Unlock()
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
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
