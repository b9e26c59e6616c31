// Package statuspage posts customer updates to Atlassian Statuspage
// (REST v1): create an incident, add updates to it, resolve it. The API
// key is a credential: it travels only in the Authorization header and
// never appears in errors or logs.
package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
)

// DefaultURL is Statuspage's API.
const DefaultURL = "https://api.statuspage.io/v1"

// Client talks to one page.
type Client struct {
	base, key, page string
	hc              *http.Client
}

// New builds a client; base "" is DefaultURL.
func New(base, key, page string, hc *http.Client) *Client {
	if base == "" {
		base = DefaultURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), key: key, page: page, hc: hc}
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
	var last error
	for range 4 {
		// Never create blind: a lookup that fails ends it.
		id, found, err := c.Find(ctx, ref, status)
		if err != nil {
			return "", err
		}
		if found {
			return id, nil
		}
		var out struct {
			ID string `json:"id"`
		}
		wait, err := c.once(ctx, http.MethodPost, "/pages/"+c.page+"/incidents", in, &out)
		if err == nil {
			if out.ID == "" {
				return "", errors.New("statuspage: created an incident without an ID")
			}
			return out.ID, nil
		}
		if wait < 0 {
			return "", err
		}
		last = err
		if err := backoff.Sleep(ctx, wait); err != nil {
			return "", err
		}
	}
	return "", last
}

// Find looks for the incident Create made for ref: among the unresolved
// ones, or among the recent ones when it was created resolved.
func (c *Client) Find(ctx context.Context, ref, status string) (string, bool, error) {
	path := "/pages/" + c.page + "/incidents/unresolved"
	if status == Resolved {
		path = "/pages/" + c.page + "/incidents"
	}
	// Metadata is whatever any integration set: values of any JSON type
	// (a number or a boolean of another tool's must not fail the look-up).
	var list []struct {
		ID       string         `json:"id"`
		Metadata map[string]any `json:"metadata"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
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
	return c.do(ctx, http.MethodPatch, "/pages/"+c.page+"/incidents/"+id,
		map[string]any{"incident": map[string]any{"status": status, "body": body, "deliver_notifications": true}}, nil)
}

// do sends a request; a 420/429 is waited out (Statuspage allows about
// one request a second per key) and a 5xx retried, a few times.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var last error
	for range 4 {
		wait, err := c.once(ctx, method, path, in, out)
		if err == nil || wait < 0 {
			return err
		}
		last = err
		if err := backoff.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	return last
}

// once sends one request. On failure wait says how long to wait before
// another try; negative: do not retry.
func (c *Client) once(ctx context.Context, method, path string, in, out any) (wait time.Duration, err error) {
	var rd io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return -1, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return -1, apperr.Wrap(apperr.Invalid, "STATUSPAGE_API_URL is not a valid URL", err)
	}
	req.Header.Set("Authorization", "OAuth "+c.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	retry := backoff.Delay(0, 500*time.Millisecond, 4*time.Second)
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return retry, apperr.Wrap(apperr.UnavailableRemote, "Statuspage did not answer", errors.New("request failed"))
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		if out != nil {
			return -1, json.Unmarshal(body, out)
		}
		return -1, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return -1, apperr.New(apperr.Invalid, fmt.Sprintf("Statuspage refused the API key (%d): check STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID", resp.StatusCode))
	case resp.StatusCode == 420 || resp.StatusCode == http.StatusTooManyRequests:
		wait := time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		return min(wait, 10*time.Second), apperr.New(apperr.UnavailableRemote, "Statuspage is rate limiting this key")
	case resp.StatusCode >= 500:
		return retry, apperr.New(apperr.UnavailableRemote, fmt.Sprintf("Statuspage answered %d", resp.StatusCode))
	}
	return -1, apperr.New(apperr.Invalid, fmt.Sprintf("Statuspage refused the update (%d): %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 200)]))))
}
