// Package handlers sits between Slack and the domain: it parses a command
// or click, checks who may do it against the command table, calls the
// domain, and answers; the publisher renders what changed.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/reminder"
	"github.com/clerk-incident-bot/clerk-incident-bot/response"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
	"github.com/sirupsen/logrus"
)

// Store is what handlers need of the incident store.
type Store interface {
	Open(ctx context.Context, p incident.OpenParams) (*incident.Incident, error)
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
	AddAffected(ctx context.Context, id string, users []incident.AffectedUser, what string, by incident.Person) error
	RemoveAffected(ctx context.Context, id string, userIDs []string) (int, error)
	Affected(ctx context.Context, id string) ([]incident.AffectedUser, error)
	SetDraft(ctx context.Context, id string, d incident.Draft) error
	GetDraft(ctx context.Context, id string) (incident.Draft, error)
	ClearDraft(ctx context.Context, id string) (bool, error)
	EditDraft(ctx context.Context, id string, fn func(d *incident.Draft) error) (incident.Draft, error)
	Get(ctx context.Context, id string) (*incident.Incident, error)
	Current(ctx context.Context, id string) (*incident.Incident, error)
	ListOpen(ctx context.Context) ([]*incident.Incident, error)
	ListRecent(ctx context.Context, n int) ([]*incident.Incident, error)
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	MarkStale(ctx context.Context, id string) error
	Stale(ctx context.Context) ([]string, error)
	ClearStale(ctx context.Context, id string) error
	Lease(name, owner string) *redisx.Lease
}

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

// Limits that keep text inside Slack's block limits.
const (
	MaxTitle = 120
	MaxText  = 2500
)

// Handlers implements bot.Handler.
type Handlers struct {
	store    Store
	slack    Slack
	pub      *publish.Publisher
	opener   *response.Opener
	rb       *incident.Runbook
	auth     *Authorizer
	channel  string
	log      logrus.FieldLogger
	now      func() time.Time
	esc      Escalator
	contacts *escalation.Contacts
	problems []escalation.Problem
	ladder   *escalation.Ladder
	audit    Auditor
	observe  Observer

	clerk     Clerk
	approvals Approvals
	executor  *approval.Executor
	approvers *Authorizer
	bypass    Bypass
	bypassMax time.Duration

	watch       StatusSource
	diagTargets []probe.DiagnoseTarget
	checkInput  probe.CheckInput

	resync        Resyncer
	webhooks      WebhookPause
	checkWebhook  func(ctx context.Context) resync.CheckResult
	updateEvery   reminder.Intervals
	modals        Modals
	statusPage    StatusPage
	updateChannel string
	readLimit     ReadLimiter
	app           AppDeps
	rooms         RoomLookup
}

// Deps lists what the handlers need. Escalator, Ladder and Contacts are
// nil when no contacts file is loaded.
type Deps struct {
	Store     Store
	Slack     Slack
	Publisher *publish.Publisher
	Opener    *response.Opener
	Runbook   *incident.Runbook
	Auth      *Authorizer
	Channel   string // SLACK_CHANNEL_ID, may be empty
	Log       logrus.FieldLogger
	Now       func() time.Time
	Esc       Escalator
	Ladder    *escalation.Ladder
	Contacts  *escalation.Contacts
	// ContactProblems are the contacts whose Slack IDs failed the start-up check.
	ContactProblems []escalation.Problem
	// Clerk is nil when CLERK_SECRET_KEY is unset.
	Clerk     Clerk
	Approvals Approvals
	Executor  *approval.Executor
	Approvers *Authorizer // default: the responders
	Bypass    Bypass
	BypassMax time.Duration
	// Watch is nil when neither the status page nor the app is watched.
	Watch           StatusSource
	DiagnoseTargets []probe.DiagnoseTarget
	Check           probe.CheckInput
	Audit           Auditor
	Observe         Observer
	// Resync and CheckWebhook are nil without APP_WEBHOOK_URL/SECRET.
	Resync       Resyncer
	CheckWebhook func(ctx context.Context) resync.CheckResult
	// Webhooks is the app's webhook pause (nil: the command says so).
	Webhooks WebhookPause
	// UpdateEvery is UPDATE_REMINDER: how often each severity is updated.
	UpdateEvery reminder.Intervals
	// Modals opens Slack modals (nil: Edit explains it cannot).
	Modals Modals
	// StatusPage is nil without STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID.
	StatusPage StatusPage
	// UpdateChannel is STATUS_UPDATE_CHANNEL, the announcement channel.
	UpdateChannel string
	// ReadLimit throttles read commands per user (nil: not throttled).
	ReadLimit ReadLimiter
	// App is the app's deployment on Vercel (deploys, env check, rollback).
	App AppDeps
	// Rooms names the incident of an incident channel (nil: INCIDENT_CHANNELS off).
	Rooms RoomLookup
}

