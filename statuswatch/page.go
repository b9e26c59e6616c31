package statuswatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// statusPage reads the status page: the endpoint in use (detected when
// the URL is a page's root) and the last body with its validators, for
// conditional requests.
type statusPage struct {
	url   string   // StatusURL: a page's root or one endpoint
	names []string // the component map's names, which a feed's items are read for
	hc    *http.Client
	now   func() time.Time
	log   logrus.FieldLogger
	snaps *snapshots // keeps each detection for `status` and `check`

	mu       sync.Mutex
	etag     string
	modified string
	body     []byte
	found    *Detection // the detected endpoint, when url is a root
}

// Fetch reads the status page with a conditional request when the server
// gave validators before; a 304 reuses the last body.
func (sp *statusPage) Fetch(ctx context.Context) (Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url, err := sp.endpoint(ctx)
	if err != nil {
		return Summary{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Summary{}, err
	}
	req.Header.Set("Accept", "application/json, application/rss+xml, application/atom+xml;q=0.9, */*;q=0.5")
	sp.mu.Lock()
	if sp.body != nil {
		if sp.etag != "" {
			req.Header.Set("If-None-Match", sp.etag)
		}
		if sp.modified != "" {
			req.Header.Set("If-Modified-Since", sp.modified)
		}
	}
	sp.mu.Unlock()
	resp, err := sp.hc.Do(req)
	if err != nil {
		return Summary{}, fmt.Errorf("status page unreachable: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	var body []byte
	switch {
	case resp.StatusCode == http.StatusNotModified:
		sp.mu.Lock()
		body = sp.body
		sp.mu.Unlock()
	case resp.StatusCode/100 == 2:
		body, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			return Summary{}, fmt.Errorf("read status page: %w", err)
		}
		sp.mu.Lock()
		sp.body, sp.etag, sp.modified = body, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		sp.mu.Unlock()
	default:
		sp.forget() // the page may have moved to another format
		return Summary{}, fmt.Errorf("status page answered %d at %s", resp.StatusCode, url)
	}
	sum, err := ParseAt(body, sp.now(), sp.names)
	if err != nil {
		sp.forget()
	}
	return sum, err
}
