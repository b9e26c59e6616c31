package usecase

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Bypass is what the bypass doers need of the bypass store.
type Bypass interface {
	On(ctx context.Context, st bypass.State) error
	Get(ctx context.Context) (bypass.State, error)
}

// BypassPub is what turning the bypass on tells: the audit log and the
// checklist.
type BypassPub interface {
	Ticker
	System(ctx context.Context, actor, action, detail, incidentID string)
}

// utc is a time in an outcome's plain sentence (Slack shows Until in the
// reader's time zone).
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// BypassOn carries out an approved emergency bypass.
type BypassOn struct {
	Bypass Bypass // nil when not configured
	Pub    BypassPub
	Now    func() time.Time
	Log    logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (b BypassOn) CarryOut(ctx context.Context, ar *approval.Request) *approval.Outcome {
	if b.Bypass == nil {
		return approval.Failure("The bypass is not configured; nothing was done.")
	}
	if cur, err := b.Bypass.Get(ctx); err == nil && cur.Enabled && cur.Incident != ar.Incident {
		o := approval.Failure("A bypass for %s is already on until %s; nothing was done.", cur.Incident, utc(cur.ExpiresAt))
		o.Until = cur.ExpiresAt
		return o
	}
	st := bypass.State{ExpiresAt: b.Now().UTC().Add(ar.Duration).Truncate(time.Second), Incident: ar.Incident, Reason: ar.Reason,
		RequestedBy: ar.RequestedBy.ID, ApprovedBy: ar.DecidedBy.ID}
	if err := b.Bypass.On(ctx, st); err != nil {
		return approval.Failure("The bypass could not be turned on: %s.", errSentence(b.Log, err))
	}
	b.Log.WithField("incident", ar.Incident).WithField("expires_at", st.ExpiresAt).Warn("emergency auth bypass ON")
	b.Pub.System(ctx, "bot", "bypass on", "until "+st.ExpiresAt.Format(time.RFC3339)+" approved by "+ar.DecidedBy.ID, ar.Incident)
	b.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepEnableBypass, "bypass on")
	return &approval.Outcome{Status: approval.Done, Until: st.ExpiresAt,
		Summary: "Emergency auth bypass is ON until " + utc(st.ExpiresAt) + "; it ends by itself, or with bypass off."}
}

// BypassExtend carries out an approved extension of the bypass.
type BypassExtend struct {
	Bypass Bypass // nil when not configured
	Max    time.Duration
	Now    func() time.Time
	Log    logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (b BypassExtend) CarryOut(ctx context.Context, ar *approval.Request) *approval.Outcome {
	if b.Bypass == nil {
		return approval.Failure("The bypass is not configured; nothing was done.")
	}
	cur, err := b.Bypass.Get(ctx)
	if err != nil {
		return approval.Failure("The bypass could not be read: %s.", errSentence(b.Log, err))
	}
	if !cur.Enabled || cur.Incident != ar.Incident {
		return approval.Failure("The bypass this extension was for is no longer on; nothing was done.")
	}
	until := cur.ExpiresAt.Add(ar.Duration)
	if limit := b.Now().UTC().Add(b.Max).Truncate(time.Second); until.After(limit) {
		until = limit
	}
	cur.ExpiresAt = until
	cur.ApprovedBy = ar.DecidedBy.ID
	if err := b.Bypass.On(ctx, cur); err != nil {
		return approval.Failure("The bypass could not be extended: %s.", errSentence(b.Log, err))
	}
	b.Log.WithField("incident", ar.Incident).WithField("expires_at", until).Warn("emergency auth bypass extended")
	return &approval.Outcome{Status: approval.Done, Until: until, Summary: "Emergency auth bypass extended until " + utc(until) + "."}
}
