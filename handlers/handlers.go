// Package handlers sits between Slack and the domain: it parses a command
// or click, checks who may do it, calls the incident store, renders the
// reply and turns errors into sentences.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/response"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// Store is what handlers need of the incident store.
type Store interface {
	Open(ctx context.Context, p incident.OpenParams) (*incident.Incident, error)
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
	Get(ctx context.Context, id string) (*incident.Incident, error)
	Current(ctx context.Context, id string) (*incident.Incident, error)
	ListOpen(ctx context.Context) ([]*incident.Incident, error)
	ListRecent(ctx context.Context, n int) ([]*incident.Incident, error)
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	MarkStale(ctx context.Context, id string) error
	Stale(ctx context.Context) ([]string, error)
	ClearStale(ctx context.Context, id string) error
}

// Slack is what handlers need of the outbound Slack API.
type Slack interface {
	Post(ctx context.Context, channel, threadTS string, m bot.Msg) (string, error)
	Update(ctx context.Context, channel, ts string, m bot.Msg) error
	Reply(ctx context.Context, to bot.ReplyTo, m bot.Msg) error
	Upload(ctx context.Context, channel, threadTS, filename, title, content, comment string) error
	OpenDM(ctx context.Context, user string) (string, error)
}

// Observer counts commands and approvals (metrics).
type Observer interface {
	Command(subcommand, outcome string)
	Approval(outcome string)
}

// Auditor is what handlers need of the audit log.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry)
	Recent(ctx context.Context, incident string, n int) ([]audit.Entry, error)
}

// Escalator is what handlers need of the escalation engine.
type Escalator interface {
	Start(ctx context.Context, inc *incident.Incident, l escalation.Ladder) error
	Stop(ctx context.Context, id, reason, by string) error
	Escalate(ctx context.Context, id string) (escalation.Rung, error)
	Get(ctx context.Context, id string) (*escalation.State, error)
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

	resync       Resyncer
	checkWebhook func(ctx context.Context) resync.CheckResult
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
}

// New wires the handlers.
func New(d Deps) *Handlers {
	h := &Handlers{store: d.Store, slack: d.Slack, pub: d.Publisher, opener: d.Opener, rb: d.Runbook, auth: d.Auth, channel: d.Channel, log: d.Log, now: d.Now,
		esc: d.Esc, ladder: d.Ladder, contacts: d.Contacts,
		clerk: d.Clerk, approvals: d.Approvals, executor: d.Executor, approvers: d.Approvers, bypass: d.Bypass, bypassMax: d.BypassMax,
		watch: d.Watch, diagTargets: d.DiagnoseTargets, checkInput: d.Check, resync: d.Resync, checkWebhook: d.CheckWebhook, audit: d.Audit, observe: d.Observe}
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
	name      string // subcommand or action, for logs
	outcome   *string
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
	r.setOutcome("refused: not a responder")
	msg := fmt.Sprintf(":no_entry: Only incident responders may use `%s` (responders: %s). Nothing changed.", r.name, h.auth.Describe())
	if err != nil {
		h.log.WithError(err).Warn("responder check failed")
		msg = fmt.Sprintf(":no_entry: Could not confirm you are an incident responder (Slack user groups did not answer), so `%s` was refused. Nothing changed.", r.name)
	}
	h.replyText(ctx, r, msg)
	return false
}

