package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// The checklist family: show the runbook checklist, tick its steps.

func checklistCommands() []Sub {
	return []Sub{
		{Name: "checklist", Usage: "/clerk-incident checklist [INC-n]", Summary: "show the runbook checklist with tick buttons",
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withIncident(ctx, r, p, false, h.checklist) }},
	}
}

func checklistButtons() []Button {
	return []Button{
		{ActionID: publish.ActChecklist, Quiet: true, Run: withButtonIncident((*Handlers).checklist), Label: "show the checklist"},
		{ActionID: publish.ActTick, Who: OnIncident, Run: (*Handlers).tick, Label: "tick a step"},
	}
}

func (h *Handlers) checklist(ctx context.Context, r req, id string) {
	inc, err := h.store.Get(ctx, id)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	spec := h.rb.Spec(inc.Category)
	if inc.ChecklistTS == "" || inc.CardTS == "" {
		h.pub.PostChecklist(ctx, inc)
		return
	}
	if err := h.pub.UpdateChecklist(ctx, inc, inc.Channel, inc.ChecklistTS); err != nil {
		h.fail(ctx, r, err)
		return
	}
	done, total := publish.ChecklistProgress(inc, spec)
	h.replyText(ctx, r, fmt.Sprintf("The %s checklist for %s is in the card's thread in <#%s> (%d/%d done).", spec.Checklist.Title, id, inc.Channel, done, total))
}

func (h *Handlers) tick(ctx context.Context, r req, a bot.Action) {
	parts := strings.Split(a.Value, "|")
	if len(parts) != 3 || (parts[2] != "0" && parts[2] != "1") {
		h.replyText(ctx, r, "That checklist button's data is not valid; nothing changed.")
		return
	}
	id, ok := incident.ParseID(parts[0])
	if !ok {
		h.replyText(ctx, r, "That checklist button does not name a valid incident; nothing changed.")
		return
	}
	done := parts[2] == "1"
	inc, err := h.store.UpdateThen(ctx, id, incident.SetTick(h.rb, r.who, parts[1], done), incident.After{Render: true})
	if err != nil {
		h.fail(ctx, r, withID(err, id))
		return
	}
	_ = h.pub.Changed(ctx, inc)
	// A click on an older copy of the checklist updates that copy too.
	if a.MessageTS != "" && a.MessageTS != inc.ChecklistTS && a.ChannelID == inc.Channel {
		if spec := h.rb.Spec(inc.Category); spec != nil {
			_ = h.pub.UpdateChecklist(ctx, inc, a.ChannelID, a.MessageTS)
		}
	}
}
