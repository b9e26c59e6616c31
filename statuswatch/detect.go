package statuswatch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Candidate is one endpoint tried at a status page's root and what it
// answered.
type Candidate struct {
	URL    string `json:"url"`
	Answer string `json:"answer"`
}

// Detection is the endpoint and format in use, and what each candidate
// answered on the way.
type Detection struct {
	Format string      `json:"format"`
	URL    string      `json:"url"`
	Tried  []Candidate `json:"tried"`
}

// IsRoot reports whether a status URL names a page's root rather than
// one endpoint.
func IsRoot(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == ""
}

// candidates are tried in order at a root: the richest format first.
func candidates(root string) []string {
	root = strings.TrimRight(root, "/")
	host := ""
	if u, err := url.Parse(root); err == nil {
		host = u.Host
	}
	return []string{root + "/api/v2/summary.json", root + "/api/v1/summary", root + "/proxy/" + host,
		root + "/api/v2/status.json", root + "/feed.rss", root + "/history.rss", root + "/history.atom"}
}

// Detect finds the first endpoint at the configured root that answers
// with a body the bot understands. With one endpoint configured it only
// checks that one.
func (sp *statusPage) Detect(ctx context.Context) (Detection, error) {
	list := []string{sp.url}
	if IsRoot(sp.url) {
		list = candidates(sp.url)
	}
	var d Detection
	for _, u := range list {
		format, answer := sp.try(ctx, u)
		d.Tried = append(d.Tried, Candidate{URL: u, Answer: answer})
		if format != "" {
			d.Format, d.URL = format, u
			return d, nil
		}
	}
	var parts []string
	for _, c := range d.Tried {
		parts = append(parts, c.URL+": "+c.Answer)
	}
	return d, fmt.Errorf("no status format understood at %s (%s)", sp.url, strings.Join(parts, "; "))
}

// try fetches one candidate and says which format it is, or why not.
func (sp *statusPage) try(ctx context.Context, u string) (string, string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", "not a valid URL"
	}
	req.Header.Set("Accept", "application/json, application/rss+xml, application/atom+xml;q=0.9, */*;q=0.5")
	resp, err := sp.hc.Do(req)
	if err != nil {
		return "", "unreachable: " + rootCause(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", "body could not be read: " + rootCause(err)
	}
	sum, err := ParseAt(body, sp.now(), sp.names)
	if err != nil {
		return "", fmt.Sprintf("HTTP %d, not understood (%s)", resp.StatusCode, truncateText(err.Error(), 120))
	}
	return sum.Format, fmt.Sprintf("HTTP %d, %s", resp.StatusCode, sum.Format)
}

// endpoint is the URL to poll: the configured one, or the one detected at
// its root (detected again after it stops answering).
func (sp *statusPage) endpoint(ctx context.Context) (string, error) {
	if !IsRoot(sp.url) {
		return sp.url, nil
	}
	sp.mu.Lock()
	found := sp.found
	sp.mu.Unlock()
	if found != nil {
		return found.URL, nil
	}
	d, err := sp.Detect(ctx)
	sp.remember(ctx, d, err)
	if err != nil {
		return "", err
	}
	sp.mu.Lock()
	sp.found = &d
	sp.body, sp.etag, sp.modified = nil, "", ""
	sp.mu.Unlock()
	return d.URL, nil
}

// Prepare detects the format at start-up, so the log says at once which
// format and URL are in use and what each candidate answered.
func (sp *statusPage) Prepare(ctx context.Context) {
	if IsRoot(sp.url) {
		_, _ = sp.endpoint(ctx)
		return
	}
	d, err := sp.Detect(ctx)
	sp.remember(ctx, d, err)
}

// forget drops a detected endpoint so the next poll detects again.
func (sp *statusPage) forget() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if IsRoot(sp.url) {
		sp.found = nil
	}
}

// remember logs a detection and keeps it in Redis for `status` and
// `check` on any replica.
func (sp *statusPage) remember(ctx context.Context, d Detection, err error) {
	log := sp.log.WithField("root", sp.url)
	for _, c := range d.Tried {
		log = log.WithField(c.URL, c.Answer)
	}
	if err != nil {
		log.Warn("no status format found at the status page root; polling again next time")
	} else {
		log.WithField("format", d.Format).WithField("url", d.URL).Info("status page format detected")
	}
	sp.snaps.save(ctx, func(s *Snapshot) { s.Detection = &d })
}