// target picks the incident a command is about: the given ID, or the only
// open one. fallbackRecent lets report commands use the latest incident
// when none is open.
func (h *Handlers) target(ctx context.Context, p Parsed, fallbackRecent bool) (string, string, error) {
	if p.ID != "" {
		return p.ID, "", nil
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
		Problem: fmt.Sprintf("%d incidents are open: %s. Say which one, e.g. `/clerk-incident %s %s`.", len(open), strings.Join(ids, ", "), p.Sub.Name, open[len(open)-1].ID),
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
	inc, err := h.store.Update(ctx, id, m)
	if err != nil {
		h.fail(ctx, r, withID(err, id))
		return nil
	}
	h.pub.Refresh(ctx, inc)
	if threadLine != "" {
		h.pub.Thread(ctx, inc, threadLine)
	}
	if r.isCommand && confirm != "" {
		h.replyText(ctx, r, ":white_check_mark: "+confirm)
	}
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

func (h *Handlers) open(ctx context.Context, r req, p Parsed) {
	if len(p.Args) == 0 {
		h.fail(ctx, r, &UsageError{Problem: "Say which kind of incident: outage, webhook, security or performance.", Usage: p.Sub.Usage})
		return
	}
	cat, ok := incident.ParseCategory(p.Args[0])
	if !ok {
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not an incident category; use outage, webhook, security or performance.", p.Args[0]), Usage: p.Sub.Usage})
		return
	}
	_, rest := splitWord(p.Rest)
	var sev incident.Severity
	if w, after := splitWord(rest); w != "" {
		if s, ok := incident.ParseSeverity(w); ok {
			sev, rest = s, after
		} else if len(w) == 2 && (w[0] == 'P' || w[0] == 'p') {
			h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a severity; use P1, P2 or P3.", w), Usage: p.Sub.Usage})
			return
		}
	}
	h.openIncident(ctx, r, cat, sev, publish.OneLine(rest), false)
}

func (h *Handlers) openIncident(ctx context.Context, r req, cat incident.Category, sev incident.Severity, title string, force bool) {
	spec := h.rb.Spec(cat)
	if title == "" {
		title = spec.Name
	}
	if n := len([]rune(title)); n > MaxTitle {
		sub, _ := lookupSub("open")
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("The title is %d characters; keep it under %d and add detail with `note`. Nothing changed.", n, MaxTitle), Usage: sub.Usage})
		return
	}
	channel := h.channel
	if channel == "" {
		channel = r.channel
	}
	if channel == "" {
		h.replyText(ctx, r, "Set SLACK_CHANNEL_ID: there is no channel to post the incident card in. Nothing was opened.")
		return
	}
	inc, err := h.opener.Open(ctx, response.Request{OpenParams: incident.OpenParams{Category: cat, Severity: sev, Title: title, By: r.who, Channel: channel, Force: force}})
	var dup *incident.DuplicateError
	if errors.As(err, &dup) {
		if sev == "" {
			sev = incident.DefaultSeverity(cat)
		}
		h.reply(ctx, r, publish.DuplicateMsg(dup.Existing, cat, sev, title, h.now()))
		return
	}
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	switch {
	case inc.CardTS == "" && r.operator:
		h.replyText(ctx, r, fmt.Sprintf("Opened %s. Slack is not used from here: its card is posted in <#%s> once a bot reaches Slack.", inc.ID, channel))
	case inc.CardTS == "":
		h.replyText(ctx, r, fmt.Sprintf(":warning: Opened *%s*, but its card could not be posted in <#%s>. Invite the bot to that channel; the card is posted with the next change.", inc.ID, channel))
	case r.isCommand:
		h.replyText(ctx, r, fmt.Sprintf(":white_check_mark: Opened *%s* in <#%s>. Everything about it goes in the card's thread.", inc.ID, channel))
	}
}

func (h *Handlers) list(ctx context.Context, r req) {
	open, err := h.store.ListOpen(ctx)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	recent, err := h.store.ListRecent(ctx, 10)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if len(recent) > 5 {
		var closed []*incident.Incident
		for _, inc := range recent {
			if !inc.Open() && len(closed) < 5 {
				closed = append(closed, inc)
			}
		}
		recent = closed
	}
	h.reply(ctx, r, publish.ListMsg(open, recent, h.now()))
}

func (h *Handlers) status(ctx context.Context, r req, p Parsed) {
	if p.ID == "" {
		open, err := h.store.ListOpen(ctx)
		if err != nil {
			h.fail(ctx, r, err)
			return
		}
		if len(open) != 1 {
			recent, err := h.store.ListRecent(ctx, 5)
			if err != nil {
				h.fail(ctx, r, err)
				return
			}
			var closed []*incident.Incident
			for _, inc := range recent {
				if !inc.Open() {
					closed = append(closed, inc)
				}
			}
			h.reply(ctx, r, publish.WithLive(publish.ListMsg(open, closed, h.now()), h.live(ctx)))
			return
		}
		p.ID = open[0].ID
	}
	inc, err := h.store.Get(ctx, p.ID)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	h.reply(ctx, r, publish.WithLive(publish.StatusMsg(inc, h.rb.Spec(inc.Category), h.pub.LadderState(ctx, inc.ID), h.now()), h.live(ctx)))
}

