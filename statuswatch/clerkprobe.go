package statuswatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
)

// ProbeTarget is one of Clerk's endpoints this bot times itself: status
// pages lag real outages by minutes, and the bot holds the keys to ask.
type ProbeTarget struct {
	API  string // "Backend API" or "Frontend API": failures count per API
	Name string // what is called, e.g. "GET /jwks"
	URL  string
	// Header is sent with the request (the Backend API's Authorization);
	// it holds a secret and is never logged.
	Header map[string]string
}

// ProbeResult is one timed call.
type ProbeResult struct {
	API     string        `json:"api"`
	Name    string        `json:"name"`
	Status  int           `json:"status,omitempty"`
	Latency time.Duration `json:"latency"`
	Err     string        `json:"error,omitempty"`
	Bad     bool          `json:"bad"`
	Slow    bool          `json:"slow"`
}

// What reads a result for people.
func (p ProbeResult) What() string {
	switch {
	case p.Err != "":
		return fmt.Sprintf("%s %s: %s", p.API, p.Name, p.Err)
	case p.Slow:
		return fmt.Sprintf("%s %s: %d in %s (slow)", p.API, p.Name, p.Status, probe.Ms(p.Latency))
	}
	return fmt.Sprintf("%s %s: %d in %s", p.API, p.Name, p.Status, probe.Ms(p.Latency))
}

// Refused says what a 4xx answer means ("" for any other): Clerk is up
// but refuses this bot, a key or configuration problem that no outage
// alert covers, so status shows it in red with what to check.
func (p ProbeResult) Refused() string {
	if p.Status < 400 || p.Status >= 500 {
		return ""
	}
	switch {
	case p.API == "Frontend API" && p.Status == 401:
		return "401 from the Frontend API: the publishable key's instance refuses us — check CLERK_PUBLISHABLE_KEY (and CLERK_FRONTEND_API_URL, if set) matches the instance"
	case p.API == "Frontend API" && p.Status == 404:
		return "404 from the Frontend API: no Clerk instance answers at that host — check CLERK_PUBLISHABLE_KEY (and CLERK_FRONTEND_API_URL, if set)"
	case p.API == "Backend API" && p.Status == 401:
		return "401 from the Backend API: Clerk rejects CLERK_SECRET_KEY — it is wrong, revoked or for another instance"
	}
	return fmt.Sprintf("%d from the %s (%s): Clerk refuses the request — a key or configuration problem; run `/clerk-incident check`", p.Status, p.API, p.Name)
}

// apiProbes times Clerk's own endpoints (the probe targets), keeps the
// timings for charts and judges each API's rounds: ProbeConfirm bad
// rounds in a row open an outage.
type apiProbes struct {
	targets   []ProbeTarget
	confirm   int
	slow      time.Duration // a probe slower than this is slow
	hc        *http.Client
	guard     Guard // runs each probe's goroutine
	samples   *Samples
	streaks   *streaks
	incidents *incidentMap
	snaps     *snapshots
	rep       Reporter
	now       func() time.Time
	log       logrus.FieldLogger
}

// probe calls one target with a 5 s timeout. A 5xx, a timeout or a
// connection error fails it; a call slower than ProbeSlow is slow. A 4xx
// is neither (a key or configuration problem: Refused says which).
func (ap *apiProbes) probe(ctx context.Context, t ProbeTarget) ProbeResult {
	r := ProbeResult{API: t.API, Name: t.Name}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		r.Err, r.Bad = "not a valid URL", true
		return r
	}
	for k, v := range t.Header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := ap.hc.Do(req)
	r.Latency = time.Since(start)
	if err != nil {
		r.Bad = true
		if errors.Is(err, context.DeadlineExceeded) {
			r.Err = "timed out after 5 s"
		} else {
			r.Err = "connection failed: " + rootCause(err)
		}
		return r
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 256<<10))
	resp.Body.Close()
	r.Status = resp.StatusCode
	switch {
	case resp.StatusCode >= 500:
		r.Err, r.Bad = fmt.Sprintf("HTTP %d after %s", resp.StatusCode, probe.Ms(r.Latency)), true
	case r.Latency > ap.slow:
		r.Slow = true
	}
	return r
}

