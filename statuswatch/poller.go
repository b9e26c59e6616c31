package statuswatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
)

// Alert asks for an incident about an upstream or app problem.
type Alert struct {
	Key        string // what makes it one problem: upstream:<id>, components:<names>, app-health
	Category   incident.Category
	Severity   incident.Severity
	Title      string
	Impact     string
	Components []string
	Update     string
	Link       string
	Polls      int
	// Detected and Source are the first signal of the problem (the
	// incident's detected milestone); open fills them in.
	Detected time.Time
	Source   string
	// By names who raised it when not the status poller (the team's own
	// monitoring: "Alertmanager", "Grafana"); such an alert ticks no
	// status-page step.
	By string
}

// Opener opens an incident for a confirmed alert (or attaches the alert to
// an open one of the same category) and returns the incident ID.
type Opener interface {
	OpenAlert(ctx context.Context, a Alert) (string, error)
}

// Reporter tells people about what the poller sees (the Slack side
// renders each Note).
type Reporter interface {
	Note(ctx context.Context, n Note)
	IncidentOpen(ctx context.Context, id string) bool
}

// NoteKind says what a Note is about.
type NoteKind int

// What the poller reports besides alerts.
const (
	PageUnreadable      NoteKind = iota + 1 // the status page failed Polls times in a row
	PageReadable                            // it can be read again
	ComponentsRecovered                     // the components behind Incident are operational again
	UpstreamUpdate                          // Clerk posted an update (Status, Body) on Incident's upstream incident
	UpstreamResolved                        // Clerk resolved the upstream incident Name
	AppRecovered                            // the app health check passes again (HTTPStatus, Latency)
	Advisory                                // a confirmed problem that pages nobody (Name, Status, Body: components)
	PlannedWork                             // maintenance scheduled or in progress (Name, Status, Body: components)
	ProbeRecovered                          // Clerk answers this bot's probes again (Body: figures)
	PollerStale                             // no replica has finished a status poll for Polls intervals
)

// Note is data about a change the poller saw; Incident is empty for notes
// about the poller itself (they go to the channel).
type Note struct {
	Kind       NoteKind
	Incident   string
	Name       string
	Status     string
	Body       string
	Polls      int
	Err        string
	HTTPStatus int
	Latency    time.Duration
}

// Health is one probe of the app's health endpoint.
type Health struct {
	URL     string        `json:"url"`
	OK      bool          `json:"ok"`
	Status  int           `json:"status"`
	Latency time.Duration `json:"latency"`
	Err     string        `json:"error,omitempty"`
	At      time.Time     `json:"at"`
}

// Snapshot is the last known state, for `status`.
type Snapshot struct {
	// Detection is the format and endpoint in use (a root URL's).
	Detection *Detection `json:"detection,omitempty"`
	Summary   *Summary   `json:"summary,omitempty"`
	FetchedAt time.Time  `json:"fetched_at"`
	Err       string     `json:"error,omitempty"`
	Health    *Health    `json:"health,omitempty"`
	// Probes are the last timings of Clerk's own endpoints.
	Probes []ProbeResult `json:"probes,omitempty"`
}

// Config configures the poller.
type Config struct {
	// StatusURL is a status page's root (the format is detected) or one
	// endpoint of it.
	StatusURL     string
	HealthURL     string
	Confirm       int // polls before a status problem opens an incident
	HealthConfirm int // failed probes before the app opens one
	Interval      time.Duration
	// Components decides what a problem means (nil: the built-in map).
	Components *ComponentMap
	// Probes are Clerk's own endpoints timed on every poll.
	Probes       []ProbeTarget
	ProbeConfirm int           // bad rounds in a row before an incident (default 3)
	ProbeSlow    time.Duration // a probe slower than this is slow (default 2 s)
	// ProbeInterval is the probes' own schedule (CLERK_PROBE_SCHEDULE):
	// Clerk's APIs and the app's health are probed every ProbeInterval by
	// PollProbes, apart from the status page; 0: they ride Poll.
	ProbeInterval time.Duration
	// ProbeWindow bounds a streak: the bad rounds in a row must fall
	// within it (slow-only ones within twice it). 0: Confirm+1 rounds.
	ProbeWindow time.Duration
	// Observer, if set, observes each poll.
	Observer PollObserver
	// Guard runs the goroutines a probe round starts (a panic there is
	// recovered and reported; internal/guard.Guard, the default).
	Guard Guard
}

