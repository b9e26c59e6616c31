package handlers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// table is the command and button tables: the families' rows, help first.
type table struct {
	subs    []commands.Sub
	buttons map[string]commands.Button
}

// newTable gathers the families' rows in help order, each under its
// family's title, with its examples and detail; help (nil when the
// table is only read) runs the help row.
func newTable(fams []commands.Family, help func(ctx context.Context, r commands.Req, p commands.Parsed)) table {
	t := table{buttons: map[string]commands.Button{}}
	for i, f := range fams {
		rows := f.Commands()
		if i == 0 {
			rows = append([]commands.Sub{helpRow(help)}, rows...)
		}
		for _, s := range rows {
			s.Family = f.Title()
			if s.Examples == nil {
				s.Examples = commandHelp[s.Name].examples
			}
			if s.Detail == "" {
				s.Detail = commandHelp[s.Name].detail
			}
			t.subs = append(t.subs, s)
		}
		for _, b := range f.Buttons() {
			t.buttons[b.ActionID] = b
		}
	}
	return t
}

// helpRow is `help`, listed first under the first family.
func helpRow(run func(ctx context.Context, r commands.Req, p commands.Parsed)) commands.Sub {
	return commands.Sub{Name: "help", Usage: "/clerk-incident help [command]", Summary: "list every command, or show one in full with examples", NoID: true,
		Run: run}
}

func (t table) lookup(name string) (commands.Sub, bool) {
	for _, s := range t.subs {
		if s.Name == name {
			return s, true
		}
	}
	return commands.Sub{}, false
}

// unwired is the table of the families without dependencies, for help
// and parsing outside a running bot.
func unwired() table { return newTable(commands.Unwired(), nil) }

// Subcommands is the public contract of /clerk-incident, in help order:
// one family after another.
func Subcommands() []commands.Sub { return unwired().subs }

// Buttons is every button the bot posts, by action_id.
func Buttons() map[string]commands.Button { return unwired().buttons }

func lookupSub(name string) (commands.Sub, bool) { return unwired().lookup(name) }

// roleOf is who may run this parsed command.
func roleOf(p commands.Parsed) commands.Who {
	if len(p.Sub.ReadForms) > 0 && slices.Contains(p.Sub.ReadForms, p.Form()) {
		return commands.Anyone
	}
	return p.Sub.Who
}

// Command handles /clerk-incident.
func (h *Handlers) Command(ctx context.Context, c bot.Command) { h.Run(ctx, c) }

// Run handles /clerk-incident and says how it ended, as audited: "ok",
// "refused: …" or "failed: …" (the break-glass CLI's exit status).
func (h *Handlers) Run(ctx context.Context, c bot.Command) (outcome string) {
	ctx = incident.WithReads(ctx) // a change reuses what the command read
	ctx = interactive(ctx)
	outcome, target := "ok", ""
	r := commands.Req{Who: incident.Person{ID: c.UserID, Name: c.UserName}, Channel: c.ChannelID,
		To: bot.ReplyTo{ResponseURL: c.ResponseURL, Channel: c.ChannelID, User: c.UserID}, IsCommand: true, Operator: c.Operator, Origin: c.Origin,
		Outcome: &outcome, Incident: &target}
	r.Who = h.person(ctx, r.Who)
	p, err := h.table.parse(c.Text)
	if err != nil {
		r.Name = "parse"
		h.kit.Fail(ctx, r, err)
		return outcome
	}
	r.Name = p.Sub.Name
	p.Channel = c.ChannelID
	who := roleOf(p)
	defer func() {
		if h.observe != nil {
			h.observe.Command(p.Sub.Name, outcomeClass(outcome))
		}
		if who != commands.Anyone {
			h.record(ctx, r, p.Sub.Name, render.Truncate(render.OneLine(c.Text), 300), cmp.Or(p.ID, target), outcome)
		}
	}()
	// The incident a ladder contact is checked against is the one the
	// command then acts on: it is pinned, so an incident opened meanwhile
	// cannot change it.
	scope := func() string {
		if p.Sub.NoID {
			return ""
		}
		id, _, err := h.kit.Target(ctx, p, false)
		if err != nil {
			return ""
		}
		p.ID = id
		return id
	}
	if !h.authorized(ctx, r, who, scope) {
		return outcome
	}
	if who == commands.Anyone && !h.readAllowed(ctx, r) {
		return outcome
	}
	if p.Sub.Personal && !h.notGuest(ctx, r, "`"+p.Sub.Name+"`") {
		return outcome
	}
	p.Sub.Run(ctx, r, p)
	return outcome
}

