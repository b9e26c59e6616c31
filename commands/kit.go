package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Replier is what answering the person who asked needs of Slack.
// Everything posted for others goes through the publisher.
type Replier interface {
	Reply(ctx context.Context, to bot.ReplyTo, m bot.Msg) error
}

// Targets is what finding and changing the incident a command is about
// needs of the incident store.
type Targets interface {
	ListOpen(ctx context.Context) ([]*incident.Incident, error)
	ListRecent(ctx context.Context, n int) ([]*incident.Incident, error)
	Current(ctx context.Context, id string) (*incident.Incident, error)
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
}

// Changer refreshes what shows an incident after a change (the publisher).
type Changer interface {
	Changed(ctx context.Context, inc *incident.Incident) error
}

// Kit is what every family shares: answering the person who asked, and
// finding and changing the incident a command is about.
type Kit struct {
	slack     Replier
	incidents Targets
	changed   Changer
	log       logrus.FieldLogger
	now       func() time.Time
	rooms     RoomLookup // nil: INCIDENT_CHANNELS off
}

// RoomLookup is the incident whose own channel a channel is ("" for none).
type RoomLookup interface {
	IncidentOf(ctx context.Context, channel string) (string, error)
}

// NewKit wires the shared part of the families.
func NewKit(slack Replier, incidents Targets, changed Changer, log logrus.FieldLogger, now func() time.Time, rooms RoomLookup) *Kit {
	return &Kit{slack: slack, incidents: incidents, changed: changed, log: log, now: now, rooms: rooms}
}

// Reply answers the person who asked.
func (k *Kit) Reply(ctx context.Context, r Req, m bot.Msg) {
	if err := k.slack.Reply(ctx, r.To, m); err != nil {
		k.log.WithError(err).WithField("op", r.Name).Warn("could not reply to user")
	}
}

// ReplyText answers with text.
func (k *Kit) ReplyText(ctx context.Context, r Req, s string) { k.Reply(ctx, r, render.Text(s)) }

// Fail tells the user what went wrong, in one sentence, and logs the detail.
func (k *Kit) Fail(ctx context.Context, r Req, err error) {
	msg, internal := Sentence(err)
	r.SetOutcome("failed: " + render.Truncate(render.OneLine(bot.Plain(msg)), 200))
	if internal {
		k.log.WithError(err).WithField("op", r.Name).WithField("user", r.Who.ID).Error("command failed")
	}
	k.ReplyText(ctx, r, msg)
}

// Target picks the incident a command is about: the given ID, the
// incident whose own channel it was typed in, or the only open one.
// fallbackRecent lets report commands use the latest incident when none
// is open; note then says so.
func (k *Kit) Target(ctx context.Context, p Parsed, fallbackRecent bool) (id, note string, err error) {
	if p.ID != "" {
		return p.ID, "", nil
	}
	if id := k.roomIncident(ctx, p); id != "" {
		return id, "", nil
	}
	open, err := k.incidents.ListOpen(ctx)
	if err != nil {
		return "", "", err
	}
	switch len(open) {
	case 1:
		return open[0].ID, "", nil
	case 0:
		if fallbackRecent {
			recent, err := k.incidents.ListRecent(ctx, 1)
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
		Problem: fmt.Sprintf("%d incidents are open: %s. Say which one, e.g. `%s`.", len(open), strings.Join(ids, ", "), render.Esc(p.WithID(open[len(open)-1].ID))),
		Usage:   p.Sub.Usage,
	}
}

// roomIncident is the incident whose own channel the command was typed
// in ("" elsewhere, or when INCIDENT_CHANNELS is off).
func (k *Kit) roomIncident(ctx context.Context, p Parsed) string {
	if k.rooms == nil || p.Channel == "" {
		return ""
	}
	id, err := k.rooms.IncidentOf(ctx, p.Channel)
	if err != nil {
		k.log.WithError(err).Warn("could not read which incident the channel is for")
		return ""
	}
	return id
}

func (k *Kit) withIncident(ctx context.Context, r Req, p Parsed, fallbackRecent bool, fn func(ctx context.Context, r Req, id string)) {
	id, note, err := k.Target(ctx, p, fallbackRecent)
	if err != nil {
		k.Fail(ctx, r, err)
		return
	}
	if note != "" {
		k.ReplyText(ctx, r, note)
	}
	r.SetIncident(id)
	fn(ctx, r, id)
}

// withText checks the free text after the ID (required or optional).
func (k *Kit) withText(ctx context.Context, r Req, p Parsed, required bool, fn func(ctx context.Context, r Req, id, text string)) {
	k.withTextOn(ctx, r, p, required, false, fn)
}

func (k *Kit) withTextOn(ctx context.Context, r Req, p Parsed, required, fallbackRecent bool, fn func(ctx context.Context, r Req, id, text string)) {
	text := strings.TrimSpace(p.Rest)
	if required && text == "" {
		k.Fail(ctx, r, &UsageError{Problem: "Some text is needed.", Usage: p.Sub.Usage})
		return
	}
	if n := len([]rune(text)); n > MaxText {
		k.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("That text is %d characters; the limit is %d. Nothing changed.", n, MaxText), Usage: p.Sub.Usage})
		return
	}
	k.withIncident(ctx, r, p, fallbackRecent, func(ctx context.Context, r Req, id string) { fn(ctx, r, id, text) })
}

// change applies a mutation, then updates the card, the checklist message
// and the thread; the caller gets a short confirmation when they typed.
func (k *Kit) change(ctx context.Context, r Req, id string, m incident.Mutation, threadLine, confirm string) *incident.Incident {
	// The thread line and the card refresh are queued in the change's own
	// transaction: a crash after it cannot lose them.
	inc, err := k.incidents.UpdateThen(ctx, id, m, incident.After{Line: threadLine, Render: true})
	if err != nil {
		k.Fail(ctx, r, withID(err, id))
		return nil
	}
	// The person who typed hears first; the renderer and the line poster
	// follow.
	if r.IsCommand && confirm != "" {
		k.ReplyText(ctx, r, ":white_check_mark: "+confirm)
	}
	_ = k.changed.Changed(ctx, inc)
	return inc
}

// optionalIncident is the given or only open incident, or nil when none is
// open; several open without an ID is an error.
func (k *Kit) optionalIncident(ctx context.Context, p Parsed) (*incident.Incident, error) {
	id, _, err := k.Target(ctx, p, false)
	var u *UsageError
	if errors.As(err, &u) && strings.HasPrefix(u.Problem, "No incident is open") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return k.incidents.Current(ctx, id)
}

// withButtonIncident runs fn with the incident a button names.
func (k *Kit) withButtonIncident(fn func(ctx context.Context, r Req, id string)) func(ctx context.Context, r Req, a bot.Action) {
	return func(ctx context.Context, r Req, a bot.Action) {
		id, ok := incident.ParseID(a.Value)
		if !ok {
			k.ReplyText(ctx, r, "That button does not name a valid incident; nothing changed.")
			return
		}
		fn(ctx, r, id)
	}
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

func (i *idError) Error() string { return i.id + ": " + i.err.Error() }

func (i *idError) Unwrap() error { return i.err }