// RoomLookup is the incident whose own channel a channel is ("" for none).
type RoomLookup interface {
	IncidentOf(ctx context.Context, channel string) (string, error)
}

// New wires the handlers.
func New(d Deps) *Handlers {
	h := &Handlers{store: d.Store, slack: d.Slack, pub: d.Publisher, opener: d.Opener, rb: d.Runbook, auth: d.Auth, channel: d.Channel, log: d.Log, now: d.Now,
		esc: d.Esc, ladder: d.Ladder, contacts: d.Contacts, problems: d.ContactProblems,
		clerk: d.Clerk, approvals: d.Approvals, executor: d.Executor, approvers: d.Approvers, bypass: d.Bypass, bypassMax: d.BypassMax,
		watch: d.Watch, diagTargets: d.DiagnoseTargets, checkInput: d.Check, resync: d.Resync, checkWebhook: d.CheckWebhook, audit: d.Audit, observe: d.Observe, updateEvery: d.UpdateEvery,
		modals: d.Modals, statusPage: d.StatusPage, updateChannel: d.UpdateChannel, readLimit: d.ReadLimit, app: d.App}
	h.webhooks = d.Webhooks
	h.rooms = d.Rooms
	if h.approvers == nil {
		h.approvers = h.auth
	}
	if h.bypassMax == 0 {
		h.bypassMax = 2 * time.Hour
	}
	return h
}

// req is who asked, and where to answer them.
type req struct {
	who       incident.Person
	channel   string
	to        bot.ReplyTo
	isCommand bool
	operator  bool   // break-glass CLI
	origin    string // the CLI's OS user, host and process ID
	name      string // subcommand or action, for logs
	what      string // a button's action as the person saw it ("resolve"), for refusals
	outcome   *string
}