// Action handles button clicks. The value is untrusted input.
func (h *Handlers) Action(ctx context.Context, a bot.Action) {
	ctx = incident.WithReads(ctx)
	ctx = interactive(ctx)
	outcome := "ok"
	r := commands.Req{Who: incident.Person{ID: a.UserID, Name: a.UserName}, Channel: a.ChannelID,
		To: bot.ReplyTo{ResponseURL: a.ResponseURL, Channel: a.ChannelID, User: a.UserID}, Name: a.ActionID, Outcome: &outcome}
	r.Who = h.person(ctx, r.Who)
	b, ok := h.table.buttons[a.ActionID]
	if !ok {
		h.kit.ReplyText(ctx, r, "That button is not one this bot knows; nothing changed.")
		return
	}
	r.What = b.Label
	if !b.Quiet {
		defer h.auditClick(ctx, r, a, &outcome)
	}
	scope := func() string {
		id, _ := incident.ParseID(strings.SplitN(a.Value, "|", 2)[0])
		return id
	}
	if !h.authorized(ctx, r, b.Who, scope) {
		return
	}
	if b.Read && !h.readAllowed(ctx, r) {
		return
	}
	if b.Personal && !h.notGuest(ctx, r, "*"+render.Capitalize(b.Label)+"*") {
		return
	}
	b.Run(ctx, r, a)
}

// auditClick counts and audits a click once it has run.
func (h *Handlers) auditClick(ctx context.Context, r commands.Req, a bot.Action, outcome *string) {
	if h.observe != nil {
		h.observe.Command("button "+a.ActionID, outcomeClass(*outcome))
	}
	id, _ := incident.ParseID(strings.SplitN(a.Value, "|", 2)[0])
	if id == "" && approval.ValidID(a.Value) && h.approvals != nil {
		// An approval click belongs to its request's incident, so
		// `audit INC-n` shows approvals and refusals alike.
		if ar, err := h.approvals.Get(context.WithoutCancel(ctx), a.Value); err == nil {
			id = ar.Incident
		}
	}
	h.record(ctx, r, "button "+a.ActionID, render.Truncate(a.Value, 300), id, *outcome)
}

// authorized checks the caller against the role, and tells them when not.
// scope names the incident the request acts on ("" when none); it is
// read only for OnIncident and a caller who is not a responder.
func (h *Handlers) authorized(ctx context.Context, r commands.Req, who commands.Who, scope func() string) bool {
	switch {
	case who == commands.Anyone || r.Operator:
		return true
	case who == commands.Approver:
		return h.access.AllowedApprover(ctx, r)
	case who == commands.Decider:
		if ok, _ := h.access.Approver(ctx, r.Who.ID); ok {
			return true
		}
	case who == commands.OnIncident:
		ok, err := h.auth.Allowed(ctx, r.Who.ID)
		if ok {
			return true
		}
		id := scope()
		if id != "" && (h.access.OnLadder(ctx, id, r.Who.ID) || h.access.NamedOn(ctx, id, r.Who.ID)) {
			return true
		}
		h.refuseOn(ctx, r, err, id)
		return false
	case who == commands.OnRota:
		ok, err := h.auth.Allowed(ctx, r.Who.ID)
		if ok || h.access.OnRota(r.Who.ID) {
			return true
		}
		h.refuse(ctx, r, err)
		return false
	}
	return h.allowed(ctx, r)
}

func (h *Handlers) allowed(ctx context.Context, r commands.Req) bool {
	if r.Operator {
		return true
	}
	ok, err := h.auth.Allowed(ctx, r.Who.ID)
	if ok {
		return true
	}
	h.refuse(ctx, r, err)
	return false
}

// refuse tells a non-responder that nothing changed (err: the responder
// check itself failed).
func (h *Handlers) refuse(ctx context.Context, r commands.Req, err error) {
	h.refuseOn(ctx, r, err, "")
}

// refuseOn refuses an action on incident id ("" for none): besides the
// responders, it names who leads that incident (someone to ask), and
// tells someone named on another incident that their rights are that
// incident's.
func (h *Handlers) refuseOn(ctx context.Context, r commands.Req, err error, id string) {
	r.SetOutcome("refused: not a responder")
	// People are told what they tried in their words: the command they
	// typed, or the button as they saw it, never its action_id.
	what := "use `" + r.Name + "`"
	if !r.IsCommand {
		what = r.What
		if what == "" {
			what = "do that"
		}
	}
	msg := fmt.Sprintf(":no_entry: Only incident responders may %s (responders: %s). Nothing changed.", what, h.auth.Named(ctx))
	if id != "" {
		msg += fmt.Sprintf(" On %s, whoever its escalation ladder pages and its commander and comms person may too.", id)
		if lead, ok := h.access.LeadOf(ctx, id); ok && lead.ID != r.Who.ID {
			msg += fmt.Sprintf(" Ask %s, who leads %s.", render.Who(lead), id)
		}
	}
	if roles := h.access.RolesOf(ctx, r.Who.ID, id); len(roles) > 0 {
		which := "that incident"
		if len(roles) > 1 {
			which = "those incidents"
		}
		msg += fmt.Sprintf(" You are %s: that lets you act on %s only, not on %s.", strings.Join(roles, " and "), which, cmp.Or(id, "this"))
	}
	if err != nil {
		h.log.WithError(err).Warn("responder check failed")
		msg = fmt.Sprintf(":no_entry: Could not confirm you are an incident responder (Slack user groups did not answer), so you may not %s yet. Nothing changed.", what)
	}
	h.kit.ReplyText(ctx, r, msg)
}
