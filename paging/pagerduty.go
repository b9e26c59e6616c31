package paging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
)

// PagerDutyURL is the Events API v2 endpoint.
const PagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty sends events to one service's integration.
type PagerDuty struct {
	url, key string
	hc       *http.Client
}

// NewPagerDuty builds a client; url "" is PagerDutyURL.
func NewPagerDuty(url, routingKey string, hc *http.Client) *PagerDuty {
	if url == "" {
		url = PagerDutyURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &PagerDuty{url: url, key: routingKey, hc: hc}
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
func (e *RetryLater) RetryAfter() time.Duration { return e.After }

func (e *RetryLater) Unwrap() error { return e.error }

// send posts one event; a 5xx is retried with backoff, a 429 is handed
// back at once with the 30 s PagerDuty asks for (RetryLater), a 400 is a
// sentence.
func (p *PagerDuty) send(ctx context.Context, ev map[string]any) error {
	raw, _ := json.Marshal(ev)
	var last error
	for attempt := range 4 {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(raw))
		if err != nil {
			return apperr.Wrap(apperr.Invalid, "PAGERDUTY_EVENTS_URL is not a valid URL", err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := p.hc.Do(req)
		if err != nil {
			last = apperr.New(apperr.UnavailableRemote, "PagerDuty did not answer")
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			switch {
			case resp.StatusCode/100 == 2:
				return nil
			case resp.StatusCode == http.StatusBadRequest:
				var e struct {
					Message string   `json:"message"`
					Errors  []string `json:"errors"`
				}
				_ = json.Unmarshal(body, &e)
				return apperr.New(apperr.Invalid, fmt.Sprintf("PagerDuty refused the event (400): %s %s", e.Message, strings.Join(e.Errors, "; ")))
			case resp.StatusCode == http.StatusTooManyRequests:
				return &RetryLater{After: RateLimitWait, error: apperr.New(apperr.UnavailableRemote,
					"PagerDuty is rate limiting this integration key (429, about 120 events a minute): retrying in 30 s")}
			case resp.StatusCode >= 500:
				last = apperr.New(apperr.UnavailableRemote, fmt.Sprintf("PagerDuty answered %d", resp.StatusCode))
			default:
				return apperr.New(apperr.Invalid, fmt.Sprintf("PagerDuty refused the event (%d)", resp.StatusCode))
			}
		}
		if err := backoff.Sleep(ctx, backoff.Delay(attempt, 500*time.Millisecond, 4*time.Second)); err != nil {
			return err
		}
	}
	return last
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
