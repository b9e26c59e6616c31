package usecase

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// The account use cases: a command parses and authorizes, calls one of
// these, and words the answer. Each does the Clerk call and records it on
// its incident (timeline, affected accounts, checklist step); the
// publisher then shows it.

// Recorder writes an incident's timeline (incident.Store).
type Recorder interface {
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
}

// AffectedRecorder keeps the accounts an incident touched
// (incident.AffectedAccounts).
type AffectedRecorder interface {
	AddAffected(ctx context.Context, id string, users []incident.AffectedUser, what string, by incident.Person) error
}

// AccountReader is what looking at accounts needs of Clerk
// (clerkops.Client).
type AccountReader interface {
	FindUsers(ctx context.Context, refs []string) ([]account.User, []string, error)
	Investigate(ctx context.Context, ref string) (account.Profile, []account.SessionInfo, error)
}

// recordAffected puts users on the incident's affected list; a failure is
// logged: the action itself is done.
func recordAffected(ctx context.Context, store AffectedRecorder, log logrus.FieldLogger, incID string, users []account.User, what string, who incident.Person) {
	if incID == "" || len(users) == 0 || store == nil {
		return
	}
	list := make([]incident.AffectedUser, len(users))
	for i, u := range users {
		list[i] = incident.AffectedUser{ID: u.ID, Email: u.Email, Name: u.Name}
	}
	if err := store.AddAffected(ctx, incID, list, what, who); err != nil {
		log.WithError(err).WithField("incident", incID).Warn("could not record affected users")
	}
}

// InvestigatedLine is an investigation as the timeline keeps it: the
// user ID and counts, no IP or place (the report is read outside Slack).
func InvestigatedLine(verb, userID string, sessions []account.SessionInfo) string {
	flagged := len(account.GroupSessions(sessions).Flagged)
	return fmt.Sprintf("%s %s: %d active session(s), %d flagged", verb, userID, len(sessions), flagged)
}

// Investigation looks at accounts in Clerk and records what an incident
// learned: the account investigated, the accounts added by hand.
type Investigation struct {
	clerk     AccountReader // nil when CLERK_SECRET_KEY is unset
	incidents Recorder
	affected  AffectedRecorder
	ticks     Ticker
	log       logrus.FieldLogger
}

// NewInvestigation wires the use case; clerk is nil without Clerk.
func NewInvestigation(clerk AccountReader, incidents Recorder, affected AffectedRecorder, ticks Ticker, log logrus.FieldLogger) *Investigation {
	return &Investigation{clerk: clerk, incidents: incidents, affected: affected, ticks: ticks, log: log}
}

// Configured reports whether Clerk is configured.
func (i *Investigation) Configured() bool { return i != nil && i.clerk != nil }

// Read is one account and its active sessions, nothing recorded. A ref
// that matches nobody is apperr-coded not found.
func (i *Investigation) Read(ctx context.Context, ref string) (account.Profile, []account.SessionInfo, error) {
	return i.clerk.Investigate(ctx, ref)
}

// Investigate reads one account and, on an incident, records it: the
// timeline keeps the user ID and counts, the account goes on the affected
// list, and step 1 of the security checklist (find the accounts) is
// ticked. Reading sessions is not a review of the access logs.
func (i *Investigation) Investigate(ctx context.Context, inc *incident.Incident, who incident.Person, ref string) (account.Profile, []account.SessionInfo, error) {
	prof, sessions, err := i.clerk.Investigate(ctx, ref)
	if err != nil || inc == nil || inc.Channel == "" {
		return prof, sessions, err
	}
	if _, err := i.incidents.Update(ctx, inc.ID, incident.Record(who, InvestigatedLine("Investigated", prof.ID, sessions))); err != nil {
		i.log.WithError(err).Warn("could not record an investigation")
	}
	recordAffected(ctx, i.affected, i.log, inc.ID, []account.User{prof.User}, "investigated", who)
	i.ticks.AutoTick(ctx, inc.ID, who, incident.StepAffected, "user")
	return prof, sessions, nil
}

// AddAffected puts accounts on an incident's affected list by hand: each
// ref looked up in Clerk (those not found come back in unknown and are
// not added), or, without Clerk, kept as given.
func (i *Investigation) AddAffected(ctx context.Context, id string, refs []string, who incident.Person) (added []account.User, unknown []string, err error) {
	if i.clerk != nil {
		added, unknown, err = i.clerk.FindUsers(ctx, refs)
		if err != nil {
			return nil, nil, err
		}
	} else {
		for _, ref := range refs {
			if account.IsUserID(ref) {
				added = append(added, account.User{ID: ref})
			} else {
				added = append(added, account.User{ID: ref, Email: ref})
			}
		}
	}
	recordAffected(ctx, i.affected, i.log, id, added, "added by hand", who)
	if len(added) > 0 {
		_, _ = i.incidents.Update(ctx, id, incident.Record(who, fmt.Sprintf("Affected accounts: %d added by hand", len(added))))
		i.ticks.AutoTick(ctx, id, who, incident.StepAffected, "affected add")
	}
	return added, unknown, nil
}
