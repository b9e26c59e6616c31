package usecase

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// TickStore changes an incident and queues its card's refresh in the
// same transaction (incident.Store).
type TickStore interface {
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
}

// AuditRecorder records what the bot did by itself (audit.Log).
type AuditRecorder interface {
	Record(ctx context.Context, e audit.Entry)
}

// Ticks ticks the checklist step an action performed, writes the bot's own
// timeline entries and records in the audit log what it did by itself. It changes the incident once, through incident, with
// the card's refresh queued in the same write; the renderer shows it.
type Ticks struct {
	store TickStore
	rb    *incident.Runbook
	audit AuditRecorder // nil: nothing recorded
	log   logrus.FieldLogger
}

// NewTicks builds the use case; audit may be nil.
func NewTicks(store TickStore, rb *incident.Runbook, audit AuditRecorder, log logrus.FieldLogger) *Ticks {
	return &Ticks{store: store, rb: rb, audit: audit, log: log}
}

// AutoTick ticks the checklist step an action just performed (one of the
// incident.Step… phrases), as done by who through what. A step already
// ticked, or one the category lacks, is left as it is.
func (t *Ticks) AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string) {
	if incidentID == "" {
		return
	}
	_, err := t.store.UpdateThen(ctx, incidentID, incident.AutoTick(t.rb, who, step, what), incident.After{Render: true})
	if err != nil && !errors.Is(err, incident.ErrNoChange) {
		t.log.WithError(err).WithField("incident", incidentID).WithField("step", step).Warn("could not tick the step the action performed")
	}
}

// Record writes a timeline entry (a note of the poller, the bypass or a
// resync, in words that read outside Slack).
func (t *Ticks) Record(ctx context.Context, incidentID string, who incident.Person, entry string) error {
	if _, err := t.store.UpdateThen(ctx, incidentID, incident.Record(who, entry), incident.After{}); err != nil {
		return fmt.Errorf("record on the timeline of %s: %w", incidentID, err)
	}
	return nil
}

// RecordLine writes a timeline entry and queues its thread line in the
// same write, so the thread says what the timeline keeps (a page, an
// unanswered call); the caller wakes the line poster.
func (t *Ticks) RecordLine(ctx context.Context, incidentID string, who incident.Person, entry, line string) error {
	if _, err := t.store.UpdateThen(ctx, incidentID, incident.Record(who, entry), incident.After{Line: line}); err != nil {
		return fmt.Errorf("record on the timeline of %s: %w", incidentID, err)
	}
	return nil
}

// System writes an audit entry for something the bot did by itself.
func (t *Ticks) System(ctx context.Context, actor, action, detail, incidentID string) {
	if t.audit == nil {
		return
	}
	t.audit.Record(context.WithoutCancel(ctx), audit.Entry{Actor: actor, Action: action, Detail: render.Truncate(render.OneLine(detail), 300), Incident: incidentID, Outcome: "ok"})
}
