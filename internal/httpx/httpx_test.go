package httpx_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
)

// reply is one scripted answer of the test server.
type reply struct {
	status int
	header map[string]string
}

// script serves its replies in order (the last one again when they run
// out) and records each request's body.
type script struct {
	mu      sync.Mutex
	replies []reply
	bodies  []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b []byte
	if r.Body != nil { // a client's GET (direct) has none
		b, _ = io.ReadAll(r.Body)
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	rep := s.replies[min(len(s.bodies), len(s.replies))-1]
	s.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func (s *script) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// The test clock: every header below is read against it.
var now = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// limited is a classifier built from the package's parts as the clients
// build theirs: a 429 waits its Retry-After (seconds or a date), else the
// reset header, at most a minute (longer: told); a 5xx or a lost answer
// backs off, doubling to a bound; anything else is the answer.
func limited(a httpx.Answer) httpx.Verdict {
	switch {
	case a.Err != nil || a.Status >= 500:
		return httpx.Verdict{Retry: true, Wait: min(time.Second<<a.Attempt, 4*time.Second)}
	case a.Status == http.StatusTooManyRequests:
		wait, ok := httpx.RetryAfter(a.Header, now)
		if !ok {
			wait, ok = httpx.ResetIn(a.Header, "X-RateLimit-Reset", now)
		}
		if !ok {
			wait = time.Second
		}
		if wait > time.Minute {
			return httpx.Verdict{Err: errors.New("told: wait " + wait.String())}
		}
		return httpx.Verdict{Retry: true, Wait: wait}
	}
	return httpx.Verdict{}
}

type counted struct {
	mu    sync.Mutex
	calls []string
}

func (c *counted) Call(service, method, route string, status int) {
	c.mu.Lock()
	c.calls = append(c.calls, service+" "+method+" "+route+" "+http.StatusText(status))
	c.mu.Unlock()
}

func TestPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies []reply
		status  int             // the answer handed back (0: an error)
		err     string          // the error's text, when one
		waits   []time.Duration // slept between attempts, in order
	}{
		{name: "429 with Retry-After seconds", replies: []reply{{429, map[string]string{"Retry-After": "7"}}, {200, nil}},
			status: 200, waits: []time.Duration{7 * time.Second}},
		{name: "429 with Retry-After as a date", replies: []reply{{429, map[string]string{"Retry-After": now.Add(12 * time.Second).Format(http.TimeFormat)}}, {201, nil}},
			status: 201, waits: []time.Duration{12 * time.Second}},
		{name: "429 with a reset header", replies: []reply{{429, map[string]string{"X-RateLimit-Reset": "1796637630"}}, {200, nil}},
			status: 200, waits: []time.Duration{time.Unix(1796637630, 0).Sub(now)}},
		{name: "429 waiting longer than the service waits is told at once", replies: []reply{{429, map[string]string{"Retry-After": "120"}}},
			err: "told: wait 2m0s"},
		{name: "5xx backs off, bounded, then hands back the last answer", replies: []reply{{503, nil}},
			status: 503, waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}},
		{name: "5xx then success", replies: []reply{{500, nil}, {502, nil}, {200, nil}},
			status: 200, waits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "non-retryable 4xx returned at once", replies: []reply{{404, nil}, {200, nil}}, status: 404},
		{name: "a 400 is not retried either", replies: []reply{{400, nil}}, status: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &script{replies: tc.replies}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			var waits []time.Duration
			count := &counted{}
			svc := httpx.Service{Name: "test", Count: count, Policy: httpx.Policy{Attempts: 5, Classify: limited,
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}}
			a, err := svc.Do(context.Background(), httpx.Request{Method: http.MethodPost, URL: ts.URL + "/things/42", Route: "/things/{id}", Body: []byte(`{"n":1}`)})
			switch {
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Fatalf("err %v, want %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatalf("err %v", err)
			case tc.err == "" && a.Status != tc.status:
				t.Fatalf("status %d, want %d", a.Status, tc.status)
			}
			if tc.err == "" && string(a.Body) != `{"ok":true}` {
				t.Errorf("body %q", a.Body)
			}
			if len(waits) != len(tc.waits) {
				t.Fatalf("waited %v, want %v", waits, tc.waits)
			}
			for i := range waits {
				if waits[i] != tc.waits[i] {
					t.Fatalf("waited %v, want %v", waits, tc.waits)
				}
			}
			// Every attempt carried the whole body and was counted once.
			sent := srv.sent()
			if len(sent) != len(waits)+1 {
				t.Fatalf("%d attempts after %d waits", len(sent), len(waits))
			}
			for i, b := range sent {
				if b != `{"n":1}` {
					t.Fatalf("attempt %d sent %q", i+1, b)
				}
			}
			if len(count.calls) != len(sent) || !strings.HasPrefix(count.calls[0], "test POST /things/{id} ") {
				t.Fatalf("counted %q for %d attempts", count.calls, len(sent))
			}
		})
	}
}

// A call whose context ends while it waits to retry stops there: the
// context's error, as a *WaitError, and no further attempt.
func TestPolicyStopsWhenTheContextEnds(t *testing.T) {
	srv := &script{replies: []reply{{503, nil}}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	svc := httpx.Service{Name: "test", Policy: httpx.Policy{Attempts: 5, Classify: limited,
		Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); <-ctx.Done(); return ctx.Err() }}}
	_, err := svc.Do(ctx, httpx.Request{Method: http.MethodGet, URL: ts.URL})
	var we *httpx.WaitError
	if !errors.As(err, &we) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if n := len(srv.sent()); n != 1 {
		t.Fatalf("%d attempts after the context ended", n)
	}
	// Already ended: the default sleep (backoff.Sleep) returns at once.
	svc.Policy.Sleep = nil
	if _, err := svc.Do(ctx, httpx.Request{Method: http.MethodGet, URL: ts.URL}); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: %v", err)
	}
}

