package usecase

import (
	"context"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The changes of Procedure 2 that add protection act at once: Clerk
// Protect's rules on, a sign-up restriction, one identifier on or off
// the blocklist. What weakens protection waits for approval (the doers
// in hardening.go).

// ControlsClerk is what the instance's controls need of Clerk
// (clerkops.Client).
type ControlsClerk interface {
	Protect(ctx context.Context) (account.Protect, error)
	SetProtectRules(ctx context.Context, on bool) (account.Protect, error)
	Restrict(ctx context.Context, what string, on bool) (account.Restrictions, error)
	Block(ctx context.Context, identifier string) (account.Blocked, error)
	Unblock(ctx context.Context, identifier string) (account.Blocked, bool, error)
}

// ThreadTicker shows a change in its incident's thread and ticks the
// checklist step it performed (the publisher).
type ThreadTicker interface {
	Thread(ctx context.Context, inc *incident.Incident, text string)
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// Controls changes the instance's protection in Clerk and records each
// change on its incident (nil: none): timeline, thread, and step 5
// (additional verification) when protection was added.
type Controls struct {
	clerk     ControlsClerk // nil when CLERK_SECRET_KEY is unset
	incidents Recorder
	pub       ThreadTicker
	log       logrus.FieldLogger
}

// NewControls wires the use case; clerk is nil without Clerk.
func NewControls(clerk ControlsClerk, incidents Recorder, pub ThreadTicker, log logrus.FieldLogger) *Controls {
	return &Controls{clerk: clerk, incidents: incidents, pub: pub, log: log}
}

// Configured reports whether Clerk is configured.
func (c *Controls) Configured() bool { return c != nil && c.clerk != nil }

// Protect reads Clerk Protect's switches.
func (c *Controls) Protect(ctx context.Context) (account.Protect, error) { return c.clerk.Protect(ctx) }

// ProtectOn turns Clerk Protect's rules on.
func (c *Controls) ProtectOn(ctx context.Context, inc *incident.Incident, who incident.Person) (account.Protect, error) {
	pr, err := c.clerk.SetProtectRules(ctx, true)
	if err != nil {
		return pr, err
	}
	c.record(ctx, inc, who, render.ProtectOnLine(who, pr), "Turned Clerk Protect's rules on", pr.Rules, "protect on")
	return pr, nil
}

// Restrict turns one sign-up restriction on or off.
func (c *Controls) Restrict(ctx context.Context, inc *incident.Incident, who incident.Person, what string, on bool) (account.Restrictions, error) {
	res, err := c.clerk.Restrict(ctx, what, on)
	if err != nil {
		return res, err
	}
	state := "off"
	if on {
		state = "on"
	}
	c.record(ctx, inc, who, render.RestrictLine(who, what, on, res), fmt.Sprintf("Restriction %s turned %s", what, state), on, "restrict "+what+" on")
	return res, nil
}

// Block puts one address or phone number on Clerk's blocklist (a whole
// domain waits for approval: BlockDomainDoer).
func (c *Controls) Block(ctx context.Context, inc *incident.Incident, who incident.Person, ident string) (account.Blocked, error) {
	b, err := c.clerk.Block(ctx, ident)
	if err != nil {
		return b, err
	}
	c.record(ctx, inc, who, render.BlockedLine(who, b), "Blocklisted "+strings.ReplaceAll(render.BlockedName(b, false), "`", ""), true, "block")
	return b, nil
}

// Unblock takes an identifier off Clerk's blocklist; found is false when
// it was not on it (nothing changed).
func (c *Controls) Unblock(ctx context.Context, inc *incident.Incident, who incident.Person, ident string, domain bool) (b account.Blocked, found bool, err error) {
	b, found, err = c.clerk.Unblock(ctx, ident)
	if err != nil || !found {
		return b, found, err
	}
	c.record(ctx, inc, who, render.UnblockedLine(who, b, domain), "Took off the blocklist "+strings.ReplaceAll(render.BlockedName(b, domain), "`", ""), false, "unblock")
	return b, true, nil
}

// record puts a change on its incident: the timeline, the thread, and
// step 5 when it took (tick).
func (c *Controls) record(ctx context.Context, inc *incident.Incident, who incident.Person, line, entry string, tick bool, what string) {
	if inc == nil {
		return
	}
	if _, err := c.incidents.Update(ctx, inc.ID, incident.Record(who, entry)); err != nil {
		c.log.WithError(err).WithField("incident", inc.ID).Warn("could not record " + what)
	}
	c.pub.Thread(ctx, inc, line)
	if tick {
		c.pub.AutoTick(ctx, inc.ID, who, incident.StepExtraVerification, what)
	}
}

// ReviewClerk is what an access review needs of Clerk (clerkops.Client).
type ReviewClerk interface {
	Investigate(ctx context.Context, ref string) (account.Profile, []account.SessionInfo, error)
	TrustedDevices(ctx context.Context, userID string) ([]account.TrustedDevice, error)
}

// AccessReview reads affected accounts for a review: each one's
// profile, active sessions and trusted devices.
type AccessReview struct {
	clerk ReviewClerk // nil when CLERK_SECRET_KEY is unset
}

// NewAccessReview wires the use case; clerk is nil without Clerk.
func NewAccessReview(clerk ReviewClerk) *AccessReview { return &AccessReview{clerk: clerk} }

// Configured reports whether Clerk is configured.
func (a *AccessReview) Configured() bool { return a != nil && a.clerk != nil }

// Review reads every account in turn; one that cannot be read says why
// in its own section.
func (a *AccessReview) Review(ctx context.Context, users []incident.AffectedUser) []render.AccessReview {
	reviews := make([]render.AccessReview, 0, len(users))
	for _, u := range users {
		reviews = append(reviews, a.one(ctx, u))
	}
	return reviews
}

func (a *AccessReview) one(ctx context.Context, u incident.AffectedUser) render.AccessReview {
	rv := render.AccessReview{User: u}
	prof, sessions, err := a.clerk.Investigate(ctx, u.ID)
	if err != nil {
		rv.Err = apperr.MessageOf(err)
		if rv.Err == "" {
			rv.Err = err.Error()
		}
		return rv
	}
	rv.Profile, rv.Sessions = prof, sessions
	devices, err := a.clerk.TrustedDevices(ctx, u.ID)
	if err != nil {
		rv.Err = "trusted devices: " + err.Error()
		return rv
	}
	rv.Devices = devices
	return rv
}
