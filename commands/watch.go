package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// The watching family: incident status with Clerk's live status, diagnose, check.

const watchTitle = "Watching Clerk"

// StatusStore is what `status` needs of the incident store.
type StatusStore interface {
	Get(ctx context.Context, id string) (*incident.Incident, error)
}

// Watch shows an incident with Clerk's live status.
type Watch struct {
	*Kit
	charts *Charts
	store  StatusStore
	pub    LadderStater
	rb     *incident.Runbook
	watch  StatusSource // nil: neither the status page nor the app is watched
}

// NewWatch wires the family.
func NewWatch(k *Kit, charts *Charts, store StatusStore, pub LadderStater, rb *incident.Runbook, watch StatusSource) *Watch {
	return &Watch{Kit: k, charts: charts, store: store, pub: pub, rb: rb, watch: watch}
}

// Title implements Family.
func (w *Watch) Title() string { return watchTitle }

// Commands implements Family.
func (w *Watch) Commands() []Sub {
	return []Sub{
		{Name: "status", Usage: "/clerk-incident status [INC-n] [--chart]", Summary: "show an incident and its latest timeline (--chart: the last hour of Clerk's latency, in a DM)",
			Run: w.status},
	}
}

// Buttons implements Family.
func (w *Watch) Buttons() []Button { return nil }

// Probes times Clerk's endpoints and checks the bot's own settings.
type Probes struct {
	*Kit
	charts      *Charts
	pub         ProbePublisher
	diagTargets []probe.DiagnoseTarget
	checkInput  probe.CheckInput
}

// ProbePublisher posts a diagnosis in the thread and ticks the steps it
// measured.
type ProbePublisher interface {
	Threader
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// NewProbes wires the family.
func NewProbes(k *Kit, charts *Charts, pub ProbePublisher, targets []probe.DiagnoseTarget, check probe.CheckInput) *Probes {
	return &Probes{Kit: k, charts: charts, pub: pub, diagTargets: targets, checkInput: check}
}

// Title implements Family.
func (pr *Probes) Title() string { return watchTitle }

// Commands implements Family.
func (pr *Probes) Commands() []Sub {
	return []Sub{
		{Name: "diagnose", Usage: "/clerk-incident diagnose [INC-n] [samples] [--chart]", Summary: "time Clerk's API, JWKS, the app health endpoint and the status page (--chart: the last hour of Clerk's latency)", Who: Responder,
			Run: pr.diagnose},
		{Name: "check", Usage: "/clerk-incident check", Summary: "check keys, webhook secret, Redis, contacts and Slack tokens", NoID: true, Who: Responder,
			Run: func(ctx context.Context, r Req, _ Parsed) { pr.check(ctx, r) }},
	}
}

// Buttons implements Family.
func (pr *Probes) Buttons() []Button { return nil }

// StatusSource gives what the last poll (any replica's) saw of Clerk's
// status page, Clerk's endpoints and the app's health.
type StatusSource interface {
	Last(ctx context.Context) (statuswatch.Snapshot, error)
}

// live answers from the last poll's snapshot, saying how old it is: a
// burst of `status` during an incident never reaches the status page.
func (w *Watch) live(ctx context.Context) string {
	if w.watch == nil {
		return ""
	}
	s, err := w.watch.Last(ctx)
	if err != nil {
		w.log.WithError(err).Warn("reading the last status poll failed")
		s = statuswatch.Snapshot{Err: "the last poll could not be read"}
	}
	return render.LiveText(s) + render.SnapshotAge(s.FetchedAt, w.now())
}

func (w *Watch) status(ctx context.Context, r Req, p Parsed) {
	chart := takeChart(&p)
	if p.ID == "" {
		p.ID = w.roomIncident(ctx, p)
	}
	if p.ID == "" {
		open, err := w.incidents.ListOpen(ctx)
		if err != nil {
			w.Fail(ctx, r, err)
			return
		}
		if len(open) != 1 {
			recent, err := w.incidents.ListRecent(ctx, 5)
			if err != nil {
				w.Fail(ctx, r, err)
				return
			}
			var closed []*incident.Incident
			for _, inc := range recent {
				if !inc.Open() {
					closed = append(closed, inc)
				}
			}
			w.Reply(ctx, r, render.WithLive(render.ListMsg(open, closed, w.now()), w.live(ctx)))
			if chart {
				w.charts.attachLatency(ctx, r, nil)
			}
			return
		}
		p.ID = open[0].ID
	}
	inc, err := w.store.Get(ctx, p.ID)
	if err != nil {
		w.Fail(ctx, r, err)
		return
	}
	w.Reply(ctx, r, render.WithLive(render.StatusMsg(inc, w.rb.Spec(inc.Category), w.pub.LadderState(ctx, inc.ID), w.now()), w.live(ctx)))
	if chart {
		w.charts.attachLatency(ctx, r, inc)
	}
}

func (pr *Probes) diagnose(ctx context.Context, r Req, p Parsed) {
	chart := takeChart(&p)
	n := 5
	if len(p.Args) > 0 {
		if _, err := fmt.Sscanf(p.Args[0], "%d", &n); err != nil || n < 1 || n > 50 {
			pr.Fail(ctx, r, &UsageError{Problem: "The number of samples must be 1 to 50.", Usage: p.Sub.Usage})
			return
		}
	}
	if len(pr.diagTargets) == 0 {
		pr.ReplyText(ctx, r, "Nothing to diagnose: set CLERK_SECRET_KEY, APP_HEALTH_URL or CLERK_STATUS_URL.")
		return
	}
	inc, err := pr.optionalIncident(ctx, p)
	if err != nil {
		pr.Fail(ctx, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	results := probe.Diagnose(ctx, pr.diagTargets, n)
	pr.charts.recordDiagnosis(ctx, results)
	text := render.DiagnoseText(results, n)
	if inc != nil {
		_, _ = pr.incidents.Update(ctx, inc.ID, incident.Record(r.Who, render.DiagnosePlain(results, n)))
		pr.pub.Thread(ctx, inc, text)
		for _, res := range results {
			// A target timed at least once measured its step.
			if res.Target.Step != "" && res.Errors < n {
				pr.pub.AutoTick(ctx, inc.ID, r.Who, res.Target.Step, "diagnose")
			}
		}
	}
	pr.ReplyText(ctx, r, text)
	if chart {
		pr.charts.attachLatency(ctx, r, inc)
	}
}

func (pr *Probes) check(ctx context.Context, r Req) {
	in := pr.checkInput
	if in.PingRedis == nil {
		in.PingRedis = func(ctx context.Context) error { _, err := pr.incidents.ListOpen(ctx); return err }
	}
	if in.PingSlack == nil {
		in.PingSlack = func(ctx context.Context) (string, error) { return "", errors.New("not checked") }
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	pr.ReplyText(ctx, r, render.CheckText(probe.RunChecks(ctx, in)))
}
