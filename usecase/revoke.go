package usecase

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// SessionClerk is what revoking sessions and unlocking need of Clerk
// (clerkops.Client).
type SessionClerk interface {
	FindUsers(ctx context.Context, refs []string) ([]account.User, []string, error)
	RevokeMany(ctx context.Context, ids []string, concurrency int, verify bool, progress func(done, failed int)) []account.RevokeResult
	Unban(ctx context.Context, id string) (account.User, error)
	Unlock(ctx context.Context, id string) (account.User, error)
}

// Progress is a live progress message of a long action.
type Progress interface {
	Update(done, failed int)
	Finish(ctx context.Context)
}

// SessionShower shows what revoking and unlocking did (the publisher).
type SessionShower interface {
	StartProgress(ctx context.Context, inc *incident.Incident, what string, total int) Progress
	Attach(ctx context.Context, inc *incident.Incident, name, title, content, comment string)
	Thread(ctx context.Context, inc *incident.Incident, text string)
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// Sessions revokes users' sessions and lifts their bans, and records
// both on the incident.
type Sessions struct {
	clerk     SessionClerk // nil when CLERK_SECRET_KEY is unset
	incidents Recorder
	affected  AffectedRecorder
	pub       SessionShower
	now       func() time.Time
	log       logrus.FieldLogger
}

// NewSessions wires the use case; clerk is nil without Clerk.
func NewSessions(clerk SessionClerk, incidents Recorder, affected AffectedRecorder, pub SessionShower, now func() time.Time, log logrus.FieldLogger) *Sessions {
	return &Sessions{clerk: clerk, incidents: incidents, affected: affected, pub: pub, now: now, log: log}
}

// Configured reports whether Clerk is configured.
func (s *Sessions) Configured() bool { return s != nil && s.clerk != nil }

// Revoked is what a revoke did, as data: one result per user found, in
// the order acted on (Outcome.Results, as a lockout's), the refs that
// matched nobody (Outcome.Unknown), and the sessions revoked.
type Revoked struct {
	Users    []account.User
	Outcome  approval.Outcome
	Sessions int
	Failed   int
}

// Revoke revokes every active session of the users refs name. On an
// incident, a bulk revoke is work in flight until it ends; the thread
// gets its progress and its result (IDs and initials, every result in a
// file when long), the timeline a line, the affected list the users, and
// the checklist its step. Nothing found: nothing is sent to Clerk.
func (s *Sessions) Revoke(ctx context.Context, inc *incident.Incident, who incident.Person, refs, invalid []string) (Revoked, error) {
	found, unknown, err := s.clerk.FindUsers(ctx, refs)
	if err != nil {
		return Revoked{}, err
	}
	out := Revoked{Users: found, Outcome: approval.Outcome{Status: approval.NotCarriedOut, Unknown: unknown}}
	if len(found) == 0 {
		return out, nil
	}
	ids := make([]string, len(found))
	for i, u := range found {
		ids[i] = u.ID
	}
	work := incident.Work{ID: fmt.Sprintf("revoke-%d", s.now().UnixMilli()), What: fmt.Sprintf("revoke of the sessions of %d users", len(ids))}
	if inc != nil && len(ids) > 1 {
		_, _ = s.incidents.Update(ctx, inc.ID, incident.StartWork(who, work, ""))
	}
	prog := s.pub.StartProgress(ctx, inc, fmt.Sprintf("Revoking the sessions of %d users", len(ids)), len(ids))
	results := s.clerk.RevokeMany(ctx, ids, 4, len(ids) <= 20, prog.Update)
	prog.Finish(ctx)
	var revoked []account.User
	for i, rr := range results {
		res := revokeResult(found[i], rr)
		out.Outcome.Results = append(out.Outcome.Results, res)
		switch {
		case !res.OK:
			out.Failed++
		default:
			out.Sessions += rr.Revoked
		}
		if rr.Err == nil {
			revoked = append(revoked, found[i])
		}
	}
	out.Outcome.Status = approval.Done
	if out.Failed > 0 {
		out.Outcome.Status = approval.Failed
	}
	out.Outcome.Summary = revokeLine(out, len(results))
	if inc != nil {
		s.recordRevoke(ctx, inc, who, out, invalid, revoked, work.ID)
	}
	s.log.WithField("users", len(results)).WithField("revoked", out.Sessions).WithField("failed", out.Failed).Info("sessions revoked")
	return out, nil
}

// revokeResult is one user's revoke as a target result.
func revokeResult(u account.User, rr account.RevokeResult) approval.TargetResult {
	res := approval.TargetResult{Target: u.ID, Name: u.Name}
	switch {
	case rr.Err != nil:
		res.Error = rr.Err.Error()
	case rr.Left > 0:
		res.Done, res.Error = fmt.Sprintf("%d revoked", rr.Revoked), fmt.Sprintf("%d still active", rr.Left)
	case rr.Revoked == 0:
		res.OK, res.Done = true, "no active sessions, nothing to revoke"
	default:
		res.OK, res.Done = true, fmt.Sprintf("%d revoked, none active", rr.Revoked)
	}
	return res
}

// revokeLine is a revoke as the timeline keeps it: counts, no e-mail.
func revokeLine(out Revoked, users int) string {
	line := fmt.Sprintf("Revoked %d sessions of %d users (%d failed)", out.Sessions, users, out.Failed)
	if out.Sessions == 0 {
		line = fmt.Sprintf("No sessions revoked: %d users checked, %d failed, the rest had no active session", users, out.Failed)
	}
	if len(out.Outcome.Unknown) > 0 {
		line += fmt.Sprintf("; %d not found in Clerk", len(out.Outcome.Unknown))
	}
	return line
}

// recordRevoke puts a revoke on its incident: the result in the thread
// (and its file), the timeline, the affected list and the checklist step.
func (s *Sessions) recordRevoke(ctx context.Context, inc *incident.Incident, who incident.Person, out Revoked, invalid []string, revoked []account.User, workID string) {
	users := len(out.Outcome.Results)
	summary, full := render.RevokeThread(render.Revoke{By: who, Outcome: &out.Outcome, Sessions: out.Sessions, Failed: out.Failed, Invalid: invalid})
	if full != "" {
		s.pub.Attach(ctx, inc, render.RevokeFile, "Revoke result", full, fmt.Sprintf("Every result of the revoke of %d users", users))
	}
	record := incident.Record(who, out.Outcome.Summary)
	if users > 1 { // a bulk revoke: its work ends with this line
		record = incident.EndWork(who, workID, fmt.Sprintf("revoke of the sessions of %d users", users), out.Outcome.Status, out.Outcome.Summary, out.Outcome.Summary)
	}
	if _, err := s.incidents.Update(ctx, inc.ID, record); err != nil {
		s.log.WithError(err).Warn("could not record revoke")
	}
	s.pub.Thread(ctx, inc, summary)
	recordAffected(ctx, s.affected, s.log, inc.ID, revoked, "sessions revoked", who)
	if out.Sessions > 0 || (out.Failed == 0 && users > 0) {
		s.pub.AutoTick(ctx, inc.ID, who, incident.StepRevokeSessions, "revoke")
	}
}

// Unlocked is what an unlock did: the user (none when the ref matched
// nobody: Unknown), and whether Clerk's user lockout is off on the
// instance (then only the ban was lifted).
type Unlocked struct {
	User       account.User
	Unknown    []string
	LockoutOff bool
}

// Unlock lifts one user's ban and lockout, and records it on the
// incident (nil: none). A ref that matches nobody changes nothing.
func (s *Sessions) Unlock(ctx context.Context, inc *incident.Incident, who incident.Person, ref string) (Unlocked, error) {
	found, unknown, err := s.clerk.FindUsers(ctx, []string{ref})
	if err != nil {
		return Unlocked{}, err
	}
	if len(found) == 0 {
		return Unlocked{Unknown: unknown}, nil
	}
	out := Unlocked{User: found[0]}
	u := out.User
	if _, err := s.clerk.Unban(ctx, u.ID); err != nil {
		return out, err
	}
	record := "Unbanned and unlocked " + u.ID
	if _, err := s.clerk.Unlock(ctx, u.ID); err != nil {
		// The ban is already lifted: a 403 here means the instance has user
		// lockout turned off, so there is no lockout to lift either.
		if apperr.CodeOf(err) != apperr.ClerkForbidden {
			return out, err
		}
		out.LockoutOff = true
		record = "Unbanned " + u.ID + " (user lockout is off in Clerk)"
	}
	if inc != nil {
		_, _ = s.incidents.Update(ctx, inc.ID, incident.Record(who, record))
		s.pub.Thread(ctx, inc, render.UnlockedLine(who, render.Account(u.ID, u.Name), out.LockoutOff))
		recordAffected(ctx, s.affected, s.log, inc.ID, []account.User{u}, "unbanned and unlocked", who)
	}
	s.log.WithField("clerk_user", u.ID).WithField("by", who.ID).Info("user unlocked")
	return out, nil
}
