package usecase

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Clerk is what a lockout needs of the Clerk operations.
type Clerk interface {
	FindUsers(ctx context.Context, refs []string) ([]clerkops.User, []string, error)
	Ban(ctx context.Context, id string) (clerkops.User, error)
	RevokeSessions(ctx context.Context, id string, verify bool) clerkops.RevokeResult
}

// Lockout carries out an approved lockout: ban, then revoke what is left.
type Lockout struct {
	Clerk Clerk  // nil when CLERK_SECRET_KEY is unset
	Pub   Ticker // ticks "lock the accounts"
	// Affected records the accounts locked out on the incident (nil: not kept).
	Affected interface {
		AddAffected(ctx context.Context, id string, users []incident.AffectedUser, what string, by incident.Person) error
	}
	Log logrus.FieldLogger
}

// CarryOut implements approval.Doer: one result per user, failures said
// per user; users not found in Clerk are listed apart.
func (l Lockout) CarryOut(ctx context.Context, ar *approval.Request) *approval.Outcome {
	if l.Clerk == nil {
		return approval.Failure("Clerk is not configured; nothing was done.")
	}
	found, unknown, err := l.Clerk.FindUsers(ctx, ar.Targets)
	if err != nil {
		return approval.Failure("Lockout failed before any ban: %s.", errSentence(l.Log, err))
	}
	out := &approval.Outcome{Status: approval.Failed, Unknown: unknown}
	var locked []incident.AffectedUser
	defer func() {
		if l.Affected != nil && len(locked) > 0 {
			if err := l.Affected.AddAffected(context.WithoutCancel(ctx), ar.Incident, locked, "locked out (banned) by "+ar.ID, ar.RequestedBy); err != nil {
				l.Log.WithError(err).Warn("could not record locked-out users")
			}
		}
	}()
	failed := 0
	for _, u := range found {
		res := approval.TargetResult{Target: u.ID, Name: u.Name}
		if _, err := l.Clerk.Ban(ctx, u.ID); err != nil {
			res.Error = err.Error()
			out.Results = append(out.Results, res)
			failed++
			continue
		}
		locked = append(locked, incident.AffectedUser{ID: u.ID, Email: u.Email, Name: u.Name})
		rr := l.Clerk.RevokeSessions(ctx, u.ID, true)
		switch {
		case rr.Err != nil:
			res.Done, res.Error = "banned", "session check failed: "+rr.Err.Error()
		case rr.Left > 0:
			res.Done, res.Error = "banned", fmt.Sprintf("%d sessions still active", rr.Left)
		default:
			res.OK, res.Done = true, fmt.Sprintf("banned, sign-in blocked, no active session left (%d more revoked)", rr.Revoked)
		}
		if !res.OK {
			failed++
		}
		out.Results = append(out.Results, res)
		l.Log.WithField("clerk_user", u.ID).WithField("approval", ar.ID).Info("user locked out")
	}
	if len(locked) > 0 {
		out.Status = approval.Done
		if l.Pub != nil {
			l.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepLockAccounts, "lockout "+ar.ID)
		}
	}
	out.Summary = fmt.Sprintf("%d of %d users banned, %d with a failure", len(locked), len(found), failed)
	if len(unknown) > 0 {
		out.Summary += "; not found in Clerk: " + approval.Describe(unknown)
	}
	out.Summary += "."
	return out
}
