package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

func (h *Handlers) stopLadder(ctx context.Context, inc *incident.Incident, reason, by string) {
	if h.esc == nil {
		return
	}
	if err := h.esc.Stop(ctx, inc.ID, reason, by); err != nil {
		// The engine re-reads the incident before paging, so it stops anyway.
		h.log.WithError(err).WithField("incident", inc.ID).Warn("could not stop escalation")
		return
	}
	h.pub.Refresh(ctx, inc)
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
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if _, err := h.store.Update(ctx, id, incident.Record(r.who, fmt.Sprintf("Escalation requested: paging level %d (%s) now", rung.Level, rung.Name))); err != nil {
		h.log.WithError(err).Warn("could not record escalation")
	}
	h.replyText(ctx, r, fmt.Sprintf(":rotating_light: Paging level %d (%s) of %s now.", rung.Level, rung.Name, id))
}
