package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/sirupsen/logrus"
)

// The security family: revoke sessions, lock users out (after approval), unlock.

// Clerk is what handlers need of the Clerk operations.
type Clerk interface {
	FindUsers(ctx context.Context, refs []string) ([]clerkops.User, []string, error)
	RevokeMany(ctx context.Context, ids []string, concurrency int, verify bool, progress func(done, failed int)) []clerkops.RevokeResult
	RevokeSessions(ctx context.Context, id string, verify bool) clerkops.RevokeResult
	Ban(ctx context.Context, id string) (clerkops.User, error)
	Unban(ctx context.Context, id string) (clerkops.User, error)
	Unlock(ctx context.Context, id string) (clerkops.User, error)
}

// refsText lists pasted refs (clerkops.ParseRefs tokens) for a reply:
// Slack's control characters escaped, so a pasted x<!channel>y or
// <https://…|label> inside a token shows as text, not a broadcast or link.
func refsText(refs []string) string { return publish.Esc(approval.Describe(refs)) }

func appendProblems(b *strings.Builder, unknown, invalid []string) {
	if len(unknown) > 0 {
		fmt.Fprintf(b, "\n:grey_question: Not found in Clerk: %s", refsText(unknown))
	}
	if len(invalid) > 0 {
		fmt.Fprintf(b, "\n:grey_question: Not a user ID or e-mail, skipped: %s", refsText(invalid))
	}
}

// Lockout carries out an approved lockout: ban, then revoke what is left.
type Lockout struct {
	Clerk     Clerk // nil when CLERK_SECRET_KEY is unset
	Pub       *publish.Publisher
	Incidents approval.Incidents
	// Affected records the accounts locked out on the incident (nil: not kept).
	Affected interface {
		AddAffected(ctx context.Context, id string, users []incident.AffectedUser, what string, by incident.Person) error
	}
	Log logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (l Lockout) CarryOut(ctx context.Context, ar *approval.Request) string {
	if l.Clerk == nil {
		return ":x: Clerk is not configured; nothing was done."
	}
	found, unknown, err := l.Clerk.FindUsers(ctx, ar.Targets)
	if err != nil {
		msg, _ := Sentence(err)
		return ":x: Lockout failed before any ban: " + msg
	}
	var lines resultLines
	banned := 0
	var locked []incident.AffectedUser
	defer func() {
		if l.Affected != nil && len(locked) > 0 {
			if err := l.Affected.AddAffected(context.WithoutCancel(ctx), ar.Incident, locked, "locked out (banned) by "+ar.ID, ar.RequestedBy); err != nil {
				l.Log.WithError(err).Warn("could not record locked-out users")
			}
		}
	}()
	for _, u := range found {
		if _, err := l.Clerk.Ban(ctx, u.ID); err != nil {
			lines.fail(fmt.Sprintf("%s: :x: %s", u.Label(), err))
			continue
		}
		banned++
		locked = append(locked, incident.AffectedUser{ID: u.ID, Email: u.Email, Name: u.Name})
		res := l.Clerk.RevokeSessions(ctx, u.ID, true)
		switch {
		case res.Err != nil:
			lines.fail(fmt.Sprintf("%s: banned; :warning: session check failed: %s", u.Label(), res.Err))
		case res.Left > 0:
			lines.fail(fmt.Sprintf("%s: banned; :warning: %d sessions still active", u.Label(), res.Left))
		default:
			lines.ok(fmt.Sprintf("%s: banned, sign-in blocked, no active session left (%d more revoked)", u.Label(), res.Revoked))
		}
		l.Log.WithField("clerk_user", u.ID).WithField("approval", ar.ID).Info("user locked out")
	}
	var tail strings.Builder
	appendProblems(&tail, unknown, nil)
	file := ar.ID + "-result.txt"
	msg, full := lines.render(fmt.Sprintf(":lock: *Lockout* (%s)", ar.ID), tail.String(), file)
	if banned > 0 && l.Pub != nil {
		l.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepLockAccounts, "lockout "+ar.ID)
	}
	if full != "" && l.Pub != nil {
		if inc, err := l.Incidents.Current(ctx, ar.Incident); err == nil {
			l.Pub.Attach(ctx, inc, file, "Lockout result", full, fmt.Sprintf("Every result of lockout %s", ar.ID))
		}
	}
	return msg
}

// resultLines collects per-user results of a bulk action, failures apart.
type resultLines struct{ failures, successes []string }

func (l *resultLines) fail(s string) { l.failures = append(l.failures, s) }
func (l *resultLines) ok(s string)   { l.successes = append(l.successes, s) }

// maxResult keeps a result inside one Slack section.
const maxResult = 2800

// render is the message: failures first, then successes, then tail. When
// that does not fit, the message keeps the failures that fit and says the
// full result is attached (full is then the file's content, else "").
func (l *resultLines) render(head, tail, file string) (msg, full string) {
	var all strings.Builder
	all.WriteString(head)
	for _, s := range append(append([]string(nil), l.failures...), l.successes...) {
		all.WriteString("\n• " + s)
	}
	all.WriteString(tail)
	if len(all.String()) <= maxResult {
		return all.String(), ""
	}
	var b strings.Builder
	b.WriteString(head)
	shown := 0
	for _, s := range l.failures {
		if b.Len()+len(s)+len(tail)+200 > maxResult {
			break
		}
		b.WriteString("\n• " + s)
		shown++
	}
	if left := len(l.failures) - shown; left > 0 {
		fmt.Fprintf(&b, "\n… and %d more failures", left)
	}
	if len(l.successes) > 0 {
		fmt.Fprintf(&b, "\n%d succeeded.", len(l.successes))
	}
	fmt.Fprintf(&b, "\nThe full result is in the attached file `%s`.", file)
	b.WriteString(tail)
	return b.String(), plainResult(all.String())
}

// plainResult is a result as a file: no Slack emoji codes or bold marks.
func plainResult(s string) string {
	return strings.NewReplacer(":x: ", "FAILED ", ":warning: ", "WARNING ", ":grey_question: ", "", "*", "", "• ", "- ").Replace(s) + "\n"
}
