package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// The security family: revoke sessions, lock users out (after approval), unlock.

// Clerk is what the security family needs of the Clerk operations.
type Clerk interface {
	FindUsers(ctx context.Context, refs []string) ([]account.User, []string, error)
	RevokeMany(ctx context.Context, ids []string, concurrency int, verify bool, progress func(done, failed int)) []account.RevokeResult
	Unban(ctx context.Context, id string) (account.User, error)
	Unlock(ctx context.Context, id string) (account.User, error)
}

// Affected records the accounts an incident touched.
type Affected interface {
	AddAffected(ctx context.Context, id string, users []incident.AffectedUser, what string, by incident.Person) error
}

// Progress is a live progress message of a long action.
type Progress interface {
	Update(done, failed int)
	Finish(ctx context.Context)
}

// SecurityPublisher shows what the security family did.
type SecurityPublisher interface {
	StartProgress(ctx context.Context, inc *incident.Incident, what string, total int) Progress
	Attach(ctx context.Context, inc *incident.Incident, name, title, content, comment string)
	Thread(ctx context.Context, inc *incident.Incident, text string)
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// Security revokes sessions, asks to lock users out, and unlocks them.
type Security struct {
	*Kit
	store    Affected
	pub      SecurityPublisher
	clerk    Clerk // nil when CLERK_SECRET_KEY is unset
	requests *Requests
}

// NewSecurity wires the family; clerk is nil when CLERK_SECRET_KEY is unset.
func NewSecurity(k *Kit, store Affected, pub SecurityPublisher, clerk Clerk, requests *Requests) *Security {
	return &Security{Kit: k, store: store, pub: pub, clerk: clerk, requests: requests}
}

// Title implements Family.
func (h *Security) Title() string { return "Security" }

// Commands implements Family.
func (h *Security) Commands() []Sub {
	return []Sub{
		{Name: "revoke", Usage: "/clerk-incident revoke [INC-n] <users…>", Summary: "revoke every active session of Clerk users (user_… IDs or e-mails, one per line for bulk)", Who: Responder,
			TextAfter: "--", // the reason (splitReason)
			Run:       h.revoke},
		{Name: "lockout", Usage: "/clerk-incident lockout [INC-n] <users…> [sit_…|act_… tokens] [-- reason…]", Summary: "ban users, revoke their sessions, remove their trusted devices and the named sign-in/actor tokens (needs a second person's approval)", Who: Responder,
			TextAfter: "--", // the reason (splitReason)
			Run:       h.lockout},
		{Name: "unlock", Usage: "/clerk-incident unlock [INC-n] <user>", Summary: "lift a user's ban and lockout", Who: Responder,
			Run: h.unlock},
	}
}

// Buttons implements Family.
func (h *Security) Buttons() []Button { return nil }

// longWork bounds Clerk work that may outlast HANDLER_TIMEOUT (bulk revokes).
const longWork = 30 * time.Minute

const clerkUnset = "Clerk is not configured: set CLERK_SECRET_KEY (and CLERK_API_URL for a proxy). Nothing was done."

// clerkReady tells the asker when Clerk is not configured.
func clerkReady(ctx context.Context, k *Kit, r Req, configured bool) bool {
	if !configured {
		k.ReplyText(ctx, r, clerkUnset)
		return false
	}
	return true
}

// oneUser reads a command about exactly one Clerk user (an ID or an
// e-mail) and the incident it is for, if any; false: the person was told
// why not.
func oneUser(ctx context.Context, k *Kit, r Req, p Parsed, configured bool) ([]string, *incident.Incident, bool) {
	if !clerkReady(ctx, k, r, configured) {
		return nil, nil, false
	}
	refs, invalid := account.ParseRefs(p.Rest)
	if len(refs) != 1 || len(invalid) > 0 {
		k.Fail(ctx, r, &UsageError{Problem: "Give exactly one Clerk user ID (user_…) or e-mail address.", Usage: p.Sub.Usage})
		return nil, nil, false
	}
	inc, err := k.optionalIncident(ctx, p)
	if err != nil {
		k.Fail(ctx, r, err)
		return nil, nil, false
	}
	return refs, inc, true
}

// affect records users on the incident's affected list.
func affect(ctx context.Context, k *Kit, store Affected, incID string, users []account.User, what string, who incident.Person) {
	if incID == "" || len(users) == 0 {
		return
	}
	list := make([]incident.AffectedUser, len(users))
	for i, u := range users {
		list[i] = incident.AffectedUser{ID: u.ID, Email: u.Email, Name: u.Name}
	}
	if err := store.AddAffected(ctx, incID, list, what, who); err != nil {
		k.log.WithError(err).WithField("incident", incID).Warn("could not record affected users")
	}
}

// splitReason separates "users… -- reason".
func splitReason(rest string) (string, string) {
	if i := strings.Index(rest, "--"); i >= 0 {
		return rest[:i], strings.TrimSpace(rest[i+2:])
	}
	return rest, ""
}

func (h *Security) revoke(ctx context.Context, r Req, p Parsed) {
	if !clerkReady(ctx, h.Kit, r, h.clerk != nil) {
		return
	}
	users, _ := splitReason(p.Rest)
	refs, invalid := account.ParseRefs(users)
	if len(refs) == 0 {
		h.Fail(ctx, r, &UsageError{Problem: "Give Clerk user IDs (user_…) or e-mail addresses, several at once or one per line.", Usage: p.Sub.Usage})
		return
	}
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.Fail(ctx, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), longWork)
	defer cancel()
	found, unknown, err := h.clerk.FindUsers(ctx, refs)
	if err != nil {
		h.Fail(ctx, r, err)
		return
	}
	if len(found) == 0 {
		// Nothing to act on: say so per target, post nothing, change nothing.
		var b strings.Builder
		b.WriteString(":grey_question: *No sessions revoked:* no Clerk user matched, so nothing was sent to Clerk.")
		appendProblems(&b, unknown, invalid)
		h.ReplyText(ctx, r, b.String())
		return
	}
	ids := make([]string, len(found))
	for i, u := range found {
		ids[i] = u.ID
	}
	// A bulk revoke is work in flight on its incident until it ends; its
	// progress message is its start in the thread.
	work := incident.Work{ID: fmt.Sprintf("revoke-%d", h.now().UnixMilli()), What: fmt.Sprintf("revoke of the sessions of %d users", len(ids))}
	if inc != nil && len(ids) > 1 {
		_, _ = h.incidents.Update(ctx, inc.ID, incident.StartWork(r.Who, work, ""))
	}
	prog := h.pub.StartProgress(ctx, inc, fmt.Sprintf("Revoking the sessions of %d users", len(ids)), len(ids))
	results := h.clerk.RevokeMany(ctx, ids, 4, len(ids) <= 20, prog.Update)
	prog.Finish(ctx)
	// The asker reads e-mails; the thread, guests included, reads user IDs
	// and initials, and only counts of what was not found.
	res, revoked, total, failed := revokeLines(found, results, func(u account.User) string { return render.Esc(u.Label()) })
	shared, _, _, _ := revokeLines(found, results, func(u account.User) string { return render.Account(u.ID, u.Name) })
	var tail, sharedTail strings.Builder
	if len(results) > 50 {
		fmt.Fprintf(&tail, "\n%d users done, %d sessions revoked, %d failed.", len(results), total, failed)
	}
	sharedTail.WriteString(tail.String())
	appendProblems(&tail, unknown, invalid)
	if n := len(unknown) + len(invalid); n > 0 {
		fmt.Fprintf(&sharedTail, "\n:grey_question: %d of the targets given were not found in Clerk or not a user ID or e-mail; %s has the list.", n, render.Who(r.Who))
	}
	// The head says what happened: "Sessions revoked" only when some were.
	head := fmt.Sprintf(":lock: *Sessions revoked* by %s", render.Who(r.Who))
	if total == 0 {
		head = fmt.Sprintf(":information_source: *No sessions revoked* (revoke by %s)", render.Who(r.Who))
	}
	summary, _ := res.render(head, tail.String(), "revoke-result.txt")
	threadSummary, full := shared.render(head, sharedTail.String(), "revoke-result.txt")
	if full != "" && inc != nil {
		h.pub.Attach(ctx, inc, "revoke-result.txt", "Revoke result", full, fmt.Sprintf("Every result of the revoke of %d users", len(results)))
	}
	if inc != nil {
		h.recordRevoke(ctx, r, inc, threadSummary, revoked, unknown, len(results), total, failed, work.ID)
	}
	h.log.WithField("users", len(results)).WithField("revoked", total).WithField("failed", failed).Info("sessions revoked")
	h.ReplyText(ctx, r, summary)
}