func (h *Handlers) ack(ctx context.Context, r req, id string) {
	inc := h.change(ctx, r, id, incident.Ack(r.who), fmt.Sprintf(":raising_hand: %s acknowledged %s and is leading the response.", publish.Who(r.who), id), "You are leading "+id+".")
	if inc == nil {
		return
	}
	h.stopLadder(ctx, inc, "acknowledged", r.who.ID)
	if strings.HasPrefix(r.channel, "D") && !r.isCommand {
		// Acknowledged from a page DM: replace its button with the outcome.
		r.to.Replace = true
		h.replyText(ctx, r, fmt.Sprintf(":white_check_mark: You acknowledged *%s* and are leading it; the escalation has stopped. %s", id, publish.ThreadLink(inc)))
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
	if err := h.slack.Update(ctx, inc.Channel, inc.ChecklistTS, publish.ChecklistMsg(inc, spec)); err != nil {
		h.fail(ctx, r, err)
		return
	}
	done, total := publish.ChecklistProgress(inc, spec)
	h.replyText(ctx, r, fmt.Sprintf("The %s checklist for %s is in the card's thread in <#%s> (%d/%d done).", spec.Checklist.Title, id, inc.Channel, done, total))
}

func (h *Handlers) resolve(ctx context.Context, r req, id, text string) {
	inc := h.change(ctx, r, id, incident.Resolve(r.who, text), "", "")
	if inc == nil {
		return
	}
	h.stopLadder(ctx, inc, "resolved", r.who.ID)
	h.turnOffBypassFor(ctx, inc, r.who)
	line := fmt.Sprintf(":white_check_mark: %s resolved %s after %s.", publish.Who(r.who), id, incident.FormatDuration(inc.Duration(h.now())))
	if text != "" {
		line += " Resolution: " + text
	}
	line += fmt.Sprintf("\nNext: record the root cause, prevention items and lessons, then `/clerk-incident postmortem %s` writes the report.", id)
	h.pub.Thread(ctx, inc, line)
	if r.isCommand {
		h.replyText(ctx, r, ":white_check_mark: "+id+" is resolved.")
	}
}

func (h *Handlers) postmortem(ctx context.Context, r req, id string) {
	inc, err := h.store.Get(ctx, id)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	md, missing := incident.Report(inc, h.now())
	if inc.Channel == "" {
		h.fail(ctx, r, fmt.Errorf("%s has no channel to upload the report to", id))
		return
	}
	name := strings.ToLower(inc.ID) + "-postmortem.md"
	if err := h.slack.Upload(ctx, inc.Channel, inc.CardTS, name, "Incident Report: "+inc.Title, md, "Post-incident report for "+inc.ID); err != nil {
		h.fail(ctx, r, err)
		return
	}
	entry := "Post-incident report written"
	if len(missing) > 0 {
		entry += " (still empty: " + strings.Join(missing, ", ") + ")"
	}
	if _, err := h.store.Update(ctx, id, incident.Record(r.who, entry)); err != nil {
		h.log.WithError(err).Warn("could not record report on timeline")
	}
	if len(missing) == 0 {
		h.replyText(ctx, r, fmt.Sprintf(":page_facing_up: The report for %s is in the thread; every field is filled in.", id))
		return
	}
	how := map[string]string{
		"impact":     "`/clerk-incident impact " + id + " <affected users>`",
		"root cause": "`/clerk-incident rootcause " + id + " <text>`",
		"resolution": "`/clerk-incident resolve " + id + " <resolution>` (or `note` if already resolved)",
		"prevention": "`/clerk-incident prevention " + id + " <action item>`",
		"lessons":    "`/clerk-incident lessons " + id + " <text>`",
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":page_facing_up: The report for %s is in the thread. Still empty:", id)
	for _, m := range missing {
		fmt.Fprintf(&b, "\n• %s: %s", m, how[m])
	}
	b.WriteString("\nRun `postmortem` again after filling them in.")
	h.replyText(ctx, r, b.String())
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
	if !h.allowed(ctx, r) {
		return
	}
	done := parts[2] == "1"
	inc, err := h.store.Update(ctx, id, incident.SetTick(h.rb, r.who, parts[1], done))
	if err != nil {
		h.fail(ctx, r, withID(err, id))
		return
	}
	h.pub.Refresh(ctx, inc)
	// A click on an older copy of the checklist updates that copy too.
	if a.MessageTS != "" && a.MessageTS != inc.ChecklistTS && a.ChannelID == inc.Channel {
		if spec := h.rb.Spec(inc.Category); spec != nil {
			_ = h.slack.Update(ctx, a.ChannelID, a.MessageTS, publish.ChecklistMsg(inc, spec))
		}
	}
}
