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
func (p *StatusWatch) Detect(ctx context.Context) (Detection, error) {
	list := []string{p.cfg.StatusURL}
	if IsRoot(p.cfg.StatusURL) {
		list = candidates(p.cfg.StatusURL)
	}
	var d Detection
	for _, u := range list {
		format, answer := p.try(ctx, u)
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
	return d, fmt.Errorf("no status format understood at %s (%s)", p.cfg.StatusURL, strings.Join(parts, "; "))
}

// try fetches one candidate and says which format it is, or why not.
func (p *StatusWatch) try(ctx context.Context, u string) (string, string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", "not a valid URL"
	}
	req.Header.Set("Accept", "application/json, application/rss+xml, application/atom+xml;q=0.9, */*;q=0.5")
	resp, err := p.hc.Do(req)
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
	sum, err := ParseAt(body, p.now(), p.cfg.Components.Names())
	if err != nil {
		return "", fmt.Sprintf("HTTP %d, not understood (%s)", resp.StatusCode, truncateText(err.Error(), 120))
	}
	return sum.Format, fmt.Sprintf("HTTP %d, %s", resp.StatusCode, sum.Format)
}

// endpoint is the URL to poll: the configured one, or the one detected at
// its root (detected again after it stops answering).
func (p *StatusWatch) endpoint(ctx context.Context) (string, error) {
	if !IsRoot(p.cfg.StatusURL) {
		return p.cfg.StatusURL, nil
	}
	p.mu.Lock()
	found := p.found
	p.mu.Unlock()
	if found != nil {
		return found.URL, nil
	}
	d, err := p.Detect(ctx)
	p.remember(ctx, d, err)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.found = &d
	p.body, p.etag, p.modified = nil, "", ""
	p.mu.Unlock()
	return d.URL, nil
}

// Prepare detects the format at start-up, so the log says at once which
// format and URL are in use and what each candidate answered.
func (p *StatusWatch) Prepare(ctx context.Context) {
	if IsRoot(p.cfg.StatusURL) {
		_, _ = p.endpoint(ctx)
		return
	}
	d, err := p.Detect(ctx)
	p.remember(ctx, d, err)
}

// forget drops a detected endpoint so the next poll detects again.
func (p *StatusWatch) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if IsRoot(p.cfg.StatusURL) {
		p.found = nil
	}
}

// remember logs a detection and keeps it in Redis for `status` and
// `check` on any replica.
func (p *StatusWatch) remember(ctx context.Context, d Detection, err error) {
	log := p.log.WithField("root", p.cfg.StatusURL)
	for _, c := range d.Tried {
		log = log.WithField(c.URL, c.Answer)
	}
	if err != nil {
		log.Warn("no status format found at the status page root; polling again next time")
	} else {
		log.WithField("format", d.Format).WithField("url", d.URL).Info("status page format detected")
	}
	p.saveSnapshot(ctx, func(s *Snapshot) { s.Detection = &d })
}
