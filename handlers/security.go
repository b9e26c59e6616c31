package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/sirupsen/logrus"
)

// The security family: revoke sessions, lock users out (after approval), unlock.

func securityCommands() []Sub {
	return []Sub{
		{Name: "revoke", Usage: "/clerk-incident revoke [INC-n] <users…>", Summary: "revoke every active session of Clerk users (user_… IDs or e-mails, one per line for bulk)", Who: Responder,
			TextAfter: "--", // the reason (splitReason)
			Run:       (*Handlers).revoke},
		{Name: "lockout", Usage: "/clerk-incident lockout [INC-n] <users…> [-- reason…]", Summary: "ban users and revoke their sessions (needs a second person's approval)", Who: Responder,
			TextAfter: "--", // the reason (splitReason)
			Run:       (*Handlers).lockout},
		{Name: "unlock", Usage: "/clerk-incident unlock [INC-n] <user>", Summary: "lift a user's ban and lockout", Who: Responder,
			Run: (*Handlers).unlock},
	}
}

// Clerk is what handlers need of the Clerk operations.
type Clerk interface {
	FindUsers(ctx context.Context, refs []string) ([]clerkops.User, []string, error)
	RevokeMany(ctx context.Context, ids []string, concurrency int, verify bool, progress func(done, failed int)) []clerkops.RevokeResult
	RevokeSessions(ctx context.Context, id string, verify bool) clerkops.RevokeResult
	Ban(ctx context.Context, id string) (clerkops.User, error)
	Unban(ctx context.Context, id string) (clerkops.User, error)
	Unlock(ctx context.Context, id string) (clerkops.User, error)
}

// longWork bounds Clerk work that may outlast HANDLER_TIMEOUT (bulk revokes).
const longWork = 30 * time.Minute

func (h *Handlers) clerkReady(ctx context.Context, r req) bool {
	if h.clerk == nil {
		h.replyText(ctx, r, "Clerk is not configured: set CLERK_SECRET_KEY (and CLERK_API_URL for a proxy). Nothing was done.")
		return false
	}
	return true
}

// optionalIncident is the given or only open incident, or nil when none is
// open; several open without an ID is an error.
func (h *Handlers) optionalIncident(ctx context.Context, p Parsed) (*incident.Incident, error) {
	id, _, err := h.target(ctx, p, false)
	var u *UsageError
	if errors.As(err, &u) && strings.HasPrefix(u.Problem, "No incident is open") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return h.store.Current(ctx, id)
}

// splitReason separates "users… -- reason".
func splitReason(rest string) (string, string) {
	if i := strings.Index(rest, "--"); i >= 0 {
		return rest[:i], strings.TrimSpace(rest[i+2:])
	}
	return rest, ""
}

func (h *Handlers) revoke(ctx context.Context, r req, p Parsed) {
	if !h.clerkReady(ctx, r) {
		return
	}
	users, _ := splitReason(p.Rest)
	refs, invalid := clerkops.ParseRefs(users)
	if len(refs) == 0 {
		h.fail(ctx, r, &UsageError{Problem: "Give Clerk user IDs (user_…) or e-mail addresses, several at once or one per line.", Usage: p.Sub.Usage})
		return
	}
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), longWork)
	defer cancel()
	found, unknown, err := h.clerk.FindUsers(ctx, refs)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if len(found) == 0 {
		// Nothing to act on: say so per target, post nothing, change nothing.
		var b strings.Builder
		b.WriteString(":grey_question: *No sessions revoked:* no Clerk user matched, so nothing was sent to Clerk.")
		appendProblems(&b, unknown, invalid)
		h.replyText(ctx, r, b.String())
		return
	}
	ids := make([]string, len(found))
	for i, u := range found {
		ids[i] = u.ID
	}
	prog := h.pub.Progress.StartProgress(ctx, inc, fmt.Sprintf("Revoking the sessions of %d users", len(ids)), len(ids))
	results := h.clerk.RevokeMany(ctx, ids, 4, len(ids) <= 20, prog.Update)
	prog.Finish(ctx)
	var res resultLines
	total, failed := 0, 0
	var revoked []clerkops.User
	for i, rr := range results {
		u := found[i]
		if rr.Err == nil {
			revoked = append(revoked, u)
		}
		switch {
		case rr.Err != nil:
			failed++
			res.fail(fmt.Sprintf("%s: :x: %s", u.Label(), rr.Err))
		case rr.Left > 0:
			failed++
			res.fail(fmt.Sprintf("%s: %d revoked, :warning: %d still active", u.Label(), rr.Revoked, rr.Left))
		case rr.Revoked == 0:
			res.ok(fmt.Sprintf("%s: no active sessions, nothing to revoke", u.Label()))
		default:
			total += rr.Revoked
			res.ok(fmt.Sprintf("%s: %d revoked, none active", u.Label(), rr.Revoked))
		}
	}
	var tail strings.Builder
	if len(results) > 50 {
		fmt.Fprintf(&tail, "\n%d users done, %d sessions revoked, %d failed.", len(results), total, failed)
	}
	appendProblems(&tail, unknown, invalid)
	// The head says what happened: "Sessions revoked" only when some were.
	head := fmt.Sprintf(":lock: *Sessions revoked* by %s", render.Who(r.who))
	if total == 0 {
		head = fmt.Sprintf(":information_source: *No sessions revoked* (revoke by %s)", render.Who(r.who))
	}
	summary, full := res.render(head, tail.String(), "revoke-result.txt")
	if full != "" && inc != nil {
		h.pub.Files.Attach(ctx, inc, "revoke-result.txt", "Revoke result", full, fmt.Sprintf("Every result of the revoke of %d users", len(results)))
	}
	if inc != nil {
		line := fmt.Sprintf("Revoked %d sessions of %d users (%d failed)", total, len(results), failed)
		if total == 0 {
			line = fmt.Sprintf("No sessions revoked: %d users checked, %d failed, the rest had no active session", len(results), failed)
		}
		if len(unknown) > 0 {
			line += "; unknown: " + approval.Describe(unknown)
		}
		if _, err := h.store.Update(ctx, inc.ID, incident.Record(r.who, line)); err != nil {
			h.log.WithError(err).Warn("could not record revoke")
		}
		h.pub.Outbox.Thread(ctx, inc, summary)
		h.affect(ctx, inc.ID, revoked, "sessions revoked", r.who)
		if total > 0 || (failed == 0 && len(results) > 0) {
			h.pub.Ticks.AutoTick(ctx, inc.ID, r.who, incident.StepRevokeSessions, "revoke")
		}
	}
	h.log.WithField("users", len(results)).WithField("revoked", total).WithField("failed", failed).Info("sessions revoked")
	h.replyText(ctx, r, summary)
}

