package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/stats"
)

// The milestones family: correcting when an incident was detected or
// mitigated, and `stats` over the milestones of a period. The rules and
// the numbers live in incident (CorrectMilestone) and stats (Compute);
// these are the thin Slack ends.

// MilestoneStore is what correcting milestones and counting them needs of
// the incident store.
type MilestoneStore interface {
	Get(ctx context.Context, id string) (*incident.Incident, error)
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
	ListResolved(ctx context.Context, from, to time.Time) ([]*incident.Incident, error)
	ListOpen(ctx context.Context) ([]*incident.Incident, error)
}

// Milestones corrects an incident's milestones and counts them (stats).
type Milestones struct {
	*Kit
	charts *Charts
	store  MilestoneStore
	pub    Changer
}

// NewMilestones wires the family.
func NewMilestones(k *Kit, charts *Charts, store MilestoneStore, pub Changer) *Milestones {
	return &Milestones{Kit: k, charts: charts, store: store, pub: pub}
}

// Title implements Family.
func (mi *Milestones) Title() string { return "Milestones and stats" }

// Buttons implements Family.
func (mi *Milestones) Buttons() []Button { return nil }

// Commands implements Family.
func (mi *Milestones) Commands() []Sub {
	return []Sub{
		{Name: "milestone", Usage: "/clerk-incident milestone [INC-n] <detected|mitigated> <HH:MM> [UTC|+hh:mm]", Summary: "correct when the incident was detected or mitigated (report and stats)", Who: OnIncident,
			Run: mi.milestone},
		{Name: "stats", Usage: "/clerk-incident stats [30d|90d]", Summary: "incidents by category and severity, time to acknowledge and resolve (p50/p90)", NoID: true,
			Run: mi.stats},
	}
}

func (mi *Milestones) milestone(ctx context.Context, r Req, p Parsed) {
	if len(p.Args) < 2 {
		mi.Fail(ctx, r, &UsageError{Problem: "Say which milestone (detected or mitigated) and the time, e.g. `milestone detected 14:05`.", Usage: p.Sub.Usage})
		return
	}
	kind := strings.ToLower(p.Args[0])
	if kind != incident.MilestoneDetected && kind != incident.MilestoneMitigated {
		mi.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q cannot be corrected: only detected and mitigated can (acknowledged and resolved are when someone did them).", render.Esc(p.Args[0])), Usage: p.Sub.Usage})
		return
	}
	// Corrections are mostly written after the resolve, for the report.
	mi.withIncident(ctx, r, p, true, func(ctx context.Context, r Req, id string) {
		inc, err := mi.store.Get(ctx, id)
		if err != nil {
			mi.Fail(ctx, r, err)
			return
		}
		// A bare HH:MM is the one nearest the milestone as recorded.
		m := inc.Timings()
		near := mi.now()
		switch {
		case kind == incident.MilestoneDetected && m.Detected != nil:
			near = m.Detected.At
		case kind == incident.MilestoneMitigated && m.Mitigated != nil:
			near = m.Mitigated.At
		case kind == incident.MilestoneMitigated && m.Resolved != nil:
			near = m.Resolved.At
		}
		at, err := incident.ParseMilestoneTime(strings.Join(p.Args[1:], " "), near)
		if err != nil {
			mi.Fail(ctx, r, milestoneUsage(err, p))
			return
		}
		line := fmt.Sprintf(":stopwatch: %s corrected *%s* to %s UTC; the report and `stats` use it.", render.Who(r.Who), kind, at.Format("2006-01-02 15:04"))
		inc, err = mi.store.UpdateThen(ctx, id, incident.CorrectMilestone(r.Who, kind, at), incident.After{Line: line, Render: true})
		if err != nil {
			mi.Fail(ctx, r, withID(milestoneUsage(err, p), id))
			return
		}
		sp := inc.Timings().Spans(mi.now())
		msg := fmt.Sprintf(":white_check_mark: %s of %s is now %s UTC.", kind, id, at.Format("2006-01-02 15:04"))
		if sp.AckOK {
			msg += " Time to acknowledge: " + incident.FormatSpan(sp.ToAcknowledge) + "."
		}
		if sp.MitigateOK {
			msg += " Time to mitigate: " + incident.FormatSpan(sp.ToMitigate) + "."
		}
		mi.ReplyText(ctx, r, msg)
		_ = mi.pub.Changed(ctx, inc)
	})
}

// milestoneUsage turns a broken correction rule into its own sentence.
func milestoneUsage(err error, p Parsed) error {
	for _, rule := range []error{incident.ErrMilestoneTime, incident.ErrMilestoneRule, incident.ErrMilestoneKind} {
		if why, ok := brokenRule(err, rule); ok {
			return &UsageError{Problem: "Not changed: " + why + ".", Usage: p.Sub.Usage}
		}
	}
	return err
}

// brokenRule is what the coded error wrapping rule says was wrong
// (apperr.Error{Message: why, Err: rule}), if err holds one.
func brokenRule(err, rule error) (string, bool) {
	for err != nil {
		var coded *apperr.Error
		if !errors.As(err, &coded) {
			return "", false
		}
		if coded.Err == rule {
			return coded.Message, coded.Message != ""
		}
		err = coded.Err
	}
	return "", false
}

func (mi *Milestones) stats(ctx context.Context, r Req, p Parsed) {
	if len(p.Args) > 1 {
		mi.Fail(ctx, r, &UsageError{Problem: "Give at most one period: 30d or 90d.", Usage: p.Sub.Usage})
		return
	}
	period, err := stats.ParsePeriod(p.Form(), mi.now())
	if err != nil {
		why, ok := brokenRule(err, stats.ErrPeriod)
		if !ok {
			mi.Fail(ctx, r, err)
			return
		}
		mi.Fail(ctx, r, &UsageError{Problem: why + ".", Usage: p.Sub.Usage})
		return
	}
	resolved, err := mi.store.ListResolved(ctx, period.From, period.To)
	if err != nil {
		mi.Fail(ctx, r, err)
		return
	}
	open, err := mi.store.ListOpen(ctx)
	if err != nil {
		mi.Fail(ctx, r, err)
		return
	}
	summary := stats.Compute(period, resolved, open)
	mi.ReplyText(ctx, r, stats.Text(summary))
	mi.charts.statsChart(ctx, r, summary)
}