// person gives who the one name they go by on every incident (their
// Slack display name, else their contacts.yml name), whatever the payload
// called them.
func (h *Handlers) person(ctx context.Context, who incident.Person) incident.Person {
	if h.pub == nil {
		return who
	}
	return h.pub.Person(ctx, who)
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

// setOutcome notes how the request ended, for the audit log.
func (r req) setOutcome(s string) {
	if r.outcome != nil && *r.outcome == "ok" {
		*r.outcome = s
	}
}

func (h *Handlers) reply(ctx context.Context, r req, m bot.Msg) {
	if err := h.slack.Reply(ctx, r.to, m); err != nil {
		h.log.WithError(err).WithField("op", r.name).Warn("could not reply to user")
	}
}

func (h *Handlers) replyText(ctx context.Context, r req, s string) { h.reply(ctx, r, publish.Text(s)) }

// fail tells the user what went wrong, in one sentence, and logs the detail.
func (h *Handlers) fail(ctx context.Context, r req, err error) {
	msg, internal := Sentence(err)
	r.setOutcome("failed: " + publish.Truncate(publish.OneLine(bot.Plain(msg)), 200))
	if internal {
		h.log.WithError(err).WithField("op", r.name).WithField("user", r.who.ID).Error("command failed")
	}
	h.replyText(ctx, r, msg)
}

func (h *Handlers) allowed(ctx context.Context, r req) bool {
	if r.operator {
		return true
	}
	ok, err := h.auth.Allowed(ctx, r.who.ID)
	if ok {
		return true
	}
	h.refuse(ctx, r, err)
	return false
}

// refuse tells a non-responder that nothing changed (err: the responder
// check itself failed).
func (h *Handlers) refuse(ctx context.Context, r req, err error) {
	r.setOutcome("refused: not a responder")
	// People are told what they tried in their words: the command they
	// typed, or the button as they saw it, never its action_id.
	what := "use `" + r.name + "`"
	if !r.isCommand {
		what = r.what
		if what == "" {
			what = "do that"
		}
	}
	msg := fmt.Sprintf(":no_entry: Only incident responders may %s (responders: %s). Nothing changed.", what, h.auth.Named(ctx))
	if err != nil {
		h.log.WithError(err).Warn("responder check failed")
		msg = fmt.Sprintf(":no_entry: Could not confirm you are an incident responder (Slack user groups did not answer), so you may not %s yet. Nothing changed.", what)
	}
	h.replyText(ctx, r, msg)
}

// target picks the incident a command is about: the given ID, the
// incident whose own channel it was typed in, or the only open one.
// fallbackRecent lets report commands use the latest incident when none
// is open.
func (h *Handlers) target(ctx context.Context, p Parsed, fallbackRecent bool) (string, string, error) {
	if p.ID != "" {
		return p.ID, "", nil
	}
	if h.rooms != nil && p.Channel != "" {
		if id, err := h.rooms.IncidentOf(ctx, p.Channel); err == nil && id != "" {
			return id, "", nil
		}
	}
	open, err := h.store.ListOpen(ctx)
	if err != nil {
		return "", "", err
	}
	switch len(open) {
	case 1:
		return open[0].ID, "", nil
	case 0:
		if fallbackRecent {
			recent, err := h.store.ListRecent(ctx, 1)
			if err != nil {
				return "", "", err
			}
			if len(recent) == 1 {
				return recent[0].ID, fmt.Sprintf("No incident is open, so this applies to the latest one, %s.", recent[0].ID), nil
			}
		}
		return "", "", &UsageError{Problem: "No incident is open.", Usage: p.Sub.Usage}
	}
	var ids []string
	for _, inc := range open {
		ids = append(ids, fmt.Sprintf("%s (%s)", inc.ID, inc.Category))
	}
	return "", "", &UsageError{
		Problem: fmt.Sprintf("%d incidents are open: %s. Say which one, e.g. `%s`.", len(open), strings.Join(ids, ", "), p.WithID(open[len(open)-1].ID)),
		Usage:   p.Sub.Usage,
	}
}

func (h *Handlers) withIncident(ctx context.Context, r req, p Parsed, fallbackRecent bool, fn func(ctx context.Context, r req, id string)) {
	id, note, err := h.target(ctx, p, fallbackRecent)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if note != "" {
		h.replyText(ctx, r, note)
	}
	fn(ctx, r, id)
}

// withText checks the free text after the ID (required or optional).
func (h *Handlers) withText(ctx context.Context, r req, p Parsed, required bool, fn func(ctx context.Context, r req, id, text string)) {
	h.withTextOn(ctx, r, p, required, false, fn)
}

func (h *Handlers) withTextOn(ctx context.Context, r req, p Parsed, required, fallbackRecent bool, fn func(ctx context.Context, r req, id, text string)) {
	text := strings.TrimSpace(p.Rest)
	if required && text == "" {
		h.fail(ctx, r, &UsageError{Problem: "Some text is needed.", Usage: p.Sub.Usage})
		return
	}
	if n := len([]rune(text)); n > MaxText {
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("That text is %d characters; the limit is %d. Nothing changed.", n, MaxText), Usage: p.Sub.Usage})
		return
	}
	h.withIncident(ctx, r, p, fallbackRecent, func(ctx context.Context, r req, id string) { fn(ctx, r, id, text) })
}

// change applies a mutation, then updates the card, the checklist message
// and the thread; the caller gets a short confirmation when they typed.
func (h *Handlers) change(ctx context.Context, r req, id string, m incident.Mutation, threadLine, confirm string) *incident.Incident {
	// The thread line and the card refresh are queued in the change's own
	// transaction: a crash after it cannot lose them.
	inc, err := h.store.UpdateThen(ctx, id, m, incident.After{Line: threadLine, Render: true})
	if err != nil {
		h.fail(ctx, r, withID(err, id))
		return nil
	}
	// The person who typed hears first; the renderer and the line poster
	// follow.
	if r.isCommand && confirm != "" {
		h.replyText(ctx, r, ":white_check_mark: "+confirm)
	}
	_ = h.pub.Changed(ctx, inc)
	return inc
}

// withID attaches the incident ID for the sentence.
func withID(err error, id string) error {
	if errors.Is(err, incident.ErrNotFound) {
		return err
	}
	return &idError{id: id, err: err}
}

type idError struct {
	id  string
	err error
}

func (e *idError) Error() string { return e.id + ": " + e.err.Error() }

func (e *idError) Unwrap() error { return e.err }