// refsText lists pasted refs (clerkops.ParseRefs tokens) for a reply:
// Slack's control characters escaped, so a pasted x<!channel>y or
// <https://…|label> inside a token shows as text, not a broadcast or link.
func refsText(refs []string) string { return render.Esc(approval.Describe(refs)) }

func appendProblems(b *strings.Builder, unknown, invalid []string) {
	if len(unknown) > 0 {
		fmt.Fprintf(b, "\n:grey_question: Not found in Clerk: %s", refsText(unknown))
	}
	if len(invalid) > 0 {
		fmt.Fprintf(b, "\n:grey_question: Not a user ID or e-mail, skipped: %s", refsText(invalid))
	}
}

func (h *Handlers) lockout(ctx context.Context, r req, p Parsed) {
	if !h.clerkReady(ctx, r) {
		return
	}
	users, reason := splitReason(p.Rest)
	refs, invalid := clerkops.ParseRefs(users)
	if len(refs) == 0 {
		h.fail(ctx, r, &UsageError{Problem: "Give the Clerk user IDs (user_…) or e-mail addresses to lock out.", Usage: p.Sub.Usage})
		return
	}
	if len(invalid) > 0 {
		h.fail(ctx, r, &UsageError{Problem: "These are not user IDs or e-mail addresses: " + refsText(invalid) + ". Nothing was requested.", Usage: p.Sub.Usage})
		return
	}
	h.withIncident(ctx, r, p, false, func(ctx context.Context, r req, id string) {
		summary := fmt.Sprintf("Ban %d user(s) in Clerk, which blocks their sign-in and revokes their sessions, then revoke any session still active", len(refs))
		h.requestApproval(ctx, r, id, approval.Request{Action: approval.Lockout, Targets: refs, Reason: reason, Summary: summary})
	})
}

func (h *Handlers) unlock(ctx context.Context, r req, p Parsed) {
	if !h.clerkReady(ctx, r) {
		return
	}
	refs, invalid := clerkops.ParseRefs(p.Rest)
	if len(refs) != 1 || len(invalid) > 0 {
		h.fail(ctx, r, &UsageError{Problem: "Give exactly one Clerk user ID (user_…) or e-mail address.", Usage: p.Sub.Usage})
		return
	}
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	found, unknown, err := h.clerk.FindUsers(ctx, refs)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if len(found) == 0 {
		h.replyText(ctx, r, fmt.Sprintf("No Clerk user matches %s; nothing changed.", refsText(unknown)))
		return
	}
	u := found[0]
	if _, err := h.clerk.Unban(ctx, u.ID); err != nil {
		h.fail(ctx, r, err)
		return
	}
	line := fmt.Sprintf(":unlock: %s unbanned and unlocked %s; they can sign in again.", render.Who(r.who), u.Label())
	record := "Unbanned and unlocked " + u.ID
	if _, err := h.clerk.Unlock(ctx, u.ID); err != nil {
		// The ban is already lifted: a 403 here means the instance has user
		// lockout turned off, so there is no lockout to lift either.
		if apperr.CodeOf(err) != apperr.ClerkForbidden {
			h.fail(ctx, r, err)
			return
		}
		line = fmt.Sprintf(":unlock: %s unbanned %s; they can sign in again (user lockout is off on this Clerk instance, so no lockout was in place).", render.Who(r.who), u.Label())
		record = "Unbanned " + u.ID + " (user lockout is off in Clerk)"
	}
	if inc != nil {
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(r.who, record))
		h.pub.Outbox.Thread(ctx, inc, line)
		h.affect(ctx, inc.ID, []clerkops.User{u}, "unbanned and unlocked", r.who)
	}
	h.log.WithField("clerk_user", u.ID).WithField("by", r.who.ID).Info("user unlocked")
	h.replyText(ctx, r, line)
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
		l.Pub.Ticks.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepLockAccounts, "lockout "+ar.ID)
	}
	if full != "" && l.Pub != nil {
		if inc, err := l.Incidents.Current(ctx, ar.Incident); err == nil {
			l.Pub.Files.Attach(ctx, inc, file, "Lockout result", full, fmt.Sprintf("Every result of lockout %s", ar.ID))
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
