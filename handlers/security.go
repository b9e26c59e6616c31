package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/sirupsen/logrus"
)

// The security family: revoke sessions, lock users out (after approval), unlock.

func securityCommands() []Sub {
	return []Sub{
		{Name: "revoke", Usage: "/clerk-incident revoke [INC-n] <users…>", Summary: "revoke every active session of Clerk users (user_… IDs or e-mails, one per line for bulk)", Who: Responder,
			Run: (*Handlers).revoke},
		{Name: "lockout", Usage: "/clerk-incident lockout [INC-n] <users…> [-- reason…]", Summary: "ban users and revoke their sessions (needs a second person's approval)", Who: Responder,
			Run: (*Handlers).lockout},
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
	ids := make([]string, len(found))
	for i, u := range found {
		ids[i] = u.ID
	}
	prog := h.pub.StartProgress(ctx, inc, fmt.Sprintf("Revoking the sessions of %d users", len(ids)), len(ids))
	results := h.clerk.RevokeMany(ctx, ids, 4, len(ids) <= 20, prog.Update)
	prog.Finish(ctx)
	var b strings.Builder
	total, failed := 0, 0
	fmt.Fprintf(&b, ":lock: *Sessions revoked* by %s", publish.Who(r.who))
	for i, res := range results {
		u := found[i]
		switch {
		case res.Err != nil:
			failed++
			fmt.Fprintf(&b, "\n• %s: :x: %s", u.Label(), res.Err)
		case res.Left > 0:
			failed++
			fmt.Fprintf(&b, "\n• %s: %d revoked, :warning: %d still active", u.Label(), res.Revoked, res.Left)
		default:
			total += res.Revoked
			if len(results) <= 50 {
				fmt.Fprintf(&b, "\n• %s: %d revoked, none active", u.Label(), res.Revoked)
			}
		}
	}
	if len(results) > 50 {
		fmt.Fprintf(&b, "\n%d users done, %d sessions revoked, %d failed.", len(results), total, failed)
	}
	appendProblems(&b, unknown, invalid)
	summary := b.String()
	if inc != nil {
		line := fmt.Sprintf("Revoked %d sessions of %d users (%d failed)", total, len(results), failed)
		if len(unknown) > 0 {
			line += "; unknown: " + approval.Describe(unknown)
		}
		if _, err := h.store.Update(ctx, inc.ID, incident.Record(r.who, line)); err != nil {
			h.log.WithError(err).Warn("could not record revoke")
		}
		h.pub.Thread(ctx, inc, summary)
	}
	h.log.WithField("users", len(results)).WithField("revoked", total).WithField("failed", failed).Info("sessions revoked")
	h.replyText(ctx, r, summary)
}

func appendProblems(b *strings.Builder, unknown, invalid []string) {
	if len(unknown) > 0 {
		fmt.Fprintf(b, "\n:grey_question: Not found in Clerk: %s", approval.Describe(unknown))
	}
	if len(invalid) > 0 {
		fmt.Fprintf(b, "\n:grey_question: Not a user ID or e-mail, skipped: %s", approval.Describe(invalid))
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
		h.fail(ctx, r, &UsageError{Problem: "These are not user IDs or e-mail addresses: " + approval.Describe(invalid) + ". Nothing was requested.", Usage: p.Sub.Usage})
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
		h.replyText(ctx, r, fmt.Sprintf("No Clerk user matches %s; nothing changed.", approval.Describe(unknown)))
		return
	}
	u := found[0]
	if _, err := h.clerk.Unban(ctx, u.ID); err != nil {
		h.fail(ctx, r, err)
		return
	}
	if _, err := h.clerk.Unlock(ctx, u.ID); err != nil {
		h.fail(ctx, r, err)
		return
	}
	line := fmt.Sprintf(":unlock: %s unbanned and unlocked %s; they can sign in again.", publish.Who(r.who), u.Label())
	if inc != nil {
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(r.who, "Unbanned and unlocked "+u.Label()))
		h.pub.Thread(ctx, inc, line)
	}
	h.log.WithField("clerk_user", u.ID).WithField("by", r.who.ID).Info("user unlocked")
	h.replyText(ctx, r, line)
}

// Lockout carries out an approved lockout: ban, then revoke what is left.
type Lockout struct {
	Clerk Clerk // nil when CLERK_SECRET_KEY is unset
	Log   logrus.FieldLogger
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
	var b strings.Builder
	fmt.Fprintf(&b, ":lock: *Lockout* (%s)", ar.ID)
	for _, u := range found {
		if _, err := l.Clerk.Ban(ctx, u.ID); err != nil {
			fmt.Fprintf(&b, "\n• %s: :x: %s", u.Label(), err)
			continue
		}
		res := l.Clerk.RevokeSessions(ctx, u.ID, true)
		switch {
		case res.Err != nil:
			fmt.Fprintf(&b, "\n• %s: banned; :warning: session check failed: %s", u.Label(), res.Err)
		case res.Left > 0:
			fmt.Fprintf(&b, "\n• %s: banned; :warning: %d sessions still active", u.Label(), res.Left)
		default:
			fmt.Fprintf(&b, "\n• %s: banned, sign-in blocked, no active session left (%d more revoked)", u.Label(), res.Revoked)
		}
		l.Log.WithField("clerk_user", u.ID).WithField("approval", ar.ID).Info("user locked out")
	}
	appendProblems(&b, unknown, nil)
	return b.String()
}
