package usecase

import (
	"context"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Clerk is what a lockout needs of the Clerk operations.
type Clerk interface {
	FindUsers(ctx context.Context, refs []string) ([]account.User, []string, error)
	Ban(ctx context.Context, id string) (account.User, error)
	RevokeSessions(ctx context.Context, id string, verify bool) account.RevokeResult
	RemoveTrustedDevices(ctx context.Context, userID string) (int, error)
	RevokeToken(ctx context.Context, id string) (account.TokenResult, error)
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
		res = lockOne(ctx, l.Clerk, u, res)
		if !res.OK {
			failed++
		}
		out.Results = append(out.Results, res)
		l.Log.WithField("clerk_user", u.ID).WithField("approval", ar.ID).Info("user locked out")
	}
	tokens, tokenFails := revokeTokens(ctx, l.Clerk, ar.Tokens)
	out.Results = append(out.Results, tokens...)
	failed += tokenFails
	if len(locked) > 0 || (len(ar.Tokens) > 0 && tokenFails < len(ar.Tokens)) {
		out.Status = approval.Done
	}
	if len(locked) > 0 {
		if l.Pub != nil {
			l.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepLockAccounts, "lockout "+ar.ID)
		}
	}
	out.Summary = fmt.Sprintf("%d of %d users banned, %d with a failure", len(locked), len(found), failed)
	if len(ar.Tokens) > 0 {
		out.Summary += fmt.Sprintf("; %d of %d named tokens revoked", len(ar.Tokens)-tokenFails, len(ar.Tokens))
	}
	if len(unknown) > 0 {
		out.Summary += "; not found in Clerk: " + approval.Describe(unknown)
	}
	out.Summary += "."
	return out
}

// lockOne finishes one banned user's lockout: sessions still active are
// revoked, and trusted devices (which skip MFA on sign-in) are removed.
// MFA itself is never turned off: it is what stops a stolen password.
func lockOne(ctx context.Context, c Clerk, u account.User, res approval.TargetResult) approval.TargetResult {
	rr := c.RevokeSessions(ctx, u.ID, true)
	devices, derr := c.RemoveTrustedDevices(ctx, u.ID)
	var fails []string
	switch {
	case rr.Err != nil:
		fails = append(fails, "session check failed: "+rr.Err.Error())
	case rr.Left > 0:
		fails = append(fails, fmt.Sprintf("%d sessions still active", rr.Left))
	}
	if derr != nil {
		fails = append(fails, fmt.Sprintf("trusted devices not all removed (%d removed): %s", devices, derr))
	}
	if len(fails) > 0 {
		res.Done, res.Error = "banned", strings.Join(fails, "; ")
		return res
	}
	res.OK = true
	res.Done = fmt.Sprintf("banned, sign-in blocked, no active session left (%d more revoked), %s removed", rr.Revoked, plural(devices, "trusted device"))
	return res
}

// revokeTokens revokes the sign-in and actor tokens a lockout names, one
// result each (the token's user, never the token itself).
func revokeTokens(ctx context.Context, c Clerk, ids []string) ([]approval.TargetResult, int) {
	var out []approval.TargetResult
	failed := 0
	for _, id := range ids {
		tr, err := c.RevokeToken(ctx, id)
		res := approval.TargetResult{Target: id}
		if tr.User != "" {
			res.Target = id + " (" + tr.User + ")"
		}
		switch {
		case err != nil:
			res.Error = err.Error()
			failed++
		case tr.Status == "revoked":
			res.OK, res.Done = true, "token revoked"
		default:
			res.OK, res.Done = true, "token already "+tr.Status+", no longer usable to sign in"
		}
		out = append(out, res)
	}
	return out, failed
}

// plural is "1 thing" or "n things".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
