package handlers

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

func escalationCommands() []Sub {
	return []Sub{
		{Name: "escalate", Usage: "/clerk-incident escalate [INC-n]", Summary: "page the next escalation level now", Who: OnIncident,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withIncident(ctx, r, p, false, h.escalate) }},
		{Name: "contacts", Usage: "/clerk-incident contacts", Summary: "show the escalation ladder, on-call phones and Clerk support", NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, _ Parsed) {
				// Anyone sees the ladder; phones are for responders. The
				// reply is ephemeral (response_url or chat.postEphemeral).
				responder, _ := h.auth.Allowed(ctx, r.who.ID)
				h.reply(ctx, r, render.ContactsMsg(h.contacts, h.ladder, h.problems, responder || r.operator))
			}},
	}
}

func escalationButtons() []Button {
	return []Button{
		// The Acknowledge button of a page DM acts as the card's.
		{ActionID: render.ActPageAck, Who: OnIncident, Run: withButtonIncident(func(h *Handlers, ctx context.Context, r req, id string) { h.ack(ctx, r, id) }), Label: "acknowledge the page"},
	}
}

func (h *Handlers) stopLadder(ctx context.Context, inc *incident.Incident, reason, by string) {
	if h.esc == nil {
		return
	}
	if err := h.esc.Stop(ctx, inc.ID, reason, by); err != nil {
		// The engine re-reads the incident before paging, so it stops anyway.
		h.log.WithError(err).WithField("incident", inc.ID).Warn("could not stop escalation")
		return
	}
	h.pub.Cards.Refresh(ctx, inc)
}

func (h *Handlers) escalate(ctx context.Context, r req, id string) {
	if h.esc == nil {
		h.replyText(ctx, r, "Escalation is not configured: no contacts file was loaded (CONTACTS_FILE).")
		return
	}
	inc, err := h.store.Current(ctx, id)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if !inc.Open() {
		h.fail(ctx, r, withID(incident.ErrAlreadyResolved, id))
		return
	}
	rung, err := h.esc.Escalate(ctx, id)
	if errors.Is(err, escalation.ErrNoLadder) {
		if h.ladder == nil {
			h.replyText(ctx, r, fmt.Sprintf("%s has no escalation ladder and none is configured.", id))
			return
		}
		h.opener.StartLadder(ctx, inc)
		rung, err = h.esc.Escalate(ctx, id)
	}
	var soon *escalation.TooSoonError
	if errors.As(err, &soon) {
		// A page storm (every escalate past the last level re-pages it) is
		// refused, audited as such, and says when the next one may go.
		// Whole seconds, rounded so that "at" and "in" are never early.
		now := h.now()
		ago := fmt.Sprintf("%d s", now.Sub(soon.Last)/time.Second)
		at := soon.Next.Add(time.Second - 1).Truncate(time.Second)
		r.setOutcome(fmt.Sprintf("refused: level %d was escalated to %s ago", soon.Level, ago))
		h.replyText(ctx, r, fmt.Sprintf(":hourglass: Level %d (%s) of %s was paged by a manual escalation %s ago; the next manual escalation is possible at %s (in %d s). Nothing changed.",
			soon.Level, soon.Name, id, ago, at.UTC().Format("15:04:05 UTC"), (at.Sub(now)+time.Second-1)/time.Second))
		return
	}
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if _, err := h.store.Update(ctx, id, incident.Record(r.who, fmt.Sprintf("Escalation requested: paging level %d (%s) now", rung.Level, rung.Name))); err != nil {
		h.log.WithError(err).Warn("could not record escalation")
	}
	h.replyText(ctx, r, fmt.Sprintf(":rotating_light: Paging level %d (%s) of %s now.", rung.Level, rung.Name, id))
}

// Escalator is what handlers need of the escalation engine.
type Escalator interface {
	Start(ctx context.Context, inc *incident.Incident, l escalation.Ladder) error
	Stop(ctx context.Context, id, reason, by string) error
	Escalate(ctx context.Context, id string) (escalation.Rung, error)
	Get(ctx context.Context, id string) (*escalation.State, error)
}
