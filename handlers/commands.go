package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// Who may run a command or click a button.
type Who int

// The roles, from SLACK_RESPONDERS and SLACK_APPROVERS.
const (
	Anyone    Who = iota // reading commands
	Responder            // changes state
	Approver             // approves a second-person request
	Decider              // approves or denies: an approver or a responder (the requester withdraws)
	// OnIncident acts on one incident: a responder, or anyone named on
	// that incident's frozen escalation ladder (paged people may ack,
	// note, tick... the incident they were paged for, and no other), or
	// its commander or comms person.
	OnIncident
)

// Sub is one subcommand of /clerk-incident: a row of the command table.
// help, the parser's usage lines, the authorization check and the audit
// log all derive from these rows, so a new command is one row and one
// function in its family's file.
type Sub struct {
	Name    string
	Usage   string
	Summary string
	// Detail is the longer explanation `help <name>` shows.
	Detail string
	// Examples are whole commands as a user types them, for `help <name>`.
	Examples []string
	// Family is the help group the row is listed under; Subcommands
	// fills it in from families.
	Family string
	Who    Who
	// ReadForms are first arguments that make the command a read
	// (`bypass status`): anyone may run them and they are not audited.
	ReadForms []string
	// NoID: the command is about no one incident; an INC-n is an error.
	NoID bool
	Run  func(h *Handlers, ctx context.Context, r req, p Parsed)

	// Where Parse finds the INC-n: right after the name or after one of
	// Verbs (`webhook check`); among word arguments anywhere, unless Text
	// (free text follows the verb) or past TextAfter (`--` reason). An ID
	// with one of NoIDVerbs ("" for the bare name) is an error.
	Verbs, NoIDVerbs []string
	Text             bool
	TextAfter        string
}

// Button is a row of the button table, keyed by action_id.
type Button struct {
	ActionID string
	Who      Who
	// Quiet buttons only show something; they are not audited.
	Quiet bool
	Run   func(h *Handlers, ctx context.Context, r req, a bot.Action)

	// Label is the action as the person saw it ("resolve", "tick a
	// step"), for refusals: the action_id is internal.
	Label string
}

// family is a group of commands under one title in help.
type family struct {
	title string
	subs  []Sub
}

// families are the command families in help order; a new family is one
// line here and its rows appear in help on their own.
func families() []family {
	return []family{
		{"Lifecycle", lifecycleCommands()},
		{"Checklist", checklistCommands()},
		{"Escalation", escalationCommands()},
		{"Security", securityCommands()},
		{"Investigation", investigationCommands()},
		{"Roles and updates", rolesCommands()},
		{"Bypass", bypassCommands()},
		{"Approvals", approvalCommands()},
		{"Watching Clerk", watchingCommands()},
		{"Data sync", dataSyncCommands()},
		{"Webhook processing", webhooksCommands()},
		{"The app (Vercel)", appCommands()},
		{"Audit", auditCommands()},
	}
}

// Subcommands is the public contract of /clerk-incident, in help order:
// one family after another.
func Subcommands() []Sub {
	var out []Sub
	for _, f := range families() {
		for _, s := range f.subs {
			s.Family = f.title
			if s.Examples == nil {
				s.Examples = commandHelp[s.Name].examples
			}
			if s.Detail == "" {
				s.Detail = commandHelp[s.Name].detail
			}
			out = append(out, s)
		}
	}
	return out
}

// Buttons is every button the bot posts, by action_id.
func Buttons() map[string]Button {
	out := map[string]Button{}
	for _, b := range slices.Concat(lifecycleButtons(), checklistButtons(), escalationButtons(), approvalButtons(), investigationButtons(), rolesButtons()) {
		out[b.ActionID] = b
	}
	return out
}

func lookupSub(name string) (Sub, bool) {
	for _, s := range Subcommands() {
		if s.Name == name {
			return s, true
		}
	}
	return Sub{}, false
}

// role is who may run this parsed command.
func (p Parsed) role() Who {
	if len(p.Sub.ReadForms) > 0 && slices.Contains(p.Sub.ReadForms, p.Form()) {
		return Anyone
	}
	return p.Sub.Who
}

// Command handles /clerk-incident.
func (h *Handlers) Command(ctx context.Context, c bot.Command) {
	ctx = incident.WithReads(ctx) // a change reuses what the command read
	ctx = interactive(ctx)
	outcome := "ok"
	r := req{who: incident.Person{ID: c.UserID, Name: c.UserName}, channel: c.ChannelID,
		to: bot.ReplyTo{ResponseURL: c.ResponseURL, Channel: c.ChannelID, User: c.UserID}, isCommand: true, operator: c.Operator, origin: c.Origin, outcome: &outcome}
	r.who = h.person(ctx, r.who)
	p, err := Parse(c.Text)
	if err != nil {
		r.name = "parse"
		h.fail(ctx, r, err)
		return
	}
	r.name = p.Sub.Name
	p.Channel = c.ChannelID
	who := p.role()
	defer func() {
		if h.observe != nil {
			h.observe.Command(p.Sub.Name, outcomeClass(outcome))
		}
		if who != Anyone {
			h.record(ctx, r, p.Sub.Name, publish.Truncate(publish.OneLine(c.Text), 300), p.ID, outcome)
		}
	}()
	// The incident a ladder contact is checked against is the one the
	// command then acts on: it is pinned, so an incident opened meanwhile
	// cannot change it.
	scope := func() string {
		if p.Sub.NoID {
			return ""
		}
		id, _, err := h.target(ctx, p, false)
		if err != nil {
			return ""
		}
		p.ID = id
		return id
	}
	if !h.authorized(ctx, r, who, scope) {
		return
	}
	if who == Anyone && !h.readAllowed(ctx, r) {
		return
	}
	p.Sub.Run(h, ctx, r, p)
}

