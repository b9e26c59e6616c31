package usecase

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// ApprovalVoider is what voiding requests needs of the approval store.
type ApprovalVoider interface {
	VoidPending(ctx context.Context, match func(r *approval.Request) bool, reason string) ([]*approval.Request, error)
	CancelApproved(ctx context.Context, match func(r *approval.Request) bool, reason string) ([]*approval.Request, error)
}

// VoidShower shows a voided or cancelled request where it was asked for.
type VoidShower interface {
	Voided(ctx context.Context, ar *approval.Request)
	Executed(ctx context.Context, ar *approval.Request)
}

// Voider voids approval requests that no longer apply.
type Voider struct {
	approvals ApprovalVoider // nil: approvals are not configured
	pub       VoidShower
	log       logrus.FieldLogger
}

// NewVoider wires the use case.
func NewVoider(approvals ApprovalVoider, pub VoidShower, log logrus.FieldLogger) *Voider {
	return &Voider{approvals: approvals, pub: pub, log: log}
}

// VoidApprovals voids the pending requests that match and shows each as
// void, so no stale Approve button can act any more.
func (v *Voider) VoidApprovals(ctx context.Context, match func(*approval.Request) bool, reason string) {
	if v == nil || v.approvals == nil {
		return
	}
	voided, err := v.approvals.VoidPending(ctx, match, reason)
	if err != nil {
		v.log.WithError(err).Warn("could not void pending approvals")
	}
	for _, ar := range voided {
		v.pub.Voided(ctx, ar)
	}
}

// CancelApproved gives the approved requests that match and were not
// carried out yet a "not carried out" outcome, and shows it.
func (v *Voider) CancelApproved(ctx context.Context, match func(*approval.Request) bool, reason string) {
	if v == nil || v.approvals == nil {
		return
	}
	cancelled, err := v.approvals.CancelApproved(ctx, match, reason)
	if err != nil {
		v.log.WithError(err).Warn("could not cancel approved requests")
	}
	for _, ar := range cancelled {
		v.pub.Executed(ctx, ar)
	}
}

// ResolveStore is what resolving needs of the incident store.
type ResolveStore interface {
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
}

// ResolvePublisher shows what resolving changed.
type ResolvePublisher interface {
	Changed(ctx context.Context, inc *incident.Incident) error
	Refresh(ctx context.Context, inc *incident.Incident) error
	BypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string)
}

// LadderStopper stops an incident's escalation ladder.
type LadderStopper interface {
	Stop(ctx context.Context, id, reason, by string) error
}

// BypassSwitch reads and ends the emergency bypass.
type BypassSwitch interface {
	Get(ctx context.Context) (bypass.State, error)
	Off(ctx context.Context) (bypass.State, bool, error)
}

// ResolverDeps lists what resolving needs; Esc, Bypass and Pages are nil
// when not configured.
type ResolverDeps struct {
	Store  ResolveStore
	Pub    ResolvePublisher
	Esc    LadderStopper
	Voider *Voider
	Bypass BypassSwitch
	Pages  *StatusPages
	// Runbook: resolving ticks "Document timeline and actions" (nil: not).
	Runbook *incident.Runbook
	Log     logrus.FieldLogger
}

// Resolver resolves an incident with its side effects: the ladder stops,
// its pending approvals are void, its bypass ends, its public incident
// is resolved.
type Resolver struct{ d ResolverDeps }

// NewResolver wires the use case.
func NewResolver(d ResolverDeps) *Resolver { return &Resolver{d: d} }

// Resolve resolves the incident and does what follows from it, but the
// thread line and the status page, which the caller words.
func (rs *Resolver) Resolve(ctx context.Context, id string, by incident.Person, text string) (*incident.Incident, error) {
	m := incident.Resolve(by, text)
	if rs.d.Runbook != nil {
		// The timeline the bot kept from open to resolve documents what
		// was done: the step is done by the bot, in the same change.
		m = incident.Chain(m, incident.AutoTick(rs.d.Runbook, incident.Person{Name: "bot"}, incident.StepTimeline, "the timeline kept from open to resolve"))
	}
	inc, err := rs.d.Store.UpdateThen(ctx, id, m, incident.After{Render: true})
	if err != nil {
		return nil, err
	}
	_ = rs.d.Pub.Changed(ctx, inc)
	rs.StopLadder(ctx, inc, "resolved", by.ID)
	rs.d.Voider.VoidApprovals(ctx, func(ar *approval.Request) bool { return ar.Incident == inc.ID }, approval.VoidResolved)
	rs.turnOffBypassFor(ctx, inc, by)
	return inc, nil
}

// StopLadder stops the incident's escalation (acknowledged or resolved).
func (rs *Resolver) StopLadder(ctx context.Context, inc *incident.Incident, reason, by string) {
	if rs.d.Esc == nil {
		return
	}
	if err := rs.d.Esc.Stop(ctx, inc.ID, reason, by); err != nil {
		// The engine re-reads the incident before paging, so it stops anyway.
		rs.d.Log.WithError(err).WithField("incident", inc.ID).Warn("could not stop escalation")
		return
	}
	_ = rs.d.Pub.Refresh(ctx, inc)
}

// turnOffBypassFor ends a bypass that belongs to a resolved incident.
func (rs *Resolver) turnOffBypassFor(ctx context.Context, inc *incident.Incident, by incident.Person) {
	if rs.d.Bypass == nil {
		return
	}
	cur, err := rs.d.Bypass.Get(ctx)
	if err != nil || !cur.Enabled || cur.Incident != inc.ID {
		return
	}
	if _, found, err := rs.d.Bypass.Off(ctx); err != nil || !found {
		return
	}
	rs.d.Pub.BypassNotice(ctx, inc.ID, by, "Emergency bypass turned off on resolve",
		fmt.Sprintf(":lock: Resolving %s turned the emergency auth bypass *OFF*: Clerk auth is enforced again.", inc.ID))
}

// ResolvePublic resolves the incident's public incident on the status
// page: false when there is none (or no status page).
func (rs *Resolver) ResolvePublic(ctx context.Context, id string) (bool, error) {
	if rs.d.Pages == nil {
		return false, nil
	}
	err := rs.d.Pages.ResolvePublic(ctx, id)
	if errors.Is(err, ErrNoPublicIncident) {
		return false, nil
	}
	return err == nil, err
}
