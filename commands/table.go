// Package commands holds the command families of /clerk-incident: each
// family is a small type with only what it uses, and gives its rows of
// the command and button tables. Parsing, dispatch, authorization, audit
// and help stay in handlers, which runs the rows.
package commands

import (
	"context"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
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
	// OnRota changes an on-call schedule: a responder, or a member of an
	// on-call schedule (the command checks it is the one they belong to).
	OnRota
)

// Limits that keep text inside Slack's block limits.
const (
	MaxTitle = 120
	MaxText  = 2500
)

// Sub is one subcommand of /clerk-incident: a row of the command table.
// help, the parser's usage lines, the authorization check and the audit
// log all derive from these rows, so a new command is one row and one
// method in its family's file.
type Sub struct {
	Name    string
	Usage   string
	Summary string
	// Detail is the longer explanation `help <name>` shows.
	Detail string
	// Examples are whole commands as a user types them, for `help <name>`.
	Examples []string
	// Family is the help group the row is listed under; the table fills
	// it in from the families.
	Family string
	Who    Who
	// ReadForms are first arguments that make the command a read
	// (`bypass status`): anyone may run them and they are not audited.
	ReadForms []string
	// NoID: the command is about no one incident; an INC-n is an error.
	NoID bool
	// Personal: the reply shows personal data (IPs, e-mails, phones), so
	// Slack guests are refused it whatever SLACK_RESPONDERS says.
	Personal bool
	Run      func(ctx context.Context, r Req, p Parsed)

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
	// Read buttons spend the clicker's read budget, as read commands do.
	Read bool
	// Personal buttons show personal data: never to Slack guests.
	Personal bool
	Run      func(ctx context.Context, r Req, a bot.Action)

	// Label is the action as the person saw it ("resolve", "tick a
	// step"), for refusals: the action_id is internal.
	Label string
}

// Family is a group of commands under one title in help, with the buttons
// its messages carry.
type Family interface {
	Title() string
	Commands() []Sub
	Buttons() []Button
}

// Parsed is a command line split into its parts.
type Parsed struct {
	Sub  Sub
	ID   string   // INC-n if given
	Verb string   // the verb word (one of Sub.Verbs), lower-cased; "" when none
	Args []string // words after the subcommand, the ID taken out
	Rest string   // the raw text after the subcommand, the ID taken out, spacing kept
	// Channel is where the command was typed (set by dispatch, not
	// parsed): in an incident's own channel it names that incident.
	Channel string
}

// Form is the first word after the subcommand (and ID), lower-cased:
// `bypass on`, `resync status`; "" when there is none.
func (p Parsed) Form() string {
	if len(p.Args) == 0 {
		return ""
	}
	return strings.ToLower(p.Args[0])
}

// WithID is the command as typed with id where the ID goes: right after
// the verb words (`/clerk-incident bypass on INC-2 30m`), so the "say
// which one" example is a whole command. Long or multi-line text is
// elided.
func (p Parsed) WithID(id string) string {
	parts := []string{"/clerk-incident", p.Sub.Name}
	args := p.Args
	if p.Verb != "" && len(args) > 0 {
		parts, args = append(parts, p.Verb), args[1:]
	}
	parts = append(parts, id)
	if tail := strings.Join(args, " "); tail != "" {
		if len([]rune(tail)) > 60 || strings.ContainsAny(tail, "`\n") || strings.ContainsRune(strings.TrimSpace(p.Rest), '\n') {
			tail = "…"
		}
		parts = append(parts, tail)
	}
	return strings.Join(parts, " ")
}

// Req is who asked, and where to answer them.
type Req struct {
	Who       incident.Person
	Channel   string
	To        bot.ReplyTo
	IsCommand bool
	Operator  bool   // break-glass CLI
	Origin    string // the CLI's OS user, host and process ID
	Name      string // subcommand or action, for logs
	What      string // a button's action as the person saw it ("resolve"), for refusals
	Outcome   *string
	// Incident is the incident the command turned out to be about (no
	// INC-n typed: the only open one, or the channel's own), for the audit.
	Incident *string
}

// SetIncident notes the incident the request acted on, for the audit log.
func (r Req) SetIncident(id string) {
	if r.Incident != nil && *r.Incident == "" {
		*r.Incident = id
	}
}

// SetOutcome notes how the request ended, for the audit log.
func (r Req) SetOutcome(s string) {
	if r.Outcome != nil && *r.Outcome == "ok" {
		*r.Outcome = s
	}
}

// SplitWord is the first word of s and the rest, trimmed.
func SplitWord(s string) (string, string) {
	s = strings.TrimLeft(s, " \t\n")
	i := strings.IndexAny(s, " \t\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i+1:])
}

// rowNamed is the row of subs called name.
func rowNamed(subs []Sub, name string) Sub {
	for _, s := range subs {
		if s.Name == name {
			return s
		}
	}
	return Sub{Name: name}
}