// Guard runs fn, recovering a panic and reporting whether one happened.
type Guard interface {
	Run(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) bool
}

// PollObserver observes each poll: "status" or "health", and whether it
// went well (metrics).
type PollObserver interface {
	Poll(target string, ok bool)
}

type noPolls struct{}

func (noPolls) Poll(string, bool) {}

// core is what the watchers share: Redis, where a problem maps to an
// incident, and the last snapshot.
type core struct {
	rdb    redis.UniversalClient
	prefix string
	cfg    Config
	hc     *http.Client
	opener Opener
	rep    Reporter
	now    func() time.Time
	log    logrus.FieldLogger
	obs    PollObserver
}

// StatusWatch watches the status page (its format detected at a root).
type StatusWatch struct {
	*core
	mu       sync.Mutex
	etag     string
	modified string
	body     []byte
	found    *Detection // the detected endpoint, when StatusURL is a root
}

// HealthWatch probes the app's health endpoint.
type HealthWatch struct{ *core }

// APIProbes times Clerk's own endpoints and keeps the timings for charts.
type APIProbes struct {
	*core
	samples *Samples
}

// DeadMan is the polling lease and the dead-man's switch: it says when no
// replica has finished a poll for a while.
type DeadMan struct {
	*core
	owner   string
	started time.Time
}

// Poller polls on each call to Poll; cron calls it, and only the replica
// holding the lease polls. It is the watchers together, so their methods
// (Fetch, Detect, Probe, PollAge, TryLead, Last, ...) are reachable on it.
type Poller struct {
	*core
	*StatusWatch
	*HealthWatch
	*APIProbes
	*DeadMan
}

