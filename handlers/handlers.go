// Package handlers sits between Slack and the command families: it
// parses a command or click, checks who may do it against the command
// table, runs the family's row, audits it and answers; the families
// (package commands) call the domain, the publisher renders what changed.
package handlers

import (
	"context"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Slack is what handlers need of Slack: answering the person who asked.
// Everything posted for others goes through the publisher.
type Slack interface {
	Reply(ctx context.Context, to bot.ReplyTo, m bot.Msg) error
}

// Observer counts commands and approvals (metrics).
type Observer interface {
	Command(subcommand, outcome string)
	Approval(outcome string)
}

// Responders decides who is a responder and names them (Authorizer).
type Responders interface {
	Allowed(ctx context.Context, user string) (bool, error)
	Named(ctx context.Context) string
}

// ApprovalGetter reads an approval request, for the incident its click
// is audited under.
type ApprovalGetter interface {
	Get(ctx context.Context, id string) (*approval.Request, error)
}

// ViewChecker checks a modal submission before Slack's ack (the drafts).
type ViewChecker interface {
	CheckView(ctx context.Context, a bot.Action) map[string]string
}

// Handlers implements bot.Handler.
type Handlers struct {
	table     table
	kit       *commands.Kit
	access    *commands.Access
	auth      Responders
	people    commands.People
	approvals ApprovalGetter
	audit     Auditor
	observe   Observer
	readLimit ReadLimiter
	views     ViewChecker
	guests    GuestCheck
	log       logrus.FieldLogger
}

// GuestCheck tells Slack guests from members (Guests).
type GuestCheck interface {
	Guest(ctx context.Context, user string) (bool, error)
}

// Deps lists what the handlers need beside the families.
type Deps struct {
	// Families are the command families in help order (commands.Unwired's).
	Families []commands.Family
	Kit      *commands.Kit
	Access   *commands.Access
	Auth     Responders
	// People names a person as they go by everywhere (nil: as given).
	People commands.People
	// Approvals is nil when approvals are not configured.
	Approvals ApprovalGetter
	Audit     Auditor
	Observe   Observer
	// ReadLimit throttles read commands per user (nil: not throttled).
	ReadLimit ReadLimiter
	// Views checks modal submissions (nil: not checked).
	Views ViewChecker
	// Guests keeps personal data from Slack guests (nil: not checked,
	// as at the CLI).
	Guests GuestCheck
	Log    logrus.FieldLogger
}

// New wires the handlers.
func New(d Deps) *Handlers {
	h := &Handlers{kit: d.Kit, access: d.Access, auth: d.Auth, people: d.People, approvals: d.Approvals, audit: d.Audit,
		observe: d.Observe, readLimit: d.ReadLimit, views: d.Views, guests: d.Guests, log: d.Log}
	h.table = newTable(d.Families, h.help)
	return h
}

// Subcommands is this handler's command table, in help order.
func (h *Handlers) Subcommands() []commands.Sub { return h.table.subs }

// CheckView implements bot.ViewChecker.
func (h *Handlers) CheckView(ctx context.Context, a bot.Action) map[string]string {
	if h.views == nil {
		return nil
	}
	return h.views.CheckView(ctx, a)
}

// person gives who the one name they go by on every incident (their
// Slack display name, else their contacts.yml name), whatever the payload
// called them.
func (h *Handlers) person(ctx context.Context, who incident.Person) incident.Person {
	if h.people == nil {
		return who
	}
	return h.people.Person(ctx, who)
}

// outcomeClass folds an audit outcome into a metric label.
func outcomeClass(o string) string {
	switch {
	case strings.HasPrefix(o, "refused"):
		return "refused"
	case strings.HasPrefix(o, "failed"):
		return "failed"
	}
	return "ok"
}

// Sentence turns any error into what the user reads (commands.Sentence).
func Sentence(err error) (msg string, internal bool) { return commands.Sentence(err) }
