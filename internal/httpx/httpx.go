// Package httpx is the one way the bot calls an outside service over
// HTTP (Vercel, GitHub, Statuspage, Twilio, PagerDuty, Clerk): one retry
// loop whose rules each service gives as a classifier of its answers
// (429, 5xx, Retry-After, reset headers), one timeout rule, and one place
// that counts every attempt for /metrics. A client keeps only its paths
// and its error words.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
)

// Answer is one attempt as a classifier sees it: the status, headers and
// (when the service reads answers whole) body of an answer, or Err when
// none came.
type Answer struct {
	Attempt int // 0-based
	Status  int // 0 when no answer came
	Header  http.Header
	Body    []byte
	Err     error
	// resp is a streamed answer (Transport): drained and closed when it
	// is not handed back.
	resp *http.Response
}

// Verdict is what a classifier makes of one attempt.
type Verdict struct {
	Retry bool
	Wait  time.Duration // before the next attempt
	// Err, when set, ends the call with this error instead of the answer
	// (a wait longer than the service waits: told, not slept through).
	Err error
}

// Classifier is one service's retry rules.
type Classifier func(a Answer) Verdict

// Never retries: the service's answer, whatever it is, is the call's.
func Never(Answer) Verdict { return Verdict{} }

// Policy is how one call is retried.
type Policy struct {
	Attempts int // tries of one call; below 1 is 1
	Classify Classifier
	// Sleep waits between attempts and ends early with ctx (tests inject
	// it); nil: backoff.Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
}

// WaitError is a call ended by its context while waiting to retry.
type WaitError struct{ Err error }

func (w *WaitError) Error() string { return w.Err.Error() }

func (w *WaitError) Unwrap() error { return w.Err }

// RequestError is a request that could not be made (a malformed URL):
// never sent, never retried.
type RequestError struct{ Err error }

func (r *RequestError) Error() string { return r.Err.Error() }

func (r *RequestError) Unwrap() error { return r.Err }

// Counter counts every attempt of every call (metrics): the service, the
// method, the route (the path without IDs where the client gives one)
// and the status, 0 when no answer came.
type Counter interface {
	Call(service, method, route string, status int)
}

// Run is the one retry loop: try makes attempt n; the classifier says
// whether and when to try again; the last answer is returned, with its
// Err when no answer came. before, if set, runs ahead of every attempt
// and its error ends the call.
func (p Policy) Run(ctx context.Context, before func(ctx context.Context) error, try func(ctx context.Context, n int) Answer) (Answer, error) {
	attempts := max(p.Attempts, 1)
	classify := p.Classify
	if classify == nil {
		classify = Never
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = backoff.Sleep
	}
	for n := 0; ; n++ {
		if before != nil {
			if err := before(ctx); err != nil {
				return Answer{Attempt: n}, err
			}
		}
		a := try(ctx, n)
		a.Attempt = n
		var bad *RequestError
		if errors.As(a.Err, &bad) {
			return a, a.Err // will not change on retry
		}
		v := classify(a)
		if v.Err != nil {
			a.discard()
			return a, v.Err
		}
		if !v.Retry || n+1 >= attempts {
			return a, a.Err
		}
		a.discard()
		if err := sleep(ctx, v.Wait); err != nil {
			return a, &WaitError{Err: err}
		}
	}
}

// discard drains and closes a streamed answer that is not handed back,
// so its connection is reused.
func (a Answer) discard() {
	if a.resp != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(a.resp.Body, 64<<10))
		_ = a.resp.Body.Close()
	}
}

// Service is one outside service reached over HTTP: every call goes
// through Do.
type Service struct {
	Name string // "vercel", "github", … (the metrics label)
	// HTTP sends each attempt; nil: http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds each attempt, its answer read included (the one
	// timeout rule); the caller's ctx bounds the whole call, waits
	// included. Zero: DefaultTimeout.
	Timeout time.Duration
	Policy  Policy
	// Limit is the most of an answer's body read (default 4 MiB).
	Limit int64
	Count Counter // nil: not counted
}

// DefaultTimeout bounds one attempt when the service names none.
const DefaultTimeout = 10 * time.Second

// Request is one call: Route names the path for counting (no IDs, no
// query), URL is the real one. Body is sent again on every attempt.
type Request struct {
	Method, URL, Route string
	Header             http.Header
	Body               []byte
	// Before, if set, runs ahead of every attempt; its error ends the
	// call (Statuspage looks for its incident before each create).
	Before func(ctx context.Context) error
}

// Do sends r under the service's policy. The error is the last attempt's
// transport error (no answer), a classifier's, Before's, or a
// *WaitError; an answer of any status is returned with a nil error for
// the client to put in its words.
func (s *Service) Do(ctx context.Context, r Request) (Answer, error) {
	return s.Policy.Run(ctx, r.Before, func(ctx context.Context, _ int) Answer {
		a := s.once(ctx, r)
		var bad *RequestError
		if s.Count != nil && !errors.As(a.Err, &bad) {
			s.Count.Call(s.Name, r.Method, r.Route, a.Status)
		}
		return a
	})
}

func (s *Service) once(ctx context.Context, r Request) Answer {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return Answer{Err: &RequestError{Err: err}}
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	hc := s.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Answer{Err: err}
	}
	defer resp.Body.Close()
	limit := s.Limit
	if limit <= 0 {
		limit = 4 << 20
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// RetryAfter reads a Retry-After header: seconds, or an HTTP date (then
// the wait until it, from now). ok is false when there is none or it
// cannot be read.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// ResetIn reads a header holding when a limit resets in Unix seconds
// (GitHub's x-ratelimit-reset): the wait until then, rounded to the
// second, from now.
func ResetIn(h http.Header, name string, now time.Time) (time.Duration, bool) {
	s, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
	if err != nil {
		return 0, false
	}
	return max(0, time.Unix(s, 0).Sub(now).Round(time.Second)), true
}