// round times every target at once (a round lasts as long as its
// slowest probe, at most the 5 s timeout) and judges the results.
func (ap *apiProbes) round(ctx context.Context) {
	results := make([]ProbeResult, len(ap.targets))
	var wg sync.WaitGroup
	for i, t := range ap.targets {
		wg.Go(func() {
			// A panic here is the bot's, not Clerk's: the round goes on and
			// the probe counts as neither good nor bad news about Clerk.
			if ap.guard.Run(ctx, "clerk probe", "", func(ctx context.Context) { results[i] = ap.probe(ctx, t) }) {
				results[i] = ProbeResult{API: t.API, Name: t.Name, Err: "the bot failed to probe (see its logs)"}
			}
		})
	}
	wg.Wait()
	ap.Judge(ctx, results)
}

// Judge records one round of results: the samples, the snapshot, and per
// API a bad round (failed or slow) or a good one. ProbeConfirm bad rounds
// in a row within the window, one of them failed, open one "Clerk API
// failing from here" outage (a status-page alert for the same problem
// later attaches to it); slow-only rounds need twice as many within twice
// the window. One bad round never opens anything; recovery is said once.
func (ap *apiProbes) Judge(ctx context.Context, results []ProbeResult) {
	ap.keepSamples(ctx, results)
	ap.snaps.save(ctx, func(s *Snapshot) { s.Probes = results })
	byAPI := map[string][]ProbeResult{}
	var apis []string
	for _, r := range results {
		if _, ok := byAPI[r.API]; !ok {
			apis = append(apis, r.API)
		}
		byAPI[r.API] = append(byAPI[r.API], r)
	}
	for _, api := range apis {
		ap.judge(ctx, api, byAPI[api])
	}
}

func (ap *apiProbes) judge(ctx context.Context, api string, rs []ProbeResult) {
	key := "probe:" + strings.ToLower(strings.ReplaceAll(api, " ", "-"))
	var bad, slow []ProbeResult
	for _, r := range rs {
		switch {
		case r.Bad:
			bad = append(bad, r)
		case r.Slow:
			slow = append(slow, r)
		}
	}
	r := roundOK
	switch {
	case len(bad) > 0:
		r = roundFailed
	case len(slow) > 0:
		r = roundSlow
	}
	st, err := ap.streaks.record(ctx, key, r)
	if err != nil {
		ap.log.WithError(err).WithField("api", api).Warn("probe streak not recorded")
		return
	}
	if r == roundOK {
		if st.Recovered {
			if id := ap.incidents.mapped(ctx, key); id != "" {
				var figures []string
				for _, r := range rs {
					figures = append(figures, r.What())
				}
				ap.rep.Note(ctx, Note{Kind: ProbeRecovered, Incident: id, Name: api, Body: strings.Join(figures, "; ")})
			}
		}
		return
	}
	ap.log.WithField("api", api).WithField("streak", st.InWindow).Warn("Clerk probe failed or slow")
	if !st.Confirmed(ap.confirm) {
		return
	}
	ap.streaks.markDown(ctx, key)
	if ap.incidents.mapped(ctx, key) != "" {
		return
	}
	n := st.Rounds(ap.confirm)
	a := Alert{Key: key, Category: incident.Outage, Severity: incident.P1, Title: "Clerk API failing from here", Polls: n,
		Detected: backdated(st.First(ap.confirm), ap.now())}
	var figures []string
	for _, r := range append(bad, slow...) {
		figures = append(figures, r.What())
	}
	if len(bad) == 0 {
		a.Severity = incident.P2
		a.Impact = fmt.Sprintf("%s slower than %s for %d polls in a row: %s", api, ap.slow, n, strings.Join(figures, "; "))
	} else {
		a.Impact = fmt.Sprintf("%s failing for %d polls in a row: %s", api, n, strings.Join(figures, "; "))
	}
	a.Components = []string{api}
	ap.incidents.open(ctx, key, a)
}
