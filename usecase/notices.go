package usecase

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
)

// IncidentReader reads an incident's current state (incident.Store).
type IncidentReader interface {
	Current(ctx context.Context, id string) (*incident.Incident, error)
}

// NoticeShower shows notes and notices in Slack (publish.Notes).
type NoticeShower interface {
	Note(ctx context.Context, n statuswatch.Note)
	IncidentOpen(ctx context.Context, id string) bool
	Broadcast(ctx context.Context, inc *incident.Incident, line string)
	PostChannel(ctx context.Context, text, what string)
}

// Notices puts what the status poller, the bypass and the webhook pause
// have to say about an incident on its timeline (and the audit log), then
// has the publisher show it (statuswatch.Reporter, bypass.Notifier,
// webhookpause.Notifier).
type Notices struct {
	store IncidentReader
	ticks *Ticks
	show  NoticeShower
	log   logrus.FieldLogger
}

// NewNotices wires the use case.
func NewNotices(store IncidentReader, ticks *Ticks, show NoticeShower, log logrus.FieldLogger) *Notices {
	return &Notices{store: store, ticks: ticks, show: show, log: log}
}

// statusPoller is who the poller's timeline entries are from.
var statusPoller = incident.Person{Name: "status poller"}

// Note implements statuswatch.Reporter: a note about an incident goes on
// its timeline and in its thread, one about the poller to the channel.
func (n *Notices) Note(ctx context.Context, note statuswatch.Note) {
	if note.Incident != "" {
		_ = n.ticks.Record(ctx, note.Incident, statusPoller, render.OneLine(render.NotePlain(note)))
	}
	n.show.Note(ctx, note)
}

// IncidentOpen implements statuswatch.Reporter.
func (n *Notices) IncidentOpen(ctx context.Context, id string) bool {
	return n.show.IncidentOpen(ctx, id)
}

// BypassNotice records entry on the incident's timeline and posts line in
// its thread, broadcast to the channel.
func (n *Notices) BypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string) {
	inc, err := n.store.Current(ctx, incID)
	if err != nil {
		n.log.WithError(err).Warn("bypass notice: incident not found")
		return
	}
	_ = n.ticks.Record(ctx, incID, who, entry)
	n.show.Broadcast(ctx, inc, line)
}

// BypassReminder implements bypass.Notifier.
func (n *Notices) BypassReminder(ctx context.Context, st bypass.State) {
	n.BypassNotice(ctx, st.Incident, botPerson, "Emergency bypass ends in 5 minutes", render.BypassEndingLine(st.ExpiresAt))
}

// BypassExpired implements bypass.Notifier.
func (n *Notices) BypassExpired(ctx context.Context, st bypass.State) {
	n.log.WithField("incident", st.Incident).Warn("emergency auth bypass expired")
	n.ticks.System(ctx, "bot", "bypass expired", "ended by itself", st.Incident)
	n.BypassNotice(ctx, st.Incident, botPerson, "Emergency bypass ended by itself", render.BypassEndedLine(st.ExpiresAt))
}

// WebhooksStillPaused implements webhookpause.Notifier: the incident's
// thread (or the channel) hears it every 30 minutes until someone resumes.
func (n *Notices) WebhooksStillPaused(ctx context.Context, st webhookpause.State, paused time.Duration) {
	line := render.WebhooksStillPausedLine(st, paused)
	if st.Incident != "" {
		if inc, err := n.store.Current(ctx, st.Incident); err == nil && inc.Channel != "" {
			n.BypassNotice(ctx, st.Incident, botPerson, "Webhook processing still paused after "+render.ShortDuration(paused), line)
			return
		}
	}
	n.show.PostChannel(ctx, line, "the webhook pause reminder")
}

// ApprovalShower shows approval requests' decisions and outcomes
// (publish.Approvals).
type ApprovalShower interface {
	ShowOutcome(ctx context.Context, ar *approval.Request)
	ShowDecision(ctx context.Context, ar *approval.Request)
}

// ApprovalObserver counts approvals (metrics).
type ApprovalObserver interface {
	Approval(outcome string)
}

// ApprovalNews records what became of an approval request on its
// incident's timeline and the audit log, then has the publisher show it:
// an outcome, an expiry, a void.
type ApprovalNews struct {
	ticks   *Ticks
	show    ApprovalShower
	observe ApprovalObserver // nil: not counted
}

// NewApprovalNews wires the use case; observe may be nil.
func NewApprovalNews(ticks *Ticks, show ApprovalShower, observe ApprovalObserver) *ApprovalNews {
	return &ApprovalNews{ticks: ticks, show: show, observe: observe}
}

// Executed puts a carried-out request's outcome on the timeline (its plain
// summary), then in the thread and on the request's message.
func (a *ApprovalNews) Executed(ctx context.Context, ar *approval.Request) {
	if ar.Outcome != nil {
		_ = a.ticks.Record(ctx, ar.Incident, botPerson, render.OutcomeTimeline(ar))
	}
	a.show.ShowOutcome(ctx, ar)
}

// Expired shows a request that expired undecided, on its message, the
// timeline and the audit log (approval.Store.ExpireDue's callback).
func (a *ApprovalNews) Expired(ctx context.Context, ar *approval.Request) {
	a.show.ShowDecision(ctx, ar)
	_ = a.ticks.Record(ctx, ar.Incident, botPerson, fmt.Sprintf("Approval request %s (%s) expired; nothing was done", ar.ID, render.ActionName(ar.Action)))
	a.ticks.System(ctx, "bot", "approval expired", ar.ID+" "+ar.Summary, ar.Incident)
	a.count(approval.Expired)
}

// Voided shows a request as void, on its message, the timeline and the
// audit log.
func (a *ApprovalNews) Voided(ctx context.Context, ar *approval.Request) {
	a.show.ShowDecision(ctx, ar)
	_ = a.ticks.Record(ctx, ar.Incident, botPerson, fmt.Sprintf("Approval request %s (%s) void: %s; nothing was done", ar.ID, render.ActionName(ar.Action), ar.VoidReason))
	a.ticks.System(ctx, "bot", "approval void", ar.ID+" "+ar.VoidReason, ar.Incident)
	a.count(approval.Voided)
}

func (a *ApprovalNews) count(outcome string) {
	if a.observe != nil {
		a.observe.Approval(outcome)
	}
}