// revokeLines sorts each user's revoke result into failures and
// successes, each user named by label; total counts the sessions revoked.
func revokeLines(found []account.User, results []account.RevokeResult, label func(account.User) string) (res resultLines, revoked []account.User, total, failed int) {
	for i, rr := range results {
		u := found[i]
		if rr.Err == nil {
			revoked = append(revoked, u)
		}
		switch {
		case rr.Err != nil:
			failed++
			res.fail(fmt.Sprintf("%s: :x: %s", label(u), render.Esc(render.Redact(rr.Err.Error()))))
		case rr.Left > 0:
			failed++
			res.fail(fmt.Sprintf("%s: %d revoked, :warning: %d still active", label(u), rr.Revoked, rr.Left))
		case rr.Revoked == 0:
			res.ok(fmt.Sprintf("%s: no active sessions, nothing to revoke", label(u)))
		default:
			total += rr.Revoked
			res.ok(fmt.Sprintf("%s: %d revoked, none active", label(u), rr.Revoked))
		}
	}
	return res, revoked, total, failed
}

// recordRevoke puts a revoke on its incident: the timeline, the thread,
// the affected list and the checklist step.
func (h *Security) recordRevoke(ctx context.Context, r Req, inc *incident.Incident, summary string, revoked []account.User, unknown []string, users, total, failed int, workID string) {
	line := fmt.Sprintf("Revoked %d sessions of %d users (%d failed)", total, users, failed)
	if total == 0 {
		line = fmt.Sprintf("No sessions revoked: %d users checked, %d failed, the rest had no active session", users, failed)
	}
	if len(unknown) > 0 {
		// The timeline is read in the report: a count, no e-mails.
		line += fmt.Sprintf("; %d not found in Clerk", len(unknown))
	}
	record := incident.Record(r.Who, line)
	if users > 1 { // a bulk revoke: its work ends with this line
		status := approval.Done
		if failed > 0 {
			status = approval.Failed
		}
		record = incident.EndWork(r.Who, workID, fmt.Sprintf("revoke of the sessions of %d users", users), status, line, line)
	}
	if _, err := h.incidents.Update(ctx, inc.ID, record); err != nil {
		h.log.WithError(err).Warn("could not record revoke")
	}
	h.pub.Thread(ctx, inc, summary)
	affect(ctx, h.Kit, h.store, inc.ID, revoked, "sessions revoked", r.Who)
	if total > 0 || (failed == 0 && users > 0) {
		h.pub.AutoTick(ctx, inc.ID, r.Who, incident.StepRevokeSessions, "revoke")
	}
}

