package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/sirupsen/logrus"
)

// The bypass family: the emergency auth bypass, on (after approval), off, status.

// BypassOn carries out an approved emergency bypass.
type BypassOn struct {
	Bypass Bypass // nil when not configured
	Pub    *publish.Publisher
	Now    func() time.Time
	Log    logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (b BypassOn) CarryOut(ctx context.Context, ar *approval.Request) string {
	if b.Bypass == nil {
		return ":x: The bypass is not configured; nothing was done."
	}
	if cur, err := b.Bypass.Get(ctx); err == nil && cur.Enabled && cur.Incident != ar.Incident {
		return fmt.Sprintf(":x: A bypass for %s is already on until %s; nothing was done.", cur.Incident, publish.SlackDate(cur.ExpiresAt))
	}
	st := bypass.State{ExpiresAt: b.Now().UTC().Add(ar.Duration).Truncate(time.Second), Incident: ar.Incident, Reason: ar.Reason,
		RequestedBy: ar.RequestedBy.ID, ApprovedBy: ar.DecidedBy.ID}
	if err := b.Bypass.On(ctx, st); err != nil {
		msg, _ := Sentence(err)
		return ":x: The bypass could not be turned on: " + msg
	}
	b.Log.WithField("incident", ar.Incident).WithField("expires_at", st.ExpiresAt).Warn("emergency auth bypass ON")
	b.Pub.System(ctx, "bot", "bypass on", "until "+st.ExpiresAt.Format(time.RFC3339)+" approved by "+ar.DecidedBy.ID, ar.Incident)
	b.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepEnableBypass, "bypass on")
	return fmt.Sprintf(":rotating_light: *Emergency auth bypass is ON* until %s (%s). Apps reading `GET /v1/bypass` let users in without Clerk. It ends by itself; `/clerk-incident bypass off` ends it now.",
		publish.SlackDate(st.ExpiresAt), publish.ShortDuration(ar.Duration))
}

// Bypass is what handlers need of the bypass store.
type Bypass interface {
	On(ctx context.Context, st bypass.State) error
	Off(ctx context.Context) (bypass.State, bool, error)
	Get(ctx context.Context) (bypass.State, error)
}

// BypassExtend carries out an approved extension of the bypass.
type BypassExtend struct {
	Bypass Bypass // nil when not configured
	Max    time.Duration
	Now    func() time.Time
	Log    logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (b BypassExtend) CarryOut(ctx context.Context, ar *approval.Request) string {
	if b.Bypass == nil {
		return ":x: The bypass is not configured; nothing was done."
	}
	cur, err := b.Bypass.Get(ctx)
	if err != nil {
		msg, _ := Sentence(err)
		return ":x: The bypass could not be read: " + msg
	}
	if !cur.Enabled || cur.Incident != ar.Incident {
		return ":x: The bypass this extension was for is no longer on; nothing was done."
	}
	until := cur.ExpiresAt.Add(ar.Duration)
	if limit := b.Now().UTC().Add(b.Max).Truncate(time.Second); until.After(limit) {
		until = limit
	}
	cur.ExpiresAt = until
	cur.ApprovedBy = ar.DecidedBy.ID
	if err := b.Bypass.On(ctx, cur); err != nil {
		msg, _ := Sentence(err)
		return ":x: The bypass could not be extended: " + msg
	}
	b.Log.WithField("incident", ar.Incident).WithField("expires_at", until).Warn("emergency auth bypass extended")
	return fmt.Sprintf(":rotating_light: *Emergency auth bypass extended* until %s. `/clerk-incident bypass off` ends it now.", publish.SlackDate(until))
}
