package paging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
)

// PagerDutyURL is the Events API v2 endpoint.
const PagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty sends events to one service's integration.
type PagerDuty struct {
	url, key string
	hc       *http.Client
	count    httpx.Counter
}

// NewPagerDuty builds a client; url "" is PagerDutyURL; hc sends each
// attempt (nil: http.DefaultClient), which has at most 10 s either way.
func NewPagerDuty(url, routingKey string, hc *http.Client) *PagerDuty {
	if url == "" {
		url = PagerDutyURL
	}
	return &PagerDuty{url: url, key: routingKey, hc: hc}
}

// WithCounter counts every attempt (metrics).
func (p *PagerDuty) WithCounter(n httpx.Counter) *PagerDuty {
	p.count = n
	return p
}

// Trigger opens (or re-triggers) the alert keyed by dedup.
func (p *PagerDuty) Trigger(ctx context.Context, dedup, summary, severity, link string) error {
	ev := map[string]any{"routing_key": p.key, "event_action": "trigger", "dedup_key": dedup,
		"payload": map[string]any{"summary": truncate(summary, 1024), "source": "clerk-incident-bot", "severity": severity}}
	if link != "" {
		id, _, _ := strings.Cut(dedup, "@") // INC-n@<install>: people know the incident by INC-n
		ev["links"] = []map[string]string{{"href": link, "text": "Slack thread of " + id}}
	}
	return p.send(ctx, ev)
}

// Acknowledge and Resolve follow the incident here.
func (p *PagerDuty) Acknowledge(ctx context.Context, dedup string) error {
	return p.send(ctx, map[string]any{"routing_key": p.key, "event_action": "acknowledge", "dedup_key": dedup})
}

// Resolve closes the alert.
func (p *PagerDuty) Resolve(ctx context.Context, dedup string) error {
	return p.send(ctx, map[string]any{"routing_key": p.key, "event_action": "resolve", "dedup_key": dedup})
}

// RateLimitWait is how long to wait after PagerDuty's 429: its limit
// (about 120 events a minute per integration key) is counted over the
// last 60 s, so an instant retry only adds to it; PagerDuty suggests
// retrying 30 seconds apart.
const RateLimitWait = 30 * time.Second

// RetryLater is an error that says when trying again may succeed.
type RetryLater struct {
	error
	After time.Duration
}

// RetryAfter is how long to wait before the next attempt.
func (r *RetryLater) RetryAfter() time.Duration { return r.After }

func (r *RetryLater) Unwrap() error { return r.error }

// send posts one event through the one retry loop: a 5xx or a lost
// answer is retried with backoff (4 tries), a 429 is handed back at once
// with the 30 s PagerDuty asks for (RetryLater), a 400 is a sentence.
func (p *PagerDuty) send(ctx context.Context, ev map[string]any) error {
	raw, _ := json.Marshal(ev)
	svc := httpx.Service{Name: "pagerduty", HTTP: p.hc, Timeout: 10 * time.Second, Limit: 64 << 10, Count: p.count,
		Policy: httpx.Policy{Attempts: 4, Classify: func(a httpx.Answer) httpx.Verdict {
			if a.Err != nil || a.Status >= 500 {
				return httpx.Verdict{Retry: true, Wait: backoff.Delay(a.Attempt, 500*time.Millisecond, 4*time.Second)}
			}
			return httpx.Verdict{}
		}}}
	a, err := svc.Do(ctx, httpx.Request{Method: http.MethodPost, URL: p.url, Route: "/v2/enqueue",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: raw})
	var we *httpx.WaitError
	var bad *httpx.RequestError
	switch {
	case errors.As(err, &bad):
		return apperr.Wrap(apperr.Invalid, "PAGERDUTY_EVENTS_URL is not a valid URL", bad.Err)
	case errors.As(err, &we):
		return we.Err
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return apperr.New(apperr.UnavailableRemote, "PagerDuty did not answer")
	}
	switch {
	case a.Status/100 == 2:
		return nil
	case a.Status == http.StatusBadRequest:
		var e struct {
			Message string   `json:"message"`
			Errors  []string `json:"errors"`
		}
		_ = json.Unmarshal(a.Body, &e)
		return apperr.New(apperr.Invalid, fmt.Sprintf("PagerDuty refused the event (400): %s %s", e.Message, strings.Join(e.Errors, "; ")))
	case a.Status == http.StatusTooManyRequests:
		return &RetryLater{After: RateLimitWait, error: apperr.New(apperr.UnavailableRemote,
			"PagerDuty is rate limiting this integration key (429, about 120 events a minute): retrying in 30 s")}
	case a.Status >= 500:
		return apperr.New(apperr.UnavailableRemote, fmt.Sprintf("PagerDuty answered %d", a.Status))
	}
	return apperr.New(apperr.Invalid, fmt.Sprintf("PagerDuty refused the event (%d)", a.Status))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
