package clerkops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
)

// Limiter keeps requests under a budget of N per window: a sliding log of
// send times, so no window of that length ever holds more than N requests,
// whether the server counts in fixed or sliding windows. A 429 pauses
// every request until its Retry-After.
type Limiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	sent   []time.Time
	pause  time.Time
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// NewLimiter allows n requests per window (n <= 0: unlimited).
func NewLimiter(n int, window time.Duration) *Limiter {
	return &Limiter{n: n, window: window, now: time.Now, sleep: backoff.Sleep}
}

// Budget returns the configured budget.
func (l *Limiter) Budget() (int, time.Duration) { return l.n, l.window }

// Wait blocks until a request may be sent.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		var wait time.Duration
		switch {
		case now.Before(l.pause):
			wait = l.pause.Sub(now)
		case l.n <= 0:
			l.mu.Unlock()
			return nil
		default:
			cut := 0
			for cut < len(l.sent) && now.Sub(l.sent[cut]) >= l.window {
				cut++
			}
			l.sent = l.sent[cut:]
			if len(l.sent) < l.n {
				l.sent = append(l.sent, now)
				l.mu.Unlock()
				return nil
			}
			// A little slack for the request's travel time to the server.
			wait = l.window - now.Sub(l.sent[0]) + 5*time.Millisecond
		}
		l.mu.Unlock()
		if err := l.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Pause holds every request until t (a 429's Retry-After).
func (l *Limiter) Pause(t time.Time) {
	l.mu.Lock()
	if t.After(l.pause) {
		l.pause = t
	}
	l.mu.Unlock()
}

// Transport wraps an http.RoundTripper in the one retry loop
// (internal/httpx) with Clerk's rules: it waits for the budget before each
// attempt (the JWKS excepted), waits a 429's Retry-After in full (one over
// MaxRetryAfter is told, and pauses the budget), retries 5xx and network
// errors with capped exponential backoff and jitter, and replays request
// bodies. Clerk's SDK never retries.
type Transport struct {
	Base     http.RoundTripper
	Limiter  RequestBudget
	Attempts int
	MaxWait  time.Duration
	// Observe, if set, sees each attempt's status (0 for a network error).
	Observe func(method, path string, status int)
	sleep   func(ctx context.Context, d time.Duration) error
}

// NewTransport returns a retrying, rate-limited transport.
func NewTransport(base http.RoundTripper, l RequestBudget) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{Base: base, Limiter: l, Attempts: 8, MaxWait: 30 * time.Second, sleep: backoff.Sleep}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tr := httpx.Transport{Service: "clerk", Base: scrubbing{t.Base}, Policy: t.policy, Before: t.wait}
	if t.Observe != nil {
		tr.Count = observer(t.Observe)
	}
	resp, err := tr.RoundTrip(req)
	var we *httpx.WaitError
	if errors.As(err, &we) {
		return nil, we.Err
	}
	return resp, err
}

// wait spends the budget before an attempt; the JWKS is not counted.
func (t *Transport) wait(req *http.Request) error {
	if t.Limiter == nil || req.URL.Path == "/jwks" || strings.HasSuffix(req.URL.Path, "/jwks") {
		return nil
	}
	return t.Limiter.Wait(req.Context())
}

// policy is Clerk's retry rule for one request: the backoff grows with
// failures, not with 429s (their wait is Clerk's own).
func (t *Transport) policy(req *http.Request) httpx.Policy {
	ctx := req.Context()
	backoff := 250 * time.Millisecond
	return httpx.Policy{Attempts: t.Attempts, Sleep: t.sleep, Classify: func(a httpx.Answer) httpx.Verdict {
		retryable, wait := classify(a, backoff)
		if a.Status == http.StatusTooManyRequests && wait > MaxRetryAfter {
			// Too long to hold a responder's command: tell them instead.
			if t.Limiter != nil {
				t.Limiter.Pause(time.Now().Add(wait))
			}
			return httpx.Verdict{Err: &RetryAfterError{Wait: wait}}
		}
		if !retryable || a.Attempt+1 >= t.Attempts || ctx.Err() != nil {
			return httpx.Verdict{}
		}
		if a.Status == http.StatusTooManyRequests && t.Limiter != nil {
			t.Limiter.Pause(time.Now().Add(wait))
		}
		if a.Status != http.StatusTooManyRequests {
			backoff = min(backoff*2, t.MaxWait)
		}
		return httpx.Verdict{Retry: true, Wait: wait}
	}}
}

// classify decides whether to retry and how long to wait first.
func classify(a httpx.Answer, backoff time.Duration) (bool, time.Duration) {
	jitter := func(d time.Duration) time.Duration { return d/2 + time.Duration(rand.Int64N(int64(d/2)+1)) }
	if a.Err != nil {
		var ne net.Error
		if errors.As(a.Err, &ne) || errors.Is(a.Err, io.ErrUnexpectedEOF) || errors.Is(a.Err, io.EOF) {
			return true, jitter(backoff)
		}
		return false, 0
	}
	switch {
	case a.Status == http.StatusTooManyRequests:
		// Retry-After is honoured in full, never cut short.
		if wait, ok := httpx.RetryAfter(a.Header, time.Now()); ok {
			return true, wait
		}
		return true, jitter(backoff)
	case a.Status >= 500:
		return true, jitter(backoff)
	}
	return false, 0
}

// observer counts attempts through Observe.
type observer func(method, path string, status int)

func (o observer) Call(_, method, path string, status int) { o(method, path, status) }

// scrubbing drops the URL from transport errors (it may carry query
// data); the classifier still sees the error they wrap.
type scrubbing struct{ base http.RoundTripper }

func (s scrubbing) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err != nil {
		return nil, scrub(err)
	}
	return resp, nil
}

// scrub names the error's cause without the error's own text.
func scrub(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return &scrubbed{msg: "clerk request failed: " + inner.Error(), err: err}
		}
	}
	return err
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }

func (s *scrubbed) Unwrap() error { return s.err }

// MaxRetryAfter is the longest Retry-After a request waits out; a longer
// one is told to the user rather than cut short.
const MaxRetryAfter = 60 * time.Second

// RetryAfterError is a 429 whose Retry-After is over MaxRetryAfter.
type RetryAfterError struct{ Wait time.Duration }

func (r *RetryAfterError) Error() string {
	return fmt.Sprintf("Clerk asks to wait %s before the next request (429 Retry-After)", r.Wait.Round(time.Second))
}
