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

// Create opens an incident on the page and returns its ID.
func (c *Client) Create(ctx context.Context, name, status, body, impact string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, http.MethodPost, "/pages/"+c.page+"/incidents",
		map[string]any{"incident": map[string]any{"name": name, "status": status, "body": body, "impact_override": impact, "deliver_notifications": true}}, &out)
	if err == nil && out.ID == "" {
		err = errors.New("statuspage: created an incident without an ID")
	}
	return out.ID, err
}

// Update adds an update (a new body and status) to an incident.
func (c *Client) Update(ctx context.Context, id, status, body string) error {
	return c.do(ctx, http.MethodPatch, "/pages/"+c.page+"/incidents/"+id,
		map[string]any{"incident": map[string]any{"status": status, "body": body, "deliver_notifications": true}}, nil)
}

// do sends one request; a 420/429 is waited out (Statuspage allows about
// one request a second per key) and a 5xx retried, a few times.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	var last error
	for attempt := range 4 {
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(raw))
		if err != nil {
			return apperr.Wrap(apperr.Invalid, "STATUSPAGE_API_URL is not a valid URL", err)
		}
		req.Header.Set("Authorization", "OAuth "+c.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			last = apperr.Wrap(apperr.UnavailableRemote, "Statuspage did not answer", errors.New("request failed"))
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			switch {
			case resp.StatusCode/100 == 2:
				if out != nil {
					return json.Unmarshal(body, out)
				}
				return nil
			case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
				return apperr.New(apperr.Invalid, fmt.Sprintf("Statuspage refused the API key (%d): check STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID", resp.StatusCode))
			case resp.StatusCode == 420 || resp.StatusCode == http.StatusTooManyRequests:
				wait := time.Second
				if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
					wait = time.Duration(s) * time.Second
				}
				last = apperr.New(apperr.UnavailableRemote, "Statuspage is rate limiting this key")
				if err := backoff.Sleep(ctx, min(wait, 10*time.Second)); err != nil {
					return err
				}
				continue
			case resp.StatusCode >= 500:
				last = apperr.New(apperr.UnavailableRemote, fmt.Sprintf("Statuspage answered %d", resp.StatusCode))
			default:
				return apperr.New(apperr.Invalid, fmt.Sprintf("Statuspage refused the update (%d): %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 200)]))))
			}
		}
		if err := backoff.Sleep(ctx, backoff.Delay(attempt, 500*time.Millisecond, 4*time.Second)); err != nil {
			return err
		}
	}
	return last
}
