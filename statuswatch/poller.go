package statuswatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
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

// Poller is the status watch as its schedules and readers use it: Poll
// and PollProbes run the rounds (cron calls them on the replica holding
// the lease), and each question is answered by the part that holds the
// answer: the status page's problems, the app's health, Clerk's probes,
// the leases, the dead-man's switch and the snapshot.
type Poller struct {
	problems *pageProblems
	page     *statusPage
	health   *appHealth
	probes   *apiProbes
	leases   *leases
	deadMan  *deadMan
	snaps    *snapshots
	guard    Guard
	// What the rounds run: the status page when StatusURL is set, the
	// app's health probe when HealthURL is, Clerk's probes when there
	// are targets; the probes ride Poll unless they have their own
	// schedule (probesApart).
	watchPage, watchHealth, watchAPIs, probesApart bool
	every, probeEvery                              time.Duration
}

// NewPoller builds a poller. cfg.Observer, if set, observes each poll.
func NewPoller(rdb redis.UniversalClient, prefix string, cfg Config, hc *http.Client, opener Opener, rep Reporter, now func() time.Time, log logrus.FieldLogger) *Poller {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	cfg = withDefaults(cfg)
	obs := cfg.Observer
	if obs == nil {
		obs = noPolls{}
	}
	keys := keyspace(prefix)
	probeEvery := cfg.Interval
	if cfg.ProbeInterval > 0 {
		probeEvery = cfg.ProbeInterval
	}
	snaps := &snapshots{rdb: rdb, key: keys.k("last")}
	incidents := &incidentMap{rdb: rdb, keys: keys, opener: opener, rep: rep, now: now, log: log, every: cfg.Interval, probeEvery: probeEvery}
	confirm := &streaks{rdb: rdb, keys: keys, now: now, window: window(cfg, probeEvery)}
	page := &statusPage{url: cfg.StatusURL, names: cfg.Components.Names(), hc: hc, now: now, log: log, snaps: snaps}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Poller{
		problems: &pageProblems{page: page, rdb: rdb, keys: keys, confirm: cfg.Confirm, components: cfg.Components, incidents: incidents,
			snaps: snaps, rep: rep, obs: obs, now: now, log: log},
		page: page,
		health: &appHealth{url: cfg.HealthURL, confirm: cfg.HealthConfirm, hc: hc, streaks: confirm, incidents: incidents,
			snaps: snaps, rep: rep, obs: obs, now: now, log: log},
		probes: &apiProbes{targets: cfg.Probes, confirm: cfg.ProbeConfirm, slow: cfg.ProbeSlow, hc: hc, guard: cfg.Guard,
			samples: NewSamples(rdb, prefix, probeEvery), streaks: confirm, incidents: incidents, snaps: snaps, rep: rep, now: now, log: log},
		leases:    &leases{rdb: rdb, keys: keys, owner: hex.EncodeToString(b), every: cfg.Interval, probeEvery: probeEvery, log: log},
		deadMan:   &deadMan{rdb: rdb, keys: keys, every: cfg.Interval, started: now(), now: now, rep: rep, log: log},
		snaps:     snaps,
		guard:     cfg.Guard,
		watchPage: cfg.StatusURL != "", watchHealth: cfg.HealthURL != "", watchAPIs: len(cfg.Probes) > 0, probesApart: cfg.ProbeInterval > 0,
		every: cfg.Interval, probeEvery: probeEvery,
	}
}

// withDefaults fills in what cfg leaves unset.
func withDefaults(cfg Config) Config {
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
	return cfg
}

// Poll runs one round: the status page and, unless they have their own
// schedule (ProbeInterval), Clerk's own endpoints and the app health
// probe; the round's end is recorded for the dead-man's switch.
func (p *Poller) Poll(ctx context.Context) {
	if p.watchPage {
		p.problems.poll(ctx)
	}
	if !p.probesApart {
		p.PollProbes(ctx)
	}
	p.deadMan.polled(ctx)
}

// PollProbes runs one probe round: Clerk's own endpoints and the app's
// health, each API judged on its own.
func (p *Poller) PollProbes(ctx context.Context) {
	var wg sync.WaitGroup
	if p.watchAPIs {
		wg.Go(func() { p.guard.Run(ctx, "clerk probes", "", p.probes.round) })
	}
	if p.watchHealth {
		wg.Go(func() { p.guard.Run(ctx, "app health probe", "", p.health.poll) })
	}
	wg.Wait()
}

// TryLead takes or renews the status poll's lease.
func (p *Poller) TryLead(ctx context.Context) bool { return p.leases.TryLead(ctx) }

// TryLeadProbes takes or renews the probes' lease.
func (p *Poller) TryLeadProbes(ctx context.Context) bool { return p.leases.TryLeadProbes(ctx) }

// PollEvery is the status poll's interval.
func (p *Poller) PollEvery() time.Duration { return p.every }

// ProbeEvery is how often the probes run: their own schedule's interval,
// else the status poll's.
func (p *Poller) ProbeEvery() time.Duration { return p.probeEvery }

// PollAge is how long ago any replica finished a poll (the dead-man's
// switch).
func (p *Poller) PollAge(ctx context.Context) (time.Duration, error) { return p.deadMan.PollAge(ctx) }

// Stale reports whether no replica has finished a poll for 5 intervals.
func (p *Poller) Stale(ctx context.Context) bool { return p.deadMan.Stale(ctx) }

// WarnIfStale says once, in the channel, that polling has stopped.
func (p *Poller) WarnIfStale(ctx context.Context) { p.deadMan.WarnIfStale(ctx) }

// Detect finds the status page's format and endpoint (for `check`).
func (p *Poller) Detect(ctx context.Context) (Detection, error) { return p.page.Detect(ctx) }

// Prepare detects the status page's format at start-up and logs it.
func (p *Poller) Prepare(ctx context.Context) { p.page.Prepare(ctx) }

// Last returns what the last polls saw (any replica's).
func (p *Poller) Last(ctx context.Context) (Snapshot, error) { return p.snaps.Last(ctx) }

// Judge records one round of Clerk's probes (see apiProbes.Judge).
func (p *Poller) Judge(ctx context.Context, results []ProbeResult) { p.probes.Judge(ctx, results) }

// JudgeHealth records one probe of the app's health (see appHealth.Judge).
func (p *Poller) JudgeHealth(ctx context.Context, h Health) { p.health.Judge(ctx, h) }

// Samples are the probes' recent timings.
func (p *Poller) Samples() *Samples { return p.probes.samples }

// ProbeSlow is the latency above which a probe is slow.
func (p *Poller) ProbeSlow() time.Duration { return p.probes.slow }
