package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The escalation family: page the next level now, show the contacts.

const escalationTitle = "Escalation"

// Escalator is what `escalate` needs of the escalation engine.
type Escalator interface {
	Escalate(ctx context.Context, id string) (escalation.Rung, error)
}

// LadderStarter starts an incident's ladder (usecase.Opener).
type LadderStarter interface {
	StartLadder(ctx context.Context, inc *incident.Incident)
}

// Escalation pages the next level of an incident's ladder now.
type Escalation struct {
	*Kit
	esc    Escalator // nil: no contacts file
	opener LadderStarter
	ladder *escalation.Ladder
}

// NewEscalation wires the family; esc is nil without a contacts file.
func NewEscalation(k *Kit, esc Escalator, opener LadderStarter, ladder *escalation.Ladder) *Escalation {
	return &Escalation{Kit: k, esc: esc, opener: opener, ladder: ladder}
}

// Title implements Family.
func (e *Escalation) Title() string { return escalationTitle }

// Commands implements Family.
func (e *Escalation) Commands() []Sub {
	return []Sub{
		{Name: "escalate", Usage: "/clerk-incident escalate [INC-n]", Summary: "page the next escalation level now", Who: OnIncident,
			Run: func(ctx context.Context, r Req, p Parsed) { e.withIncident(ctx, r, p, false, e.escalate) }},
	}
}

// Buttons implements Family.
func (e *Escalation) Buttons() []Button { return nil }

// Contacts shows the escalation ladder and who to call.
type Contacts struct {
	*Kit
	access   *Access
	contacts *escalation.Contacts
	ladder   *escalation.Ladder
	problems []escalation.Problem
}

// NewContacts wires the family; contacts and ladder are nil without a
// contacts file, problems are the contacts whose Slack IDs failed the
// start-up check.
func NewContacts(k *Kit, access *Access, contacts *escalation.Contacts, ladder *escalation.Ladder, problems []escalation.Problem) *Contacts {
	return &Contacts{Kit: k, access: access, contacts: contacts, ladder: ladder, problems: problems}
}

// Title implements Family.
func (c *Contacts) Title() string { return escalationTitle }

// Commands implements Family.
func (c *Contacts) Commands() []Sub {
	return []Sub{
		{Name: "contacts", Usage: "/clerk-incident contacts", Summary: "show the escalation ladder, on-call phones and Clerk support", NoID: true, Personal: true,
			Run: func(ctx context.Context, r Req, _ Parsed) {
				// Anyone sees the ladder; phones are for responders. The
				// reply is ephemeral (response_url or chat.postEphemeral).
				responder, _ := c.access.Responder(ctx, r.Who.ID)
				c.Reply(ctx, r, render.ContactsMsg(c.contacts, c.ladder, c.problems, responder || r.Operator))
			}},
	}
}

// Buttons implements Family.
func (c *Contacts) Buttons() []Button { return nil }

func (e *Escalation) escalate(ctx context.Context, r Req, id string) {
	if e.esc == nil {
		e.ReplyText(ctx, r, "Escalation is not configured: no contacts file was loaded (CONTACTS_FILE).")
		return
	}
	inc, err := e.incidents.Current(ctx, id)
	if err != nil {
		e.Fail(ctx, r, err)
		return
	}
	if !inc.Open() {
		e.Fail(ctx, r, withID(incident.ErrAlreadyResolved, id))
		return
	}
	rung, err := e.esc.Escalate(ctx, id)
	if errors.Is(err, escalation.ErrNoLadder) {
		if e.ladder == nil {
			e.ReplyText(ctx, r, fmt.Sprintf("%s has no escalation ladder and none is configured.", id))
			return
		}
		e.opener.StartLadder(ctx, inc)
		rung, err = e.esc.Escalate(ctx, id)
	}
	var soon *escalation.TooSoonError
	if errors.As(err, &soon) {
		// A page storm (every escalate past the last level re-pages it) is
		// refused, audited as such, and says when the next one may go.
		// Whole seconds, rounded so that "at" and "in" are never early.
		now := e.now()
		ago := fmt.Sprintf("%d s", now.Sub(soon.Last)/time.Second)
		at := soon.Next.Add(time.Second - 1).Truncate(time.Second)
		r.SetOutcome(fmt.Sprintf("refused: level %d was escalated to %s ago", soon.Level, ago))
		e.ReplyText(ctx, r, fmt.Sprintf(":hourglass: Level %d (%s) of %s was paged by a manual escalation %s ago; give them a moment to answer. The next manual escalation (level %d, %s) is possible at %s (in %d s). Nothing changed.",
			soon.Level, soon.Name, id, ago, soon.NextLevel, soon.NextName, at.UTC().Format("15:04:05 UTC"), (at.Sub(now)+time.Second-1)/time.Second))
		return
	}
	if err != nil {
		e.Fail(ctx, r, err)
		return
	}
	if _, err := e.incidents.Update(ctx, id, incident.Record(r.Who, fmt.Sprintf("Escalation requested: paging level %d (%s) now", rung.Level, rung.Name))); err != nil {
		e.log.WithError(err).Warn("could not record escalation")
	}
	e.ReplyText(ctx, r, fmt.Sprintf(":rotating_light: Paging level %d (%s) of %s now.", rung.Level, rung.Name, id))
}