// refsText lists pasted refs (account.ParseRefs tokens) for a reply:
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

func (h *Security) lockout(ctx context.Context, r Req, p Parsed) {
	if !clerkReady(ctx, h.Kit, r, h.clerk != nil) {
		return
	}
	users, reason := splitReason(p.Rest)
	refs, invalid := account.ParseRefs(users)
	// Sign-in and actor tokens are named by ID: Clerk cannot list a user's.
	tokens, invalid := splitTokens(invalid)
	if len(refs) == 0 {
		h.Fail(ctx, r, &UsageError{Problem: "Give the Clerk user IDs (user_…) or e-mail addresses to lock out.", Usage: p.Sub.Usage})
		return
	}
	if len(invalid) > 0 {
		h.Fail(ctx, r, &UsageError{Problem: "These are not user IDs or e-mail addresses (nor sign-in/actor token IDs, sit_… or act_…): " + refsText(invalid) + ". Nothing was requested.", Usage: p.Sub.Usage})
		return
	}
	h.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
		// The approver decides on what is real: each target is looked up
		// now, and only the accounts found are asked for and counted.
		t, err := usecase.ResolveTargets(ctx, h.clerk, refs)
		if err != nil {
			h.Fail(ctx, r, err)
			return
		}
		if len(t.Found) == 0 {
			r.SetOutcome("refused: no target found in Clerk")
			h.ReplyText(ctx, r, render.LockoutRefused(t.NotFound, t.Ambiguous))
			return
		}
		summary := fmt.Sprintf("Ban %d user(s) in Clerk, which blocks their sign-in and revokes their sessions, then revoke any session still active and remove their trusted devices (which skip MFA); their MFA stays on", len(t.Found))
		if len(tokens) > 0 {
			summary += fmt.Sprintf("; revoke %d named sign-in/actor token(s): %s", len(tokens), strings.Join(tokens, ", "))
		}
		h.requests.request(ctx, r, id, approval.Request{Action: approval.Lockout, Targets: t.IDs(), Accounts: t.Found, NotFound: t.NotFound, Ambiguous: t.Ambiguous,
			Tokens: tokens, Reason: reason, Summary: summary})
	})
}

