package usecase

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The approved changes of Procedure 2 that weaken protection or act on
// many users at once: turning Clerk Protect's rules off, blocking a whole
// e-mail domain, rotating a machine's or OAuth application's secret.

// InstanceGuard is what these doers need of Clerk (clerkops.Client).
type InstanceGuard interface {
	SetProtectRules(ctx context.Context, on bool) (account.Protect, error)
	Block(ctx context.Context, identifier string) (account.Blocked, error)
	RotateMachineKey(ctx context.Context, id string, keep time.Duration) (string, error)
	RotateOAuthSecret(ctx context.Context, id string) (name, secret string, err error)
}

// ProtectOffDoer turns Clerk Protect's rules off once approved.
type ProtectOffDoer struct {
	Clerk InstanceGuard // nil when CLERK_SECRET_KEY is unset
	Log   logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (pr ProtectOffDoer) CarryOut(ctx context.Context, ar *approval.Request) *approval.Outcome {
	if pr.Clerk == nil {
		return approval.Failure("Clerk is not configured; nothing was done.")
	}
	p, err := pr.Clerk.SetProtectRules(ctx, false)
	if err != nil {
		return approval.Failure("Clerk Protect's rules were not turned off: %s.", errSentence(pr.Log, err))
	}
	pr.Log.WithField("approval", ar.ID).WithField("rules_enabled", p.Rules).Info("Clerk Protect rules changed")
	if p.Rules {
		return &approval.Outcome{Status: approval.Unsure, Summary: "Clerk answered that Protect's rules are still on; check the Clerk dashboard."}
	}
	return &approval.Outcome{Status: approval.Done, Summary: fmt.Sprintf("Clerk Protect's rules are off (Clerk answered rules_enabled false, specter_enabled %t). `protect on` turns them back on.", p.Specter)}
}

// BlockDomainDoer puts a whole e-mail domain on Clerk's blocklist once
// approved: no address of it can sign up or sign in any more.
type BlockDomainDoer struct {
	Clerk InstanceGuard
	Pub   Ticker // ticks "Enable additional verification"
	Log   logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (bl BlockDomainDoer) CarryOut(ctx context.Context, ar *approval.Request) *approval.Outcome {
	if bl.Clerk == nil {
		return approval.Failure("Clerk is not configured; nothing was done.")
	}
	if len(ar.Targets) != 1 {
		return approval.Failure("The request names no domain; nothing was done.")
	}
	b, err := bl.Clerk.Block(ctx, ar.Targets[0])
	if err != nil {
		return approval.Failure("%s was not blocked: %s.", ar.Targets[0], errSentence(bl.Log, err))
	}
	if bl.Pub != nil {
		bl.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepExtraVerification, "block "+ar.ID)
	}
	return &approval.Outcome{Status: approval.Done, Summary: fmt.Sprintf("%s is on Clerk's blocklist (%s, %s): its addresses can no longer sign up or sign in. `unblock %s` lifts it.", b.Identifier, b.ID, b.Type, b.Identifier),
		Results: []approval.TargetResult{{Target: b.Identifier, OK: true, Done: "blocked as " + b.ID}}}
}

// SecretTeller hands a new secret to one person, privately (a direct
// message), and never anywhere else.
type SecretTeller interface {
	// CanTell proves the person can be told (their direct message opens)
	// before anything is rotated.
	CanTell(ctx context.Context, user string) error
	TellSecret(ctx context.Context, user string, s render.Secret) error
}

// RotateDoer rotates a machine's secret key or an OAuth application's
// client secret once approved; the new secret goes to the requester's
// direct message only, never into the outcome, the thread or a log.
type RotateDoer struct {
	Clerk   InstanceGuard
	Secrets SecretTeller
	// Once marks a request's rotation as started (incident.Markers): a
	// replica that dies between Clerk's answer and the DM must not have
	// the sweep rotate again, which would end the old key at once.
	Once interface {
		Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	}
	Pub Ticker // ticks "Reset API keys if exposed"
	Now func() time.Time
	Log logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (r RotateDoer) CarryOut(ctx context.Context, ar *approval.Request) *approval.Outcome {
	if r.Clerk == nil {
		return approval.Failure("Clerk is not configured; nothing was done.")
	}
	kind, id := approval.RotateTarget(ar)
	if kind != "machine" && kind != "oauth" {
		return approval.Failure("The request names nothing to rotate; nothing was done.")
	}
	// Rotating a secret nobody can be given would only break the app.
	if err := r.Secrets.CanTell(ctx, ar.RequestedBy.ID); err != nil {
		r.Log.WithError(err).WithField("approval", ar.ID).Warn("cannot reach the requester privately; not rotating")
		return approval.NotDone("Not rotated: the new secret could not be sent to %s privately (their direct message with the bot does not open); nothing was changed.", ar.RequestedBy.Plain())
	}
	if r.Once != nil {
		first, err := r.Once.Once(ctx, "rotate:"+ar.ID, 30*24*time.Hour)
		if err != nil {
			return approval.Failure("Not rotated: %s.", errSentence(r.Log, err))
		}
		if !first {
			return &approval.Outcome{Status: approval.Unsure, Summary: fmt.Sprintf("This rotation was started before and stopped midway (a replica went away); it is not repeated, since a second rotation would end the old key at once. If no new secret reached %s, request the rotation again.", ar.RequestedBy.Plain())}
		}
	}
	sec := render.Secret{Incident: ar.Incident, Request: ar.ID, Kind: kind}
	var what string
	switch kind {
	case "machine":
		value, err := r.Clerk.RotateMachineKey(ctx, id, ar.Duration)
		if err != nil {
			return approval.Failure("The secret key of machine %s was not rotated: %s.", id, errSentence(r.Log, err))
		}
		what = "the secret key of machine " + id
		sec.Value = value
		if ar.Duration > 0 {
			sec.OldUntil = r.Now().Add(ar.Duration).UTC()
		}
	default:
		name, value, err := r.Clerk.RotateOAuthSecret(ctx, id)
		if err != nil {
			return approval.Failure("The client secret of OAuth application %s was not rotated: %s.", id, errSentence(r.Log, err))
		}
		what = "the client secret of OAuth application " + id
		if name != "" {
			what += " (" + name + ")"
		}
		sec.Value = value
	}
	sec.What = what
	r.Log.WithField("approval", ar.ID).WithField("rotated", kind+" "+id).Info("secret rotated")
	out := &approval.Outcome{Status: approval.Done, Until: sec.OldUntil, Results: []approval.TargetResult{{Target: kind + " " + id, OK: true, Done: "rotated"}}}
	if err := r.Secrets.TellSecret(ctx, ar.RequestedBy.ID, sec); err != nil {
		r.Log.WithError(err).WithField("approval", ar.ID).Warn("rotated, but the new secret could not be delivered")
		out.Status = approval.Unsure
		out.Summary = fmt.Sprintf("Rotated %s, but the new secret could not be sent to %s: request the rotation again to get a new one%s.", what, ar.RequestedBy.Plain(), oldKeyWords(sec.OldUntil, kind))
		return out
	}
	out.Summary = fmt.Sprintf("Rotated %s for %s; the new secret is in their direct message with the bot (shown once)%s.", what, ar.RequestedBy.Plain(), oldKeyWords(sec.OldUntil, kind))
	if r.Pub != nil {
		r.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepResetKeys, "rotate "+ar.ID)
	}
	return out
}

// oldKeyWords says until when the old secret works.
func oldKeyWords(until time.Time, kind string) string {
	switch {
	case kind == "oauth":
		return "; the old client secret stopped working at once"
	case until.IsZero():
		return "; the old key stopped working at once"
	}
	return "; the old key works until " + until.Format("15:04 UTC")
}
