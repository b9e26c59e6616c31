// Package metrics exposes the bot's Prometheus metrics on its own
// registry (no global state): commands, acks, escalation, approvals,
// Clerk calls, status polls, and gauges read live from Redis.
package metrics

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors.
type Metrics struct {
	reg        *prometheus.Registry
	bypass     *prometheus.Registry // the bypass gauge: shown only where the bypass itself is readable
	commands   *prometheus.CounterVec
	ack        *prometheus.HistogramVec
	lateness   prometheus.Histogram
	pages      prometheus.Counter
	approvals  *prometheus.CounterVec
	clerkCalls *prometheus.CounterVec
	httpCalls  *prometheus.CounterVec
	polls      *prometheus.CounterVec
	smsReplies *prometheus.CounterVec
}

// Gauges are read when Prometheus scrapes.
type Gauges struct {
	OpenIncidents  func(ctx context.Context) (int, error)
	BypassActive   func(ctx context.Context) (bool, error)
	ResyncProgress func(ctx context.Context) (float64, error) // 0..1, or -1 when none runs
	StatusPollAge  func(ctx context.Context) (float64, error) // seconds since any replica finished a status poll, -1 when not polling
}

// New registers every metric.
func New(g Gauges) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), bypass: prometheus.NewRegistry()}
	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clerk_incident_commands_total", Help: "Slash commands and clicks by subcommand and outcome."}, []string{"subcommand", "outcome"})
	m.ack = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "clerk_incident_ack_latency_seconds", Help: "Time from envelope to Socket Mode ack.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 3}}, []string{"kind"})
	m.lateness = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "clerk_incident_escalation_lateness_seconds", Help: "How late escalation pages went out.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60}})
	m.pages = prometheus.NewCounter(prometheus.CounterOpts{Name: "clerk_incident_pages_sent_total", Help: "Escalation pages delivered (per person)."})
	m.approvals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clerk_incident_approvals_total", Help: "Approval requests by outcome."}, []string{"outcome"})
	m.clerkCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clerk_incident_clerk_api_calls_total", Help: "Clerk Backend API attempts by HTTP status (0: network error)."}, []string{"status"})
	m.httpCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clerk_incident_http_calls_total",
		Help: "Attempts of calls to Vercel, GitHub, Statuspage, Twilio and PagerDuty by service and HTTP status (0: no answer)."}, []string{"service", "status"})
	m.polls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clerk_incident_status_polls_total", Help: "Status page and app health polls by result."}, []string{"target", "result"})
	m.smsReplies = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clerk_incident_sms_replies_total",
		Help: "SMS replies to page texts by outcome: ack, esc, help, refused (nothing to act on), stranger (a number not in contacts.yml: ignored)."}, []string{"outcome"})
	m.reg.MustRegister(m.commands, m.ack, m.lateness, m.pages, m.approvals, m.clerkCalls, m.httpCalls, m.polls, m.smsReplies,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gauge := func(name, help string, read func(ctx context.Context) (float64, error)) {
		gaugeOn(m.reg, name, help, read)
	}
	if g.OpenIncidents != nil {
		gauge("clerk_incident_open_incidents", "Open incidents (-1: store unavailable).", func(ctx context.Context) (float64, error) {
			n, err := g.OpenIncidents(ctx)
			return float64(n), err
		})
	}
	if g.BypassActive != nil {
		gaugeOn(m.bypass, "clerk_incident_bypass_active", "1 while the emergency auth bypass is on.", func(ctx context.Context) (float64, error) {
			on, err := g.BypassActive(ctx)
			if on {
				return 1, err
			}
			return 0, err
		})
	}
	gauge("clerk_incident_resync_progress", "Share of users done by the running resync (-1: none).", g.ResyncProgress)
	gauge("clerk_incident_status_poll_age_seconds", "Seconds since any replica finished a status poll (-1: polling is off); the dead-man's switch.", g.StatusPollAge)
	return m
}

// gaugeOn registers a gauge read at scrape time (-1 on a read error).
func gaugeOn(reg *prometheus.Registry, name, help string, read func(ctx context.Context) (float64, error)) {
	if read == nil {
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		v, err := read(ctx)
		if err != nil {
			return -1
		}
		return v
	}))
}

// Access says who may read /metrics.
type Access struct {
	// Token (METRICS_TOKEN), when set, is the bearer token every scrape
	// must send; a scrape without it is answered 401.
	Token string
	// BypassSecret is true when the bypass is itself behind a token
	// (BYPASS_READ_TOKEN): then an unauthenticated scrape must not learn
	// whether it is on, so clerk_incident_bypass_active is left out.
	BypassSecret bool
}

// Handler serves /metrics under a.
func (m *Metrics) Handler(a Access) http.Handler {
	public := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	all := promhttp.HandlerFor(prometheus.Gatherers{m.reg, m.bypass}, promhttp.HandlerOpts{Registry: m.reg})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case a.Token != "":
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "unauthorized: send Authorization: Bearer <METRICS_TOKEN>", http.StatusUnauthorized)
				return
			}
			all.ServeHTTP(w, r)
		case a.BypassSecret:
			public.ServeHTTP(w, r)
		default:
			all.ServeHTTP(w, r)
		}
	})
}

// Command counts a command or click.
func (m *Metrics) Command(subcommand, outcome string) {
	m.commands.WithLabelValues(subcommand, outcome).Inc()
}

// Ack observes an ack's latency.
func (m *Metrics) Ack(kind string, d time.Duration) { m.ack.WithLabelValues(kind).Observe(d.Seconds()) }

// Page counts a page and how late it went out.
func (m *Metrics) Page(late time.Duration, people int) {
	m.lateness.Observe(late.Seconds())
	m.pages.Add(float64(people))
}

// SMSReply counts one SMS reply by outcome (usecase.ReplyObserver).
func (m *Metrics) SMSReply(outcome string) { m.smsReplies.WithLabelValues(outcome).Inc() }

// Approval counts an approval outcome.
func (m *Metrics) Approval(outcome string) { m.approvals.WithLabelValues(outcome).Inc() }

// ClerkCall counts a Clerk API attempt.
func (m *Metrics) ClerkCall(method, path string, status int) {
	m.clerkCalls.WithLabelValues(strconv.Itoa(status)).Inc()
}

// Call counts one attempt of a call to an outside service (httpx.Counter):
// Clerk's under clerk_incident_clerk_api_calls_total, the others' under
// clerk_incident_http_calls_total.
func (m *Metrics) Call(service, method, route string, status int) {
	if service == "clerk" {
		m.ClerkCall(method, route, status)
		return
	}
	m.httpCalls.WithLabelValues(service, strconv.Itoa(status)).Inc()
}

// Poll counts a status or health poll.
func (m *Metrics) Poll(target string, ok bool) {
	r := "ok"
	if !ok {
		r = "failed"
	}
	m.polls.WithLabelValues(target, r).Inc()
}