// No answer: the transport's error, retried as the classifier says; a
// malformed URL is never sent nor retried; Before's error ends the call.
func TestPolicyLostAnswersBadURLsAndBefore(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there now
	var waits int
	count := &counted{}
	svc := httpx.Service{Name: "test", Count: count, Policy: httpx.Policy{Attempts: 3, Classify: limited,
		Sleep: func(context.Context, time.Duration) error { waits++; return nil }}}
	a, err := svc.Do(context.Background(), httpx.Request{Method: http.MethodGet, URL: url})
	if err == nil || a.Err == nil || a.Status != 0 || waits != 2 || len(count.calls) != 3 {
		t.Fatalf("lost answers: err %v, status %d, %d waits, counted %q", err, a.Status, waits, count.calls)
	}
	waits = 0
	_, err = svc.Do(context.Background(), httpx.Request{Method: http.MethodGet, URL: "http://a b/"})
	var bad *httpx.RequestError
	if !errors.As(err, &bad) || waits != 0 || len(count.calls) != 3 {
		t.Fatalf("bad URL: %v after %d waits, counted %d", err, waits, len(count.calls))
	}
	stop := errors.New("found it")
	_, err = svc.Do(context.Background(), httpx.Request{Method: http.MethodGet, URL: url, Before: func(context.Context) error { return stop }})
	if !errors.Is(err, stop) || len(count.calls) != 3 {
		t.Fatalf("before: %v", err)
	}
}

// Each attempt has the service's timeout; the call is then a lost answer.
func TestPolicyTimesOutEachAttempt(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	svc := httpx.Service{Name: "test", Timeout: 20 * time.Millisecond}
	a, err := svc.Do(context.Background(), httpx.Request{Method: http.MethodGet, URL: ts.URL})
	if err == nil || !errors.Is(a.Err, context.DeadlineExceeded) {
		t.Fatalf("err %v (%v)", err, a.Err)
	}
}

// direct is a RoundTripper that reads the request's body itself and
// answers from the script: unlike http.Transport, it rewinds nothing.
type direct struct{ s *script }

func (d direct) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	d.s.ServeHTTP(rec, req)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return rec.Result(), nil
}

// The Transport form (an *http.Client's, for clerk-sdk-go) replays the
// body on each attempt, runs Before ahead of each, counts each under the
// path, and hands back the last answer whole.
func TestTransportReplaysBodies(t *testing.T) {
	srv := &script{replies: []reply{{502, nil}, {429, map[string]string{"Retry-After": "2"}}, {200, nil}}}
	var waits []time.Duration
	befores := 0
	count := &counted{}
	tr := &httpx.Transport{Service: "clerk", Base: direct{srv}, Count: count,
		Before: func(*http.Request) error { befores++; return nil },
		Policy: func(*http.Request) httpx.Policy {
			return httpx.Policy{Attempts: 4, Classify: limited, Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
		}}
	hc := &http.Client{Transport: tr}
	resp, err := hc.Post("http://clerk.test/v1/users/user_1/ban", "application/json", strings.NewReader(`{"x":"y"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
		t.Fatalf("answer %d %q", resp.StatusCode, body)
	}
	if sent := srv.sent(); len(sent) != 3 || sent[0] != `{"x":"y"}` || sent[1] != sent[0] || sent[2] != sent[0] {
		t.Fatalf("sent %q", sent)
	}
	if len(waits) != 2 || waits[0] != time.Second || waits[1] != 2*time.Second || befores != 3 {
		t.Fatalf("waits %v, %d befores", waits, befores)
	}
	if len(count.calls) != 3 || count.calls[2] != "clerk POST /v1/users/user_1/ban OK" {
		t.Fatalf("counted %q", count.calls)
	}
	// A classifier's error ends the call.
	srv.mu.Lock()
	srv.replies, srv.bodies = []reply{{429, map[string]string{"Retry-After": "90"}}}, nil
	srv.mu.Unlock()
	if _, err := hc.Get("http://clerk.test/v1/users"); err == nil || !strings.Contains(err.Error(), "told: wait 1m30s") || len(srv.sent()) != 1 {
		t.Fatalf("long Retry-After: %v after %d attempts", err, len(srv.sent()))
	}
	// Before's error ends it before any attempt.
	stop := errors.New("budget: redis down")
	tr.Before = func(*http.Request) error { return stop }
	if _, err := hc.Get("http://clerk.test/v1/users"); !errors.Is(err, stop) || len(srv.sent()) != 1 {
		t.Fatalf("before: %v", err)
	}
}

func TestRetryAfterAndResetHeaders(t *testing.T) {
	for _, tc := range []struct {
		header string
		wait   time.Duration
		ok     bool
	}{
		{"30", 30 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true}, // a date past: no wait
		{"soon", 0, false},
		{"", 0, false},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		if wait, ok := httpx.RetryAfter(h, now); wait != tc.wait || ok != tc.ok {
			t.Errorf("Retry-After %q: %v %v, want %v %v", tc.header, wait, ok, tc.wait, tc.ok)
		}
	}
	h := http.Header{"X-Ratelimit-Reset": {"1796637600"}} // now + 0 s
	if wait, ok := httpx.ResetIn(h, "X-RateLimit-Reset", now.Add(-1500*time.Millisecond)); !ok || wait != 2*time.Second {
		t.Errorf("reset: %v %v", wait, ok)
	}
	if _, ok := httpx.ResetIn(http.Header{}, "X-RateLimit-Reset", now); ok {
		t.Error("no reset header read as one")
	}
}