func (h *Security) unlock(ctx context.Context, r Req, p Parsed) {
	refs, inc, ok := oneUser(ctx, h.Kit, r, p, h.clerk != nil)
	if !ok {
		return
	}
	found, unknown, err := h.clerk.FindUsers(ctx, refs)
	if err != nil {
		h.Fail(ctx, r, err)
		return
	}
	if len(found) == 0 {
		h.ReplyText(ctx, r, fmt.Sprintf("No Clerk user matches %s; nothing changed.", refsText(unknown)))
		return
	}
	u := found[0]
	if _, err := h.clerk.Unban(ctx, u.ID); err != nil {
		h.Fail(ctx, r, err)
		return
	}
	// The asker reads the e-mail; the thread the user ID and initials.
	label, shared := render.Esc(u.Label()), render.Account(u.ID, u.Name)
	line := fmt.Sprintf(":unlock: %s unbanned and unlocked %s; they can sign in again.", render.Who(r.Who), "\x00")
	record := "Unbanned and unlocked " + u.ID
	if _, err := h.clerk.Unlock(ctx, u.ID); err != nil {
		// The ban is already lifted: a 403 here means the instance has user
		// lockout turned off, so there is no lockout to lift either.
		if apperr.CodeOf(err) != apperr.ClerkForbidden {
			h.Fail(ctx, r, err)
			return
		}
		line = fmt.Sprintf(":unlock: %s unbanned %s; they can sign in again (user lockout is off on this Clerk instance, so no lockout was in place).", render.Who(r.Who), "\x00")
		record = "Unbanned " + u.ID + " (user lockout is off in Clerk)"
	}
	if inc != nil {
		_, _ = h.incidents.Update(ctx, inc.ID, incident.Record(r.Who, record))
		h.pub.Thread(ctx, inc, strings.Replace(line, "\x00", shared, 1))
		affect(ctx, h.Kit, h.store, inc.ID, []account.User{u}, "unbanned and unlocked", r.Who)
	}
	h.log.WithField("clerk_user", u.ID).WithField("by", r.Who.ID).Info("user unlocked")
	h.ReplyText(ctx, r, strings.Replace(line, "\x00", label, 1))
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

// splitTokens takes the sign-in (sit_…) and actor (act_…) token IDs out
// of the words that are not users.
func splitTokens(words []string) (tokens, rest []string) {
	for _, w := range words {
		if account.IsTokenID(w) {
			if !slices.Contains(tokens, w) {
				tokens = append(tokens, w)
			}
			continue
		}
		rest = append(rest, w)
	}
	return tokens, rest
}
