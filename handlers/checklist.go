package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
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
		{ActionID: render.ActChecklist, Quiet: true, Label: "show the checklist", Run: withButtonIncident(func(h *Handlers, ctx context.Context, r req, id string) {
			if h.readAllowed(ctx, r) {
				h.checklist(ctx, r, id)
			}
		})},
		{ActionID: render.ActTick, Who: OnIncident, Run: (*Handlers).tick, Label: "tick a step"},
	}
}

// checklist shows the one who asked the checklist at once (an ephemeral
// copy: with its Tick buttons for whoever may tick, read-only otherwise) and
// asks the renderer for a refresh of the thread's copy, coalesced with
// every other change: anyone may run it, so it must not spend a paced
// chat.update of its own.
func (h *Handlers) checklist(ctx context.Context, r req, id string) {
	inc, err := h.store.Get(ctx, id)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	spec := h.rb.Spec(inc.Category)
	if spec == nil {
		h.replyText(ctx, r, fmt.Sprintf("%s (%s) has no runbook checklist.", id, inc.Category))
		return
	}
	if inc.ChecklistTS == "" || inc.CardTS == "" {
		h.pub.Cards.PostChecklist(ctx, inc)
		return
	}
	m := render.ChecklistMsg(inc, spec)
	if ok := h.auth == nil || r.operator; !ok {
		// Someone on the incident's ladder may tick it too.
		if ok, _ = h.auth.Allowed(ctx, r.who.ID); !ok && !h.onLadder(ctx, id, r.who.ID) {
			m = render.ChecklistReadOnly(inc, spec)
		}
	}
	done, total := render.ChecklistProgress(inc, spec)
	m.Text = fmt.Sprintf("The %s checklist for %s is in the card's thread in <#%s> (%d/%d done).", spec.Checklist.Title, id, inc.Channel, done, total)
	h.reply(ctx, r, m)
	_ = h.pub.Cards.Refresh(ctx, inc)
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
	_ = h.pub.Cards.Changed(ctx, inc)
	// A click on another copy of the checklist (an older one, or the
	// ephemeral one `checklist` showed) replaces that copy through the
	// click's response_url: no paced chat.update, and it works for an
	// ephemeral message, which chat.update cannot reach.
	if a.MessageTS != "" && a.MessageTS != inc.ChecklistTS && a.ResponseURL != "" {
		if spec := h.rb.Spec(inc.Category); spec != nil {
			h.reply(ctx, req{to: bot.ReplyTo{ResponseURL: a.ResponseURL, Replace: true}, name: r.name}, render.ChecklistMsg(inc, spec))
		}
	}
}
