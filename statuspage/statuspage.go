// Package statuspage posts customer updates to Atlassian Statuspage
// (REST v1): create an incident, add updates to it, resolve it. The API
// key is a credential: it travels only in the Authorization header and
// never appears in errors or logs.
package statuspage

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

// DefaultURL is Statuspage's API.
const DefaultURL = "https://api.statuspage.io/v1"

// Client talks to one page.
type Client struct {
	base, key, page string
	hc              *http.Client
	count           httpx.Counter
}

// New builds a client; base "" is DefaultURL; hc sends each attempt (nil:
// http.DefaultClient), which has at most 15 s either way.
func New(base, key, page string, hc *http.Client) *Client {
	if base == "" {
		base = DefaultURL
	}
	return &Client{base: strings.TrimRight(base, "/"), key: key, page: page, hc: hc}
}

// WithCounter counts every attempt (metrics).
func (c *Client) WithCounter(n httpx.Counter) *Client {
	c.count = n
	return c
}

// Incident statuses and impacts Statuspage takes.
const (
	Investigating = "investigating"
	Identified    = "identified"
	Monitoring    = "monitoring"
	Resolved      = "resolved"
)

// MetadataKey namespaces the marker Create puts in an incident's metadata
// (Statuspage takes metadata as {namespace: {key: value}}): the incident
// it stands for, so a create whose answer was lost can be found again.
const MetadataKey = "clerk_incident_bot"

// Create opens an incident on the page for ref (our INC-n) and returns its
// ID. A 5xx or a dropped connection may come after Statuspage created it,
// and an earlier Post may have failed so: before each try it looks for an
// incident marked with ref, so subscribers are not told twice.
func (c *Client) Create(ctx context.Context, ref, name, status, body, impact string) (string, error) {
	in := map[string]any{"incident": map[string]any{"name": name, "status": status, "body": body, "impact_override": impact,
		"deliver_notifications": true, "metadata": map[string]any{MetadataKey: map[string]any{"incident_id": ref}}}}
	var out struct {
		ID string `json:"id"`
	}
	// Never create blind: before each try, a lookup; one that fails ends it.
	var found string
	look := func(ctx context.Context) error {
		id, ok, err := c.Find(ctx, ref, status)
		if err == nil && ok {
			found = id
			return errFound
		}
		return err
	}
	err := c.send(ctx, http.MethodPost, "/pages/"+c.page+"/incidents", "/pages/{page_id}/incidents", in, &out, look)
	switch {
	case errors.Is(err, errFound):
		return found, nil
	case err != nil:
		return "", err
	case out.ID == "":
		return "", errors.New("statuspage: created an incident without an ID")
	}
	return out.ID, nil
}

// errFound ends a create whose incident the look-up found.
var errFound = errors.New("statuspage: the incident exists")

// Find looks for the incident Create made for ref: among the unresolved
// ones, or among the recent ones when it was created resolved.
func (c *Client) Find(ctx context.Context, ref, status string) (string, bool, error) {
	path, route := "/pages/"+c.page+"/incidents/unresolved", "/pages/{page_id}/incidents/unresolved"
	if status == Resolved {
		path, route = "/pages/"+c.page+"/incidents", "/pages/{page_id}/incidents"
	}
	// Metadata is whatever any integration set: values of any JSON type
	// (a number or a boolean of another tool's must not fail the look-up).
	var list []struct {
		ID       string         `json:"id"`
		Metadata map[string]any `json:"metadata"`
	}
	if err := c.send(ctx, http.MethodGet, path, route, nil, &list, nil); err != nil {
		return "", false, err
	}
	for _, in := range list {
		if ours, _ := in.Metadata[MetadataKey].(map[string]any); ours != nil && ours["incident_id"] == ref {
			return in.ID, true, nil
		}
	}
	return "", false, nil
}

// Update adds an update (a new body and status) to an incident.
func (c *Client) Update(ctx context.Context, id, status, body string) error {
	return c.send(ctx, http.MethodPatch, "/pages/"+c.page+"/incidents/"+id, "/pages/{page_id}/incidents/{incident_id}",
		map[string]any{"incident": map[string]any{"status": status, "body": body, "deliver_notifications": true}}, nil, nil)
}

// send sends a request through the one retry loop with Statuspage's
// rules (retry): at most 4 tries. before, if set, runs ahead of each.
func (c *Client) send(ctx context.Context, method, path, route string, in, out any, before func(ctx context.Context) error) error {
	var raw []byte
	h := http.Header{}
	h.Set("Authorization", "OAuth "+c.key)
	if in != nil {
		var err error
		if raw, err = json.Marshal(in); err != nil {
			return err
		}
		h.Set("Content-Type", "application/json")
	}
	svc := httpx.Service{Name: "statuspage", HTTP: c.hc, Timeout: 15 * time.Second, Limit: 1 << 20, Count: c.count,
		Policy: httpx.Policy{Attempts: 4, Classify: retry(ctx)}}
	a, err := svc.Do(ctx, httpx.Request{Method: method, URL: c.base + path, Route: route, Header: h, Body: raw, Before: before})
	var we *httpx.WaitError
	var bad *httpx.RequestError
	switch {
	case errors.As(err, &bad):
		return apperr.Wrap(apperr.Invalid, "STATUSPAGE_API_URL is not a valid URL", bad.Err)
	case errors.As(err, &we):
		return we.Err
	case err != nil && a.Err == nil: // before's
		return err
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return apperr.Wrap(apperr.UnavailableRemote, "Statuspage did not answer", errors.New("request failed"))
	}
	return answer(a, out)
}

// retry is Statuspage's rule: a 420/429 is waited out (Statuspage allows
// about one request a second per key: its Retry-After, else 1 s, at most
// 10 s), a 5xx or a lost answer retried after a short backoff.
func retry(ctx context.Context) httpx.Classifier {
	return func(a httpx.Answer) httpx.Verdict {
		short := backoff.Delay(0, 500*time.Millisecond, 4*time.Second)
		switch {
		case a.Err != nil:
			if ctx.Err() != nil {
				return httpx.Verdict{}
			}
			return httpx.Verdict{Retry: true, Wait: short}
		case a.Status == 420 || a.Status == http.StatusTooManyRequests:
			wait := time.Second
			if d, ok := httpx.RetryAfter(a.Header, time.Now()); ok && d > 0 {
				wait = d
			}
			return httpx.Verdict{Retry: true, Wait: min(wait, 10*time.Second)}
		case a.Status >= 500:
			return httpx.Verdict{Retry: true, Wait: short}
		}
		return httpx.Verdict{}
	}
}

// answer reads a 2xx into out, or says what Statuspage refused.
func answer(a httpx.Answer, out any) error {
	switch {
	case a.Status/100 == 2:
		if out != nil {
			return json.Unmarshal(a.Body, out)
		}
		return nil
	case a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden:
		return apperr.New(apperr.Invalid, fmt.Sprintf("Statuspage refused the API key (%d): check STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID", a.Status))
	case a.Status == 420 || a.Status == http.StatusTooManyRequests:
		return apperr.New(apperr.UnavailableRemote, "Statuspage is rate limiting this key")
	case a.Status >= 500:
		return apperr.New(apperr.UnavailableRemote, fmt.Sprintf("Statuspage answered %d", a.Status))
	}
	return apperr.New(apperr.Invalid, fmt.Sprintf("Statuspage refused the update (%d): %s", a.Status, strings.TrimSpace(string(a.Body[:min(len(a.Body), 200)]))))
}