// NewPoller builds a poller. cfg.Observer, if set, observes each poll.
func NewPoller(rdb redis.UniversalClient, prefix string, cfg Config, hc *http.Client, opener Opener, rep Reporter, now func() time.Time, log logrus.FieldLogger) *Poller {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Confirm < 1 {
		cfg.Confirm = 2
	}
	if cfg.HealthConfirm < 1 {
		cfg.HealthConfirm = 3
	}
	if cfg.Components == nil {
		cfg.Components = DefaultComponentMap()
	}
	if cfg.Guard == nil {
		cfg.Guard = &guard.Guard{}
	}
	if cfg.ProbeConfirm < 1 {
		cfg.ProbeConfirm = 3
	}
	if cfg.ProbeSlow <= 0 {
		cfg.ProbeSlow = 2 * time.Second
	}
	obs := cfg.Observer
	if obs == nil {
		obs = noPolls{}
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	c := &core{rdb: rdb, prefix: prefix, cfg: cfg, hc: hc, opener: opener, rep: rep, now: now, log: log, obs: obs}
	return &Poller{core: c, StatusWatch: &StatusWatch{core: c}, HealthWatch: &HealthWatch{c}, APIProbes: &APIProbes{core: c, samples: NewSamples(rdb, prefix, c.probeInterval())},
		DeadMan: &DeadMan{core: c, owner: hex.EncodeToString(b), started: now()}}
}

// staleAfter is how many intervals without a finished poll (by any
// replica) make the watcher stale: the dead-man's switch.
const staleAfter = 5

// PollAge is how long ago any replica finished a poll; before the first,
// how long this process has been up.
func (p *DeadMan) PollAge(ctx context.Context) (time.Duration, error) {
	ms, err := p.rdb.Get(ctx, p.k("polled-at")).Int64()
	if errors.Is(err, redis.Nil) {
		return p.now().Sub(p.started), nil
	}
	if err != nil {
		return 0, err
	}
	return p.now().Sub(time.UnixMilli(ms)), nil
}

// Stale reports whether no replica has finished a poll for 5 intervals.
func (p *DeadMan) Stale(ctx context.Context) bool {
	age, err := p.PollAge(ctx)
	return err == nil && p.cfg.Interval > 0 && age > staleAfter*p.cfg.Interval
}

// WarnIfStale says once, in the channel, that polling has stopped; a
// finished poll re-arms it. Every replica's sweep calls it.
func (p *DeadMan) WarnIfStale(ctx context.Context) {
	if !p.Stale(ctx) {
		return
	}
	if first, err := redisx.Once(ctx, p.rdb, p.k("stale-warned"), 0); err != nil || !first {
		return
	}
	p.log.Warn("no replica has finished a status poll for 5 intervals")
	p.rep.Note(ctx, Note{Kind: PollerStale, Polls: staleAfter})
}

func (p *core) k(s string) string { return p.prefix + "status:" + s }

// TryLead takes or renews the polling lease; another replica takes over
// within two intervals if the holder dies.
func (p *DeadMan) TryLead(ctx context.Context) bool {
	return p.lead(ctx, "lease", p.cfg.Interval)
}

// TryLeadProbes takes or renews the probes' own lease (their schedule
// runs apart from the status poll's): one replica probes, and another
// takes over within two probe intervals if it dies.
func (p *DeadMan) TryLeadProbes(ctx context.Context) bool {
	return p.lead(ctx, "probe-lease", p.probeInterval())
}

func (p *DeadMan) lead(ctx context.Context, name string, interval time.Duration) bool {
	ttl := 2 * interval
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	ok, err := redisx.NewLease(p.rdb, p.k(name), p.owner).Keep(ctx, ttl)
	if err != nil {
		p.log.WithError(err).Warn("status poller lease failed")
		return false
	}
	return ok
}

// Poll runs one round: the status page and, unless they have their own
// schedule (ProbeInterval), Clerk's own endpoints and the app health
// probe; the round's end is recorded for the dead-man's switch.
func (p *Poller) Poll(ctx context.Context) {
	if p.cfg.StatusURL != "" {
		p.pollStatus(ctx)
	}
	if p.cfg.ProbeInterval <= 0 {
		p.PollProbes(ctx)
	}
	p.rdb.Set(ctx, p.k("polled-at"), p.now().UnixMilli(), 0)
	p.rdb.Del(ctx, p.k("stale-warned"))
}

// PollProbes runs one probe round: Clerk's own endpoints and the app's
// health, each API judged on its own.
func (p *Poller) PollProbes(ctx context.Context) {
	var wg sync.WaitGroup
	if len(p.cfg.Probes) > 0 {
		wg.Go(func() { p.cfg.Guard.Run(ctx, "clerk probes", "", p.pollProbes) })
	}
	if p.cfg.HealthURL != "" {
		wg.Go(func() { p.cfg.Guard.Run(ctx, "app health probe", "", p.pollHealth) })
	}
	wg.Wait()
}

// Fetch reads the status page with a conditional request when the server
// gave validators before; a 304 reuses the last body.
func (p *StatusWatch) Fetch(ctx context.Context) (Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url, err := p.endpoint(ctx)
	if err != nil {
		return Summary{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Summary{}, err
	}
	req.Header.Set("Accept", "application/json, application/rss+xml, application/atom+xml;q=0.9, */*;q=0.5")
	p.mu.Lock()
	if p.body != nil {
		if p.etag != "" {
			req.Header.Set("If-None-Match", p.etag)
		}
		if p.modified != "" {
			req.Header.Set("If-Modified-Since", p.modified)
		}
	}
	p.mu.Unlock()
	resp, err := p.hc.Do(req)
	if err != nil {
		return Summary{}, fmt.Errorf("status page unreachable: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	var body []byte
	switch {
	case resp.StatusCode == http.StatusNotModified:
		p.mu.Lock()
		body = p.body
		p.mu.Unlock()
	case resp.StatusCode/100 == 2:
		body, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			return Summary{}, fmt.Errorf("read status page: %w", err)
		}
		p.mu.Lock()
		p.body, p.etag, p.modified = body, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		p.mu.Unlock()
	default:
		p.forget() // the page may have moved to another format
		return Summary{}, fmt.Errorf("status page answered %d at %s", resp.StatusCode, url)
	}
	sum, err := ParseAt(body, p.now(), p.cfg.Components.Names())
	if err != nil {
		p.forget()
	}
	return sum, err
}

// pollStatus reads the status page and follows each problem on it: an
// incident opened after Confirm polls, an advisory line, upstream updates,
// and what is gone.
func (p *StatusWatch) pollStatus(ctx context.Context) {
	sum, ok := p.fetchAndRecord(ctx)
	if !ok {
		return
	}
	problems := p.problemsIn(ctx, sum)
	for _, m := range sum.Maintenances {
		if first, _ := redisx.Once(ctx, p.rdb, p.k("planned:"+m.ID+":"+m.Status), 30*24*time.Hour); first {
			p.rep.Note(ctx, Note{Kind: PlannedWork, Name: m.Name, Status: m.Status, Body: strings.Join(m.Components, ", ")})
		}
	}
	present := map[string]bool{}
	for _, pr := range problems {
		present[pr.key] = true
		p.track(ctx, pr)
	}
	p.clearGone(ctx, present)
}

// fetchAndRecord fetches the page and records how it went: the snapshot,
// and a note after 5 failures in a row (and when it reads again).
func (p *StatusWatch) fetchAndRecord(ctx context.Context) (Summary, bool) {
	sum, err := p.Fetch(ctx)
	now := p.now().UTC()
	p.obs.Poll("status", err == nil)
	if err != nil {
		p.saveSnapshot(ctx, func(s *Snapshot) { s.Err, s.FetchedAt = err.Error(), now })
		fails, _ := p.rdb.Incr(ctx, p.k("fetch-failures")).Result()
		p.log.WithError(err).WithField("failures", fails).Warn("status page poll failed")
		if fails >= 5 {
			if first, _ := redisx.Once(ctx, p.rdb, p.k("fetch-warned"), 0); first {
				p.rep.Note(ctx, Note{Kind: PageUnreadable, Polls: int(fails), Err: err.Error()})
			}
		}
		return sum, false
	}
	p.rdb.Del(ctx, p.k("fetch-failures"))
	if n, _ := p.rdb.Del(ctx, p.k("fetch-warned")).Result(); n > 0 {
		p.rep.Note(ctx, Note{Kind: PageReadable})
	}
	p.saveSnapshot(ctx, func(s *Snapshot) { s.Summary, s.Err, s.FetchedAt = &sum, "", now })
	return sum, true
}

// problem is one thing wrong on the status page, keyed as it is tracked.
type problem struct {
	key      string
	alert    Alert
	up       *Incident
	advisory bool
}

// problemsIn lists what the page says is wrong (and notes upstream
// incidents it shows resolved).
func (p *StatusWatch) problemsIn(ctx context.Context, sum Summary) []problem {
	var problems []problem
	covered := map[string]bool{}
	for i := range sum.Incidents {
		in := sum.Incidents[i]
		if in.Status == "resolved" {
			p.upstreamResolved(ctx, in)
			continue
		}
		for _, c := range in.Components {
			covered[strings.ToLower(c.Name)] = true
		}
		a, ok := p.alertFor(in, sum)
		problems = append(problems, problem{key: "upstream:" + in.ID, alert: a, up: &sum.Incidents[i], advisory: !ok})
	}
	// Components in trouble without a posted incident, one problem per
	// meaning: a Dashboard outage must not turn a degraded sign-in into an
	// outage, nor page anyone by itself.
	loose := map[Meaning][]Component{}
	for _, c := range sum.NotOperational() {
		if c.Status != Maintenance && !covered[strings.ToLower(c.Name)] {
			m := p.cfg.Components.Meaning(c.Name)
			loose[m] = append(loose[m], c)
		}
	}
	for _, m := range []Meaning{MeansOutage, MeansWebhook, MeansAdvisory} {
		if cs := loose[m]; len(cs) > 0 {
			a, ok := p.alertForComponents(cs, sum)
			problems = append(problems, problem{key: componentKey(cs), alert: a, advisory: !ok})
		}
	}
	// A page that lists nothing wrong may still say so overall: an
	// indicator-only page, or one whose incidents are not public.
	if len(problems) == 0 && (sum.Indicator == "minor" || sum.Indicator == "major" || sum.Indicator == "critical") {
		a, ok := alertForIndicator(sum)
		problems = append(problems, problem{key: "indicator:" + sum.Indicator, alert: a, advisory: !ok})
	}
	return problems
}

// track counts one more poll of a problem: after Confirm polls an
// advisory is said once, anything else opens (or follows) its incident.
func (p *StatusWatch) track(ctx context.Context, pr problem) {
	streak, _ := p.rdb.HIncrBy(ctx, p.k("streak"), pr.key, 1).Result()
	p.rdb.HDel(ctx, p.k("gone"), pr.key)
	if pr.advisory {
		// Nobody is paged: one line in the channel while it lasts.
		if int(streak) >= p.cfg.Confirm {
			if first, _ := redisx.Once(ctx, p.rdb, p.k("advised:"+pr.key), 0); first {
				p.rdb.SAdd(ctx, p.k("advisories"), pr.key)
				p.rep.Note(ctx, Note{Kind: Advisory, Name: pr.alert.Title, Status: pr.alert.Impact, Body: strings.Join(pr.alert.Components, ", "), Polls: int(streak)})
			}
		}
		return
	}
	id := p.mapped(ctx, pr.key)
	if id == "" && int(streak) >= p.cfg.Confirm {
		pr.alert.Key, pr.alert.Polls = pr.key, int(streak)
		id = p.open(ctx, pr.key, pr.alert)
		if id != "" && pr.up != nil {
			for _, u := range pr.up.Updates { // the alert carried the latest
				p.rdb.SAdd(ctx, p.k("seen:"+pr.up.ID), u.ID)
			}
		}
	}
	if id != "" && pr.up != nil {
		p.postUpdates(ctx, id, *pr.up)
	}
}

// clearGone handles problems gone from the page: streaks reset; an
// advisory or an incident's problem gone for Confirm polls is over (an
// upstream incident counts as resolved).
func (p *StatusWatch) clearGone(ctx context.Context, present map[string]bool) {
	keys, _ := p.rdb.HKeys(ctx, p.k("streak")).Result()
	for _, key := range keys {
		if present[key] {
			continue
		}
		p.rdb.HDel(ctx, p.k("streak"), key)
	}
	advised, _ := p.rdb.SMembers(ctx, p.k("advisories")).Result()
	for _, key := range advised {
		if present[key] {
			continue
		}
		if gone, _ := p.rdb.HIncrBy(ctx, p.k("gone"), key, 1).Result(); int(gone) >= p.cfg.Confirm {
			p.rdb.Del(ctx, p.k("advised:"+key))
			p.rdb.SRem(ctx, p.k("advisories"), key)
			p.rdb.HDel(ctx, p.k("gone"), key)
		}
	}
	active, _ := p.rdb.SMembers(ctx, p.k("active")).Result()
	for _, key := range active {
		if present[key] {
			continue
		}
		gone, _ := p.rdb.HIncrBy(ctx, p.k("gone"), key, 1).Result()
		if int(gone) >= p.cfg.Confirm && strings.HasPrefix(key, "upstream:") {
			p.upstreamResolved(ctx, Incident{ID: strings.TrimPrefix(key, "upstream:"), Name: "the upstream incident"})
		}
		if int(gone) >= p.cfg.Confirm && (strings.HasPrefix(key, "components:") || strings.HasPrefix(key, "indicator:")) {
			if id := p.mapped(ctx, key); id != "" {
				if first, _ := redisx.Once(ctx, p.rdb, p.k("cleared:"+key+":"+id), 30*24*time.Hour); first {
					p.rep.Note(ctx, Note{Kind: ComponentsRecovered, Incident: id})
				}
			}
			p.rdb.SRem(ctx, p.k("active"), key)
		}
	}
}

func (p *core) mapped(ctx context.Context, key string) string {
	id, err := p.rdb.Get(ctx, p.k("map:"+key)).Result()
	if err != nil || id == "opening" {
		return ""
	}
	// One upstream incident maps to one incident here for good; a problem
	// known only by its components may open a new one once that is closed.
	if !strings.HasPrefix(key, "upstream:") && !p.rep.IncidentOpen(ctx, id) {
		return ""
	}
	return id
}

// open claims the problem key so that a restart or another replica never
// opens it twice, then asks the reporter for the incident.
func (p *core) open(ctx context.Context, key string, a Alert) string {
	mk := p.k("map:" + key)
	if cur, err := p.rdb.Get(ctx, mk).Result(); err == nil {
		if cur == "opening" || strings.HasPrefix(key, "upstream:") || p.rep.IncidentOpen(ctx, cur) {
			return ""
		}
		p.rdb.Del(ctx, mk) // mapped to a closed incident: open a new one
	}
	if ok, err := p.rdb.SetNX(ctx, mk, "opening", 2*time.Minute).Result(); err != nil || !ok {
		return ""
	}
	interval := p.cfg.Interval
	if src := sourceOf(key); src == incident.SourceProbe || src == incident.SourceAppHealth {
		interval = p.probeInterval()
	}
	id, err := p.opener.OpenAlert(ctx, signal(a, p.now(), interval))
	if err != nil {
		p.log.WithError(err).WithField("key", key).Error("could not open incident from status")
		p.rdb.Del(ctx, mk)
		return ""
	}
	p.rdb.Set(ctx, mk, id, 0)
	p.rdb.SAdd(ctx, p.k("active"), key)
	p.log.WithField("incident", id).WithField("key", key).Warn("incident opened from status")
	return id
}

func (p *StatusWatch) postUpdates(ctx context.Context, id string, in Incident) {
	for _, u := range in.Updates {
		if u.ID == "" {
			continue
		}
		added, err := p.rdb.SAdd(ctx, p.k("seen:"+in.ID), u.ID).Result()
		if err != nil || added == 0 {
			continue
		}
		p.rep.Note(ctx, Note{Kind: UpstreamUpdate, Incident: id, Status: u.Status, Body: truncateText(u.Body, 2000)})
	}
}

func (p *StatusWatch) upstreamResolved(ctx context.Context, in Incident) {
	key := "upstream:" + in.ID
	id, err := p.rdb.Get(ctx, p.k("map:"+key)).Result()
	if err != nil || id == "opening" {
		return
	}
	p.rdb.SRem(ctx, p.k("active"), key)
	if first, _ := redisx.Once(ctx, p.rdb, p.k("resolved:"+in.ID), 0); !first {
		return
	}
	name := in.Name
	p.rep.Note(ctx, Note{Kind: UpstreamResolved, Incident: id, Name: name})
}

func (p *HealthWatch) pollHealth(ctx context.Context) {
	p.JudgeHealth(ctx, p.Probe(ctx))
}

// JudgeHealth records one health probe: HealthConfirm failures in a row
// within the window open an outage; the first pass after it says the
// recovery.
func (p *HealthWatch) JudgeHealth(ctx context.Context, h Health) {
	p.obs.Poll("health", h.OK)
	p.saveSnapshot(ctx, func(s *Snapshot) { s.Health = &h })
	key := "app-health"
	r := roundOK
	if !h.OK {
		r = roundFailed
	}
	st, err := p.record(ctx, key, r)
	if err != nil {
		p.log.WithError(err).Warn("app health streak not recorded")
		return
	}
	if h.OK {
		if st.Recovered {
			if id := p.mapped(ctx, key); id != "" {
				p.rep.Note(ctx, Note{Kind: AppRecovered, Incident: id, HTTPStatus: h.Status, Latency: h.Latency})
			}
		}
		return
	}
	if !st.Confirmed(p.cfg.HealthConfirm) {
		return
	}
	p.markDown(ctx, key)
	if p.mapped(ctx, key) != "" {
		return
	}
	what := h.Err
	if what == "" {
		what = fmt.Sprintf("status %d", h.Status)
	}
	p.open(ctx, key, Alert{Key: key, Category: incident.Outage, Severity: incident.P1, Polls: st.Failed, Detected: backdated(st.First(p.cfg.HealthConfirm), p.now()),
		Title:  "App health check failing",
		Impact: fmt.Sprintf("GET %s failed %d times in a row; last: %s after %s", p.cfg.HealthURL, st.Failed, what, probe.Ms(h.Latency)),
		Link:   p.cfg.HealthURL})
}

// backdated is a streak's first round when it is before now (the zero
// time otherwise: signal then dates the alert from its rounds).
func backdated(first, now time.Time) time.Time {
	if first.Before(now) {
		return first.UTC()
	}
	return time.Time{}
}

// Probe calls the app's health endpoint with a 5 s timeout.
func (p *HealthWatch) Probe(ctx context.Context) Health {
	h := Health{URL: p.cfg.HealthURL, At: p.now().UTC()}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.HealthURL, nil)
	if err != nil {
		h.Err = "bad APP_HEALTH_URL"
		return h
	}
	start := time.Now()
	resp, err := p.hc.Do(req)
	h.Latency = time.Since(start)
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			h.Err = "timed out after 5 s"
		default:
			h.Err = "connection failed: " + rootCause(err)
		}
		return h
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	h.Status = resp.StatusCode
	h.OK = resp.StatusCode/100 == 2
	return h
}

func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// saveSnapshot changes one part of the snapshot in a transaction: the
// status poll, the probe round and the start-up detection write their
// parts at the same time (on one replica or several), and a plain read
// and write let one put back what the other had just replaced.
func (p *core) saveSnapshot(ctx context.Context, fn func(*Snapshot)) {
	key := p.k("last")
	_, _ = redisx.UpdateJSON(ctx, p.rdb, key, nil, func(s *Snapshot) error { fn(s); return nil },
		func(pipe redis.Pipeliner, raw []byte, _ *Snapshot) { pipe.Set(ctx, key, raw, 0) })
}

// Last returns what the last polls saw (any replica's).
func (p *core) Last(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	raw, err := p.rdb.Get(ctx, p.k("last")).Bytes()
	if errors.Is(err, redis.Nil) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	err = json.Unmarshal(raw, &s)
	return s, err
}

// alertFor classifies an upstream incident with the component map; ok is
// false when it means an advisory only.
func (p *StatusWatch) alertFor(in Incident, sum Summary) (Alert, bool) {
	a := Alert{Title: "Clerk: " + in.Name, Link: in.URL, Update: in.Latest().Body}
	if a.Link == "" {
		a.Link = sum.PageURL
	}
	var worst string
	for _, c := range in.Components {
		a.Components = append(a.Components, c.Name)
		worst = worse(worst, c.Status)
	}
	worst = worse(worst, impactStatus(in.Impact))
	var ok bool
	a.Category, a.Severity, ok = p.cfg.Components.Decide(a.Components, worst)
	a.Impact = fmt.Sprintf("Clerk reports %s (%s)", humanImpact(worst), in.Status)
	return a, ok
}

func (p *StatusWatch) alertForComponents(cs []Component, sum Summary) (Alert, bool) {
	a := Alert{Link: sum.PageURL}
	var worst string
	for _, c := range cs {
		a.Components = append(a.Components, c.Name)
		worst = worse(worst, c.Status)
	}
	a.Title = "Clerk: " + strings.Join(a.Components, ", ") + " " + humanImpact(worst)
	var ok bool
	a.Category, a.Severity, ok = p.cfg.Components.Decide(a.Components, worst)
	a.Impact = "Clerk's status page shows " + humanImpact(worst) + " without a posted incident"
	return a, ok
}

// alertForIndicator is the page's overall indicator alone.
func alertForIndicator(sum Summary) (Alert, bool) {
	desc := sum.Description
	if desc == "" {
		desc = sum.Indicator
	}
	a := Alert{Title: "Clerk: " + desc, Link: sum.PageURL,
		Impact: fmt.Sprintf("Clerk's status page reports %q (indicator %s) without naming a component", desc, sum.Indicator)}
	var ok bool
	a.Category, a.Severity, ok = DecideIndicator(sum.Indicator)
	return a, ok
}

// impactStatus maps Statuspage impact words onto component statuses.
func impactStatus(impact string) string {
	switch impact {
	case "critical", Major:
		return Major
	case "major", Partial:
		return Partial
	case "minor", Degraded:
		return Degraded
	}
	return ""
}

func worse(a, b string) string {
	rank := map[string]int{"": 0, Operational: 0, Maintenance: 0, Degraded: 1, Partial: 2, Major: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func humanImpact(s string) string {
	switch s {
	case Major:
		return "a major outage"
	case Partial:
		return "a partial outage"
	case Degraded:
		return "degraded performance"
	}
	return "a problem"
}

func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
