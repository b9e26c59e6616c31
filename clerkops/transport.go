package clerkops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
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

// Transport wraps an http.RoundTripper: it waits for the limiter, retries
// 429 after Retry-After and 5xx/timeouts with capped exponential backoff
// and jitter, replaying request bodies. Clerk's SDK never retries.
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
	ctx := req.Context()
	backoff := 250 * time.Millisecond
	limited := req.URL.Path != "/jwks" && !hasSuffix(req.URL.Path, "/jwks")
	for attempt := 1; ; attempt++ {
		if limited && t.Limiter != nil {
			if err := t.Limiter.Wait(ctx); err != nil {
				return nil, err
			}
		}
		r := req
		if attempt > 1 && req.Body != nil && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := t.Base.RoundTrip(r)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if t.Observe != nil {
			t.Observe(req.Method, req.URL.Path, status)
		}
		retryable, wait := t.classify(resp, err, backoff)
		if status == http.StatusTooManyRequests && wait > MaxRetryAfter {
			// Too long to hold a responder's command: tell them instead.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
			if t.Limiter != nil {
				t.Limiter.Pause(time.Now().Add(wait))
			}
			return nil, &RetryAfterError{Wait: wait}
		}
		if !retryable || attempt >= t.Attempts || ctx.Err() != nil {
			if err != nil {
				return nil, scrub(err)
			}
			return resp, nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		if status == http.StatusTooManyRequests && t.Limiter != nil {
			t.Limiter.Pause(time.Now().Add(wait))
		}
		if status != http.StatusTooManyRequests {
			backoff = min(backoff*2, t.MaxWait)
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// classify decides whether to retry and how long to wait first.
func (t *Transport) classify(resp *http.Response, err error, backoff time.Duration) (bool, time.Duration) {
	jitter := func(d time.Duration) time.Duration { return d/2 + time.Duration(rand.Int64N(int64(d/2)+1)) }
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return true, jitter(backoff)
		}
		return false, 0
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		secs, perr := strconv.Atoi(resp.Header.Get("Retry-After"))
		if perr != nil || secs < 0 {
			return true, jitter(backoff)
		}
		// Retry-After is honoured in full, never cut short.
		return true, time.Duration(secs) * time.Second
	case resp.StatusCode >= 500:
		return true, jitter(backoff)
	}
	return false, 0
}

// scrub drops the URL from transport errors (it may carry query data).
func scrub(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return fmt.Errorf("clerk request failed: %w", inner)
		}
	}
	return err
}

// MaxRetryAfter is the longest Retry-After a request waits out; a longer
// one is told to the user rather than cut short.
const MaxRetryAfter = 60 * time.Second

// RetryAfterError is a 429 whose Retry-After is over MaxRetryAfter.
type RetryAfterError struct{ Wait time.Duration }

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("Clerk asks to wait %s before the next request (429 Retry-After)", e.Wait.Round(time.Second))
}