// Action handles button clicks. The value is untrusted input.
func (h *Handlers) Action(ctx context.Context, a bot.Action) {
	ctx = incident.WithReads(ctx)
	ctx = interactive(ctx)
	outcome := "ok"
	r := req{who: incident.Person{ID: a.UserID, Name: a.UserName}, channel: a.ChannelID,
		to: bot.ReplyTo{ResponseURL: a.ResponseURL, Channel: a.ChannelID, User: a.UserID}, name: a.ActionID, outcome: &outcome}
	r.who = h.person(ctx, r.who)
	b, ok := Buttons()[a.ActionID]
	if !ok {
		h.replyText(ctx, r, "That button is not one this bot knows; nothing changed.")
		return
	}
	r.what = b.Label
	if !b.Quiet {
		defer func() {
			if h.observe != nil {
				h.observe.Command("button "+a.ActionID, outcomeClass(outcome))
			}
			id, _ := incident.ParseID(strings.SplitN(a.Value, "|", 2)[0])
			if id == "" && approval.ValidID(a.Value) && h.approvals != nil {
				// An approval click belongs to its request's incident, so
				// `audit INC-n` shows approvals and refusals alike.
				if ar, err := h.approvals.Get(context.WithoutCancel(ctx), a.Value); err == nil {
					id = ar.Incident
				}
			}
			h.record(ctx, r, "button "+a.ActionID, publish.Truncate(a.Value, 300), id, outcome)
		}()
	}
	scope := func() string {
		id, _ := incident.ParseID(strings.SplitN(a.Value, "|", 2)[0])
		return id
	}
	if !h.authorized(ctx, r, b.Who, scope) {
		return
	}
	b.Run(h, ctx, r, a)
}

// authorized checks the caller against the role, and tells them when not.
// scope names the incident the request acts on ("" when none); it is
// read only for OnIncident and a caller who is not a responder.
func (h *Handlers) authorized(ctx context.Context, r req, who Who, scope func() string) bool {
	switch {
	case who == Anyone || r.operator:
		return true
	case who == Approver:
		return h.allowedApprover(ctx, r)
	case who == Decider:
		if ok, _ := h.approvers.Allowed(ctx, r.who.ID); ok {
			return true
		}
	case who == OnIncident:
		ok, err := h.auth.Allowed(ctx, r.who.ID)
		if ok {
			return true
		}
		if id := scope(); id != "" && (h.onLadder(ctx, id, r.who.ID) || h.namedOn(ctx, id, r.who.ID)) {
			return true
		}
		h.refuse(ctx, r, err)
		return false
	}
	return h.allowed(ctx, r)
}

// onLadder reports whether user is named on the incident's frozen
// escalation ladder, directly or through a user group.
func (h *Handlers) onLadder(ctx context.Context, id, user string) bool {
	if h.esc == nil {
		return false
	}
	st, err := h.esc.Get(ctx, id)
	if err != nil {
		if !errors.Is(err, escalation.ErrNoLadder) {
			h.log.WithError(err).WithField("incident", id).Warn("could not read the escalation ladder to check a paged person")
		}
		return false
	}
	var ids []string
	for _, rung := range st.Ladder.Rungs {
		ids = append(ids, rung.Targets...)
	}
	ok, err := h.auth.Among(ctx, user, ids)
	if err != nil && !ok {
		h.log.WithError(err).WithField("incident", id).Warn("could not expand a ladder group to check a paged person")
	}
	return ok
}

// allowedApprover refuses whoever may not approve.
func (h *Handlers) allowedApprover(ctx context.Context, r req) bool {
	ok, err := h.approvers.Allowed(ctx, r.who.ID)
	if ok {
		return true
	}
	r.setOutcome("refused: not an approver")
	msg := fmt.Sprintf(":no_entry: Only approvers may approve (%s). Nothing was done.", h.approvers.Named(ctx))
	if err != nil {
		msg = ":no_entry: Could not confirm you are an approver (Slack user groups did not answer). Nothing was done."
	}
	h.replyText(ctx, r, msg)
	return false
}

// withButtonIncident runs fn with the incident a button names.
func withButtonIncident(fn func(h *Handlers, ctx context.Context, r req, id string)) func(h *Handlers, ctx context.Context, r req, a bot.Action) {
	return func(h *Handlers, ctx context.Context, r req, a bot.Action) {
		id, ok := incident.ParseID(a.Value)
		if !ok {
			h.replyText(ctx, r, "That button does not name a valid incident; nothing changed.")
			return
		}
		fn(h, ctx, r, id)
	}
}
