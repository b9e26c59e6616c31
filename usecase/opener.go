// Package usecase holds the use cases of incident response that span
// several domains: opening an incident (store, card, checklist, ladder),
// whoever asks for it: a responder's command, the status poller, or the
// app-health probe.
package usecase

import (
	"context"
	"errors"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// MaxTitle keeps titles inside Slack's header limits.
const MaxTitle = 120

// Store is what opening needs of the incident store.
type Store interface {
	Open(ctx context.Context, p incident.OpenParams) (*incident.Incident, error)
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
}

// Escalator starts ladders.
type Escalator interface {
	Start(ctx context.Context, inc *incident.Incident, l escalation.Ladder) error
}

// Rooms gives a new incident its own channel before its card is posted
// (rooms.Rooms); note, when not empty, says in the thread why it has none.
type Rooms interface {
	Opened(ctx context.Context, inc *incident.Incident) (updated *incident.Incident, note string)
}

// OnCall says who is on call in a schedule now (oncall.Roster).
type OnCall interface {
	OnCall(ctx context.Context, schedule string) (oncall.Member, bool, error)
}

// WithOnCall resolves the ladder's schedules to the person on call as
// each incident opens (contacts.yml `schedules:`).
func WithOnCall(r OnCall) Option { return func(o *Opener) { o.oncall = r } }

// Option adds an optional part to the opener at construction.
type Option func(*Opener)

// WithRooms gives each new incident its own channel (INCIDENT_CHANNELS).
func WithRooms(r Rooms) Option { return func(o *Opener) { o.rooms = r } }

// WithTicks has an alert's open tick the checklist step it performed and
// write its audit entry through t (without it they are not recorded).
func WithTicks(t *Ticks) Option { return func(o *Opener) { o.ticks = t } }

// OpenCards posts a new incident's card and checklist (publish.Cards);
// Channel is the incidents' channel (empty: SLACK_CHANNEL_ID unset).
type OpenCards interface {
	Refresh(ctx context.Context, inc *incident.Incident) error
	PostChecklist(ctx context.Context, inc *incident.Incident)
	Channel() string
}

// OpenThread says a line in an incident's thread (publish.Outbox).
type OpenThread interface {
	Thread(ctx context.Context, inc *incident.Incident, text string)
}

// AlertPoster posts a status alert under a new incident's card
// (publish.Posts).
type AlertPoster interface {
	PostAlert(ctx context.Context, inc *incident.Incident, a statuswatch.Alert)
}

// OpenerOutput is what the opener shows a new incident through: its
// card, its thread and the alert that opened it.
type OpenerOutput struct {
	Cards  OpenCards
	Thread OpenThread
	Alerts AlertPoster
}

// Opener opens incidents. Esc and Ladder are nil without a contacts file.
type Opener struct {
	rooms  Rooms
	store  Store
	out    OpenerOutput
	esc    Escalator
	ladder *escalation.Ladder
	log    logrus.FieldLogger
	after  func(ctx context.Context, inc *incident.Incident)
	oncall OnCall // nil: no schedules
	ticks  *Ticks // nil: alert opens tick nothing
}

// NewOpener wires the use case. after, when not nil, runs once a new
// incident's card and checklist are posted and its ladder started (the
// recent-deploy check); it must not hold the caller (start its own work).
func NewOpener(store Store, out OpenerOutput, esc Escalator, ladder *escalation.Ladder, log logrus.FieldLogger, after func(ctx context.Context, inc *incident.Incident), opts ...Option) *Opener {
	if ladder == nil {
		esc = nil
	}
	o := &Opener{store: store, out: out, esc: esc, ladder: ladder, log: log, after: after}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// Request is what a new incident starts from.
type Request struct {
	incident.OpenParams
	Impact string // recorded at once when known (an alert says it)
}

// Open creates the incident, posts its card and checklist and starts the
// escalation ladder. An open incident of the same category comes back as
// *incident.DuplicateError unless Force is set. The ladder starts even
// when Slack refused the card: people are paged by DM, and the card
// catches up with the sweep; cardErr says why Slack refused it.
func (o *Opener) Open(ctx context.Context, r Request) (inc *incident.Incident, cardErr error, err error) {
	inc, err = o.store.Open(ctx, r.OpenParams)
	if err != nil {
		return nil, nil, err
	}
	o.log.WithFields(logrus.Fields{"incident": inc.ID, "category": inc.Category, "severity": inc.Severity, "by": r.By.Plain()}).Info("incident opened")
	if r.Impact != "" {
		if updated, err := o.store.Update(ctx, inc.ID, incident.SetImpact(r.By, r.Impact)); err == nil {
			inc = updated
		}
	}
	var roomNote string
	if o.rooms != nil {
		inc, roomNote = o.rooms.Opened(ctx, inc)
	}
	cardErr = o.out.Cards.Refresh(ctx, inc)
	if roomNote != "" {
		o.out.Thread.Thread(ctx, inc, roomNote)
	}
	if inc.CardTS != "" {
		o.out.Cards.PostChecklist(ctx, inc)
	}
	o.StartLadder(ctx, inc)
	if o.after != nil {
		o.after(ctx, inc)
	}
	return inc, cardErr, nil
}

// StartLadder starts paging for an incident (new, or escalated by hand
// before it had a ladder).
func (o *Opener) StartLadder(ctx context.Context, inc *incident.Incident) {
	if o.esc == nil {
		return
	}
	if err := o.esc.Start(ctx, inc, o.frozen(ctx, inc)); err != nil {
		o.log.WithError(err).WithField("incident", inc.ID).Error("could not start escalation")
		o.out.Thread.Thread(ctx, inc, ":warning: The escalation ladder could not be started; page people by hand. The error was logged.")
	}
}

// frozen is the ladder with each schedule resolved to the one person on
// call in it now; the incident keeps that person when the rotation moves.
func (o *Opener) frozen(ctx context.Context, inc *incident.Incident) escalation.Ladder {
	if o.oncall == nil {
		return *o.ladder
	}
	l, errs := o.ladder.Frozen(ctx, func(ctx context.Context, name string) (string, string, bool, error) {
		m, ok, err := o.oncall.OnCall(ctx, name)
		return m.SlackID, m.Phone, ok, err
	})
	for _, err := range errs {
		o.log.WithError(err).WithField("incident", inc.ID).Warn("on-call overrides unreadable: paging the rotation's own person")
	}
	return l
}

// HasLadder reports whether a ladder is configured.
func (o *Opener) HasLadder() bool { return o.esc != nil }

// OpenAlert implements statuswatch.Opener: it opens an incident for a
// confirmed alert (or attaches the alert to an open one of the same
// category), posts the alert to the channel and starts the ladder.
func (o *Opener) OpenAlert(ctx context.Context, a statuswatch.Alert) (string, error) {
	channel := o.out.Cards.Channel()
	if channel == "" {
		return "", apperr.New(apperr.SlackChannel, "SLACK_CHANNEL_ID is not set, so there is no channel for auto-opened incidents")
	}
	by, what := incident.Person{Name: "status poller"}, "Status alert"
	if a.By != "" {
		by, what = incident.Person{Name: a.By}, "Alert from "+a.By
	}
	link := a.Link
	if a.Source != incident.SourceAlert {
		link = "" // the status page's link is in the alert message
	}
	inc, _, err := o.Open(ctx, Request{OpenParams: incident.OpenParams{Category: a.Category, Severity: a.Severity,
		Title: render.Truncate(a.Title, MaxTitle), By: by, Channel: channel, Detected: a.Detected, Source: a.Source, Link: link}, Impact: a.Impact})
	var dup *incident.DuplicateError
	if errors.As(err, &dup) {
		inc = dup.Existing
		_, _ = o.store.Update(ctx, inc.ID, incident.Record(by, what+" attached: "+a.Title))
		o.out.Thread.Thread(ctx, inc, render.AlertJoinedText(a, inc))
		if a.By == "" && o.ticks != nil {
			o.ticks.AutoTick(ctx, inc.ID, by, incident.StepConfirmOutage, "the status poller")
		}
		return inc.ID, nil
	}
	if err != nil {
		return "", err
	}
	o.out.Alerts.PostAlert(ctx, inc, a)
	if o.ticks != nil {
		if a.By == "" {
			o.ticks.AutoTick(ctx, inc.ID, by, incident.StepConfirmOutage, "the status poller")
		}
		o.ticks.System(ctx, by.Name, "open", a.Title, inc.ID)
	}
	return inc.ID, nil
}
