package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Responders decides who is a responder (handlers.Authorizer).
type Responders interface {
	Allowed(ctx context.Context, user string) (bool, error)
	Among(ctx context.Context, user string, ids []string) (bool, error)
}

// Approvers decides who may approve, and names them (handlers.Authorizer).
type Approvers interface {
	Allowed(ctx context.Context, user string) (bool, error)
	Named(ctx context.Context) string
}

// LadderReader reads an incident's frozen escalation ladder.
type LadderReader interface {
	Get(ctx context.Context, id string) (*escalation.State, error)
}

// Access answers who may act on what, beyond the command table's roles:
// the paged people of an incident's ladder, its commander and comms
// person, and the approvers.
type Access struct {
	*Kit
	responders Responders
	approvers  Approvers
	ladders    LadderReader // nil without a contacts file
	rota       RotaMembers  // nil without schedules
}

// RotaMembers says whether someone is a member of any on-call schedule.
type RotaMembers interface {
	Member(user string) bool
}

// AccessOption adds an optional check to Access at construction.
type AccessOption func(*Access)

// WithRota lets members of on-call schedules change them (OnRota).
func WithRota(m RotaMembers) AccessOption { return func(a *Access) { a.rota = m } }

// OnRota reports whether user is a member of an on-call schedule.
func (a *Access) OnRota(user string) bool { return a.rota != nil && a.rota.Member(user) }

// NewAccess wires the checks: approvers are the responders unless
// SLACK_APPROVERS names others; ladders is nil without a contacts file.
func NewAccess(k *Kit, responders Responders, approvers Approvers, ladders LadderReader, opts ...AccessOption) *Access {
	a := &Access{Kit: k, responders: responders, approvers: approvers, ladders: ladders}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Responder reports whether user is a responder.
func (a *Access) Responder(ctx context.Context, user string) (bool, error) {
	return a.responders.Allowed(ctx, user)
}

// Approver reports whether user may approve.
func (a *Access) Approver(ctx context.Context, user string) (bool, error) {
	return a.approvers.Allowed(ctx, user)
}

// OnLadder reports whether user is named on the incident's frozen
// escalation ladder, directly or through a user group.
func (a *Access) OnLadder(ctx context.Context, id, user string) bool {
	if a.ladders == nil {
		return false
	}
	st, err := a.ladders.Get(ctx, id)
	if err != nil {
		if !errors.Is(err, escalation.ErrNoLadder) {
			a.log.WithError(err).WithField("incident", id).Warn("could not read the escalation ladder to check a paged person")
		}
		return false
	}
	var ids []string
	for _, rung := range st.Ladder.Rungs {
		ids = append(ids, rung.Targets...)
	}
	ok, err := a.responders.Among(ctx, user, ids)
	if err != nil && !ok {
		a.log.WithError(err).WithField("incident", id).Warn("could not expand a ladder group to check a paged person")
	}
	return ok
}

// NamedOn reports whether user is the incident's commander or comms
// person: naming someone to a role lets them act on that incident.
func (a *Access) NamedOn(ctx context.Context, id, user string) bool {
	inc, err := a.incidents.Current(ctx, id)
	if err != nil {
		return false
	}
	return (inc.Commander != nil && inc.Commander.ID == user) || (inc.Comms != nil && inc.Comms.ID == user)
}

// LeadOf is who leads the incident: its commander, else whoever
// acknowledged it, else whoever opened it.
func (a *Access) LeadOf(ctx context.Context, id string) (incident.Person, bool) {
	inc, err := a.incidents.Current(ctx, id)
	if err != nil {
		return incident.Person{}, false
	}
	if inc.Commander != nil {
		return *inc.Commander, true
	}
	return inc.Lead(), true
}

// RolesOf names the roles user holds on open incidents other than
// except ("comms of INC-2"): what they may act on instead.
func (a *Access) RolesOf(ctx context.Context, user, except string) []string {
	open, err := a.incidents.ListOpen(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, inc := range open {
		if inc.ID == except {
			continue
		}
		switch {
		case inc.Commander != nil && inc.Commander.ID == user:
			out = append(out, incident.RoleCommander+" of "+inc.ID)
		case inc.Comms != nil && inc.Comms.ID == user:
			out = append(out, incident.RoleComms+" of "+inc.ID)
		case a.OnLadder(ctx, inc.ID, user):
			out = append(out, "on the escalation ladder of "+inc.ID)
		}
	}
	return out
}

// AllowedApprover refuses whoever may not approve.
func (a *Access) AllowedApprover(ctx context.Context, r Req) bool {
	ok, err := a.approvers.Allowed(ctx, r.Who.ID)
	if ok {
		return true
	}
	r.SetOutcome("refused: not an approver")
	msg := fmt.Sprintf(":no_entry: Only approvers may approve (%s). Nothing was done.", a.approvers.Named(ctx))
	if err != nil {
		msg = ":no_entry: Could not confirm you are an approver (Slack user groups did not answer). Nothing was done."
	}
	a.ReplyText(ctx, r, msg)
	return false
}
