package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The checklist family: show the runbook checklist, tick its steps.

// ChecklistStore is what the checklist needs of the incident store.
type ChecklistStore interface {
	Get(ctx context.Context, id string) (*incident.Incident, error)
}

// ChecklistPublisher posts and refreshes the checklist message.
type ChecklistPublisher interface {
	PostChecklist(ctx context.Context, inc *incident.Incident)
	Refresh(ctx context.Context, inc *incident.Incident) error
	Changed(ctx context.Context, inc *incident.Incident) error
}

// Checklist shows and ticks the runbook checklist.
type Checklist struct {
	*Kit
	store  ChecklistStore
	pub    ChecklistPublisher
	rb     *incident.Runbook
	access *Access
}

// NewChecklist wires the family.
func NewChecklist(k *Kit, store ChecklistStore, pub ChecklistPublisher, rb *incident.Runbook, access *Access) *Checklist {
	return &Checklist{Kit: k, store: store, pub: pub, rb: rb, access: access}
}

// Title implements Family.
func (c *Checklist) Title() string { return "Checklist" }

// Commands implements Family.
func (c *Checklist) Commands() []Sub {
	return []Sub{
		{Name: "checklist", Usage: "/clerk-incident checklist [INC-n]", Summary: "show the runbook checklist with tick buttons",
			Run: func(ctx context.Context, r Req, p Parsed) { c.withIncident(ctx, r, p, true, c.checklist) }},
		{Name: "tick", Usage: "/clerk-incident tick [INC-n] <step>", Summary: "tick a checklist step (as its Tick button does)", Who: OnIncident,
			Examples: []string{"/clerk-incident tick INC-3 2", "/clerk-incident tick 4a"},
			Run:      func(ctx context.Context, r Req, p Parsed) { c.tickCmd(ctx, r, p, true) }},
		{Name: "untick", Usage: "/clerk-incident untick [INC-n] <step>", Summary: "untick a checklist step ticked by mistake", Who: OnIncident,
			Examples: []string{"/clerk-incident untick INC-3 2"},
			Run:      func(ctx context.Context, r Req, p Parsed) { c.tickCmd(ctx, r, p, false) }},
	}
}

// tickCmd ticks or unticks one step by its number, as the checklist
// shows it; the incident may be resolved (until its report is final).
func (c *Checklist) tickCmd(ctx context.Context, r Req, p Parsed, done bool) {
	if len(p.Args) != 1 {
		c.Fail(ctx, r, &UsageError{Problem: "Say which step, by its number in the checklist (`2`, `4a`).", Usage: p.Sub.Usage})
		return
	}
	c.withIncident(ctx, r, p, true, func(ctx context.Context, r Req, id string) {
		inc, err := c.incidents.UpdateThen(ctx, id, incident.SetTick(c.rb, r.Who, p.Args[0], done), incident.After{Render: true})
		if err != nil {
			c.Fail(ctx, r, withID(err, id))
			return
		}
		_ = c.pub.Changed(ctx, inc)
		spec := c.rb.Spec(inc.Category)
		st, _ := spec.Checklist.Step(p.Args[0])
		d, total := render.ChecklistProgress(inc, spec)
		verb := "ticked"
		if !done {
			verb = "unticked"
		}
		c.ReplyText(ctx, r, fmt.Sprintf(":white_check_mark: Step %s of %s %s: %s (%d/%d done).", st.ID, id, verb, render.Esc(st.Text), d, total))
	})
}

// Buttons implements Family.
func (c *Checklist) Buttons() []Button {
	return []Button{
		// A read: it spends the clicker's read budget (handlers' throttle).
		{ActionID: render.ActChecklist, Quiet: true, Read: true, Label: "show the checklist", Run: c.withButtonIncident(c.checklist)},
		{ActionID: render.ActTick, Who: OnIncident, Run: c.tick, Label: "tick a step"},
	}
}

// checklist shows the one who asked the checklist at once (an ephemeral
// copy: with its Tick buttons for whoever may tick, read-only otherwise) and
// asks the renderer for a refresh of the thread's copy, coalesced with
// every other change: anyone may run it, so it must not spend a paced
// chat.update of its own.
func (c *Checklist) checklist(ctx context.Context, r Req, id string) {
	inc, err := c.store.Get(ctx, id)
	if err != nil {
		c.Fail(ctx, r, err)
		return
	}
	spec := c.rb.Spec(inc.Category)
	if spec == nil {
		c.ReplyText(ctx, r, fmt.Sprintf("%s (%s) has no runbook checklist.", id, inc.Category))
		return
	}
	if r.Operator {
		// The break-glass CLI: the checklist itself, its buttons shown as
		// the commands that do the same; Slack's copy catches up later.
		c.Reply(ctx, r, render.ChecklistMsg(inc, spec))
		return
	}
	if inc.ChecklistTS == "" || inc.CardTS == "" {
		c.pub.PostChecklist(ctx, inc)
		return
	}
	m := render.ChecklistMsg(inc, spec)
	if ok := c.access == nil || r.Operator; !ok {
		// Someone on the incident's ladder may tick it too.
		if ok, _ = c.access.Responder(ctx, r.Who.ID); !ok && !c.access.OnLadder(ctx, id, r.Who.ID) {
			m = render.ChecklistReadOnly(inc, spec)
		}
	}
	done, total := render.ChecklistProgress(inc, spec)
	m.Text = fmt.Sprintf("The %s checklist for %s is in the card's thread in <#%s> (%d/%d done).", spec.Checklist.Title, id, inc.Channel, done, total)
	c.Reply(ctx, r, m)
	_ = c.pub.Refresh(ctx, inc)
}

func (c *Checklist) tick(ctx context.Context, r Req, a bot.Action) {
	parts := strings.Split(a.Value, "|")
	if len(parts) != 3 || (parts[2] != "0" && parts[2] != "1") {
		c.ReplyText(ctx, r, "That checklist button's data is not valid; nothing changed.")
		return
	}
	id, ok := incident.ParseID(parts[0])
	if !ok {
		c.ReplyText(ctx, r, "That checklist button does not name a valid incident; nothing changed.")
		return
	}
	done := parts[2] == "1"
	inc, err := c.incidents.UpdateThen(ctx, id, incident.SetTick(c.rb, r.Who, parts[1], done), incident.After{Render: true})
	if err != nil {
		c.Fail(ctx, r, withID(err, id))
		return
	}
	_ = c.pub.Changed(ctx, inc)
	// A click on another copy of the checklist (an older one, or the
	// ephemeral one `checklist` showed) replaces that copy through the
	// click's response_url: no paced chat.update, and it works for an
	// ephemeral message, which chat.update cannot reach.
	if a.MessageTS != "" && a.MessageTS != inc.ChecklistTS && a.ResponseURL != "" {
		if spec := c.rb.Spec(inc.Category); spec != nil {
			c.Reply(ctx, Req{To: bot.ReplyTo{ResponseURL: a.ResponseURL, Replace: true}, Name: r.Name}, render.ChecklistMsg(inc, spec))
		}
	}
}
