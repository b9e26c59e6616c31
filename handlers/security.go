package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Clerk is what handlers need of the Clerk operations.
type Clerk interface {
	FindUsers(ctx context.Context, refs []string) ([]clerkops.User, []string, error)
	RevokeMany(ctx context.Context, ids []string, concurrency int, verify bool, progress func(done, failed int)) []clerkops.RevokeResult
	RevokeSessions(ctx context.Context, id string, verify bool) clerkops.RevokeResult
	Ban(ctx context.Context, id string) (clerkops.User, error)
	Unban(ctx context.Context, id string) (clerkops.User, error)
	Unlock(ctx context.Context, id string) (clerkops.User, error)
}

// Approvals is what handlers need of the approval store.
type Approvals interface {
	Create(ctx context.Context, r approval.Request) (*approval.Request, error)
	Decide(ctx context.Context, id string, by incident.Person, approve bool) (*approval.Request, error)
	Get(ctx context.Context, id string) (*approval.Request, error)
	SetMessage(ctx context.Context, id, channel, ts string) error
	SetOutcome(ctx context.Context, id, outcome string) error
	ExpireDue(ctx context.Context, fn func(ctx context.Context, r *approval.Request)) error
	ClaimExecution(ctx context.Context, id, owner string, ttl time.Duration) (bool, error)
	RenewExecution(ctx context.Context, id, owner string, ttl time.Duration) error
	Unexecuted(ctx context.Context) ([]string, error)
}

// Bypass is what handlers need of the bypass store.
type Bypass interface {
	On(ctx context.Context, st bypass.State) error
	Off(ctx context.Context) (bypass.State, bool, error)
	Get(ctx context.Context) (bypass.State, error)
	Tick(ctx context.Context, n bypass.Notifier) error
}

// Action IDs of approval buttons.
const (
	ActApprove = "approval_approve"
	ActDeny    = "approval_deny"
)

// Approval actions.
const (
	ApprovalLockout  = "lockout"
	ApprovalBypassOn = "bypass_on"
)

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
	prog := h.startProgress(ctx, inc, fmt.Sprintf("Revoking the sessions of %d users", len(ids)), len(ids))
	results := h.clerk.RevokeMany(ctx, ids, 4, len(ids) <= 20, prog.update)
	prog.finish(ctx)
	var b strings.Builder
	total, failed := 0, 0
	fmt.Fprintf(&b, ":lock: *Sessions revoked* by %s", r.who.Mention())
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
		h.thread(ctx, inc, summary)
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

// progressMsg keeps one thread message up to date, at most every 2 s.
type progressMsg struct {
	h     *Handlers
	inc   *incident.Incident
	what  string
	total int
	ts    string
	start time.Time

	mu           sync.Mutex
	done, failed int
	last         time.Time
}

func (h *Handlers) startProgress(ctx context.Context, inc *incident.Incident, what string, total int) *progressMsg {
	p := &progressMsg{h: h, inc: inc, what: what, total: total, start: time.Now()}
	if inc == nil || total < 2 || inc.Channel == "" {
		return p
	}
	ts, err := h.slack.Post(ctx, inc.Channel, inc.CardTS, Text(p.text()))
	if err == nil {
		p.ts = ts
	}
	return p
}

func (p *progressMsg) text() string {
	return fmt.Sprintf(":hourglass_flowing_sand: %s: %d/%d done, %d failed", p.what, p.done, p.total, p.failed)
}

func (p *progressMsg) update(done, failed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.failed = max(p.done, done), max(p.failed, failed)
	if p.ts == "" || time.Since(p.last) < 2*time.Second {
		return
	}
	p.last = time.Now()
	_ = p.h.slack.Update(context.Background(), p.inc.Channel, p.ts, Text(p.text()))
}

func (p *progressMsg) finish(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ts == "" {
		return
	}
	text := fmt.Sprintf(":white_check_mark: %s: %d/%d done, %d failed, in %s", p.what, p.done, p.total, p.failed, time.Since(p.start).Round(time.Second))
	_ = p.h.slack.Update(ctx, p.inc.Channel, p.ts, Text(text))
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
		summary := fmt.Sprintf("Ban %d user(s) in Clerk, which blocks their sign-in and revokes their sessions, then revoke any session still active: %s",
			len(refs), approval.Describe(refs))
		h.requestApproval(ctx, r, id, approval.Request{Action: ApprovalLockout, Targets: refs, Reason: reason, Summary: summary})
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
	line := fmt.Sprintf(":unlock: %s unbanned and unlocked %s; they can sign in again.", r.who.Mention(), u.Label())
	if inc != nil {
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(r.who, "Unbanned and unlocked "+u.Label()))
		h.thread(ctx, inc, line)
	}
	h.log.WithField("clerk_user", u.ID).WithField("by", r.who.ID).Info("user unlocked")
	h.replyText(ctx, r, line)
}

// requestApproval posts the request in the incident thread with Approve
// and Deny buttons. Nothing reaches Clerk until someone else approves.
func (h *Handlers) requestApproval(ctx context.Context, r req, incID string, ar approval.Request) {
	inc, err := h.store.Current(ctx, incID)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if !inc.Open() {
		h.fail(ctx, r, withID(incident.ErrAlreadyResolved, incID))
		return
	}
	inc = h.withCard(ctx, inc)
	ar.Incident = incID
	ar.RequestedBy = r.who
	created, err := h.approvals.Create(ctx, ar)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if h.observe != nil {
		h.observe.Approval("requested")
	}
	if inc.Channel != "" {
		ts, err := h.slack.Post(ctx, inc.Channel, inc.CardTS, ApprovalMsg(created, h.approvers.Describe()))
		if err != nil {
			h.log.WithError(err).Warn("could not post approval request")
		} else if err := h.approvals.SetMessage(ctx, created.ID, inc.Channel, ts); err != nil {
			h.log.WithError(err).Warn("could not remember approval message")
		}
	}
	line := fmt.Sprintf("Requested %s (%s): %s", actionName(created.Action), created.ID, created.Summary)
	if created.Reason != "" {
		line += ". Reason: " + created.Reason
	}
	_, _ = h.store.Update(ctx, incID, incident.Record(r.who, line))
	h.replyText(ctx, r, fmt.Sprintf(":hourglass: Approval requested (`%s`) in the %s thread. Someone else who may approve must click Approve before %s; nothing happens until then.",
		created.ID, incID, slackDate(created.ExpiresAt)))
}

func actionName(a string) string {
	switch a {
	case ApprovalLockout:
		return "lockout"
	case ApprovalBypassOn:
		return "emergency bypass"
	}
	return a
}

// ApprovalMsg renders a pending request with its buttons.
func ApprovalMsg(a *approval.Request, approvers string) bot.Msg {
	text := fmt.Sprintf(":raised_hand: *Approval needed: %s* · %s\n*What will happen:* %s", actionName(a.Action), a.Incident, a.Summary)
	if a.Duration > 0 {
		text += "\n*Duration:* " + shortDuration(a.Duration)
	}
	if a.Reason != "" {
		text += "\n*Reason:* " + truncate(a.Reason, 500)
	}
	text += fmt.Sprintf("\nRequested by %s · expires %s · approvers: %s (not the requester)", a.RequestedBy.Mention(), slackDate(a.ExpiresAt), approvers)
	return bot.Msg{Text: "Approval needed: " + a.Summary, Blocks: []slack.Block{
		section(text),
		slack.NewActionBlock("approval:"+a.ID,
			button(ActApprove, "Approve", a.ID, slack.StylePrimary),
			button(ActDeny, "Deny", a.ID, slack.StyleDanger)),
	}}
}

// DecidedMsg renders a request after its decision: no buttons, the outcome.
func DecidedMsg(a *approval.Request) bot.Msg {
	var outcome string
	switch a.Status {
	case approval.Approved:
		outcome = fmt.Sprintf(":white_check_mark: Approved by %s at %s.", a.DecidedBy.Mention(), slackDate(a.DecidedAt))
	case approval.Denied:
		outcome = fmt.Sprintf(":no_entry_sign: Denied by %s at %s. Nothing was done.", a.DecidedBy.Mention(), slackDate(a.DecidedAt))
	case approval.Expired:
		outcome = fmt.Sprintf(":hourglass: Expired at %s without a decision. Nothing was done.", slackDate(a.ExpiresAt))
	}
	if a.Outcome != "" {
		outcome += "\n" + a.Outcome
	}
	text := fmt.Sprintf("*%s* · %s\n*Requested:* %s\nRequested by %s\n%s", strings.ToUpper(actionName(a.Action)[:1])+actionName(a.Action)[1:], a.Incident, a.Summary, a.RequestedBy.Mention(), outcome)
	return bot.Msg{Text: outcome, Blocks: []slack.Block{section(text)}}
}

func (h *Handlers) decide(ctx context.Context, r req, a bot.Action) {
	h.decideID(ctx, r, a.Value, a.ActionID == ActApprove)
}

// decideID approves or denies a request, from a button or a command.
func (h *Handlers) decideID(ctx context.Context, r req, id string, approve bool) {
	if !approval.ValidID(id) {
		h.replyText(ctx, r, "This approval request does not exist; nothing was done.")
		return
	}
	if h.approvals == nil {
		h.replyText(ctx, r, "Approvals are not configured; nothing was done.")
		return
	}
	if approve && !r.operator {
		ok, err := h.approvers.Allowed(ctx, r.who.ID)
		if !ok {
			msg := fmt.Sprintf(":no_entry: Only approvers may approve (%s). Nothing was done.", h.approvers.Describe())
			if err != nil {
				msg = ":no_entry: Could not confirm you are an approver (Slack user groups did not answer). Nothing was done."
			}
			h.replyText(ctx, r, msg)
			return
		}
	} else if !h.allowed(ctx, r) {
		return
	}
	ar, err := h.approvals.Decide(ctx, id, r.who, approve)
	if err != nil {
		h.replyText(ctx, r, approvalSentence(err))
		return
	}
	h.log.WithField("approval", ar.ID).WithField("status", ar.Status).WithField("by", r.who.ID).Info("approval decided")
	if h.observe != nil {
		h.observe.Approval(ar.Status)
	}
	if ar.Channel != "" && ar.MessageTS != "" {
		if err := h.slack.Update(ctx, ar.Channel, ar.MessageTS, DecidedMsg(ar)); err != nil {
			h.log.WithError(err).Warn("could not update approval message")
		}
	}
	verb := "Denied"
	if approve {
		verb = "Approved"
	}
	_, _ = h.store.Update(ctx, ar.Incident, incident.Record(r.who, fmt.Sprintf("%s %s (%s)", verb, actionName(ar.Action), ar.ID)))
	if r.isCommand {
		h.replyText(ctx, r, fmt.Sprintf("%s %s (%s).", verb, actionName(ar.Action), ar.ID))
	}
	if !approve {
		return
	}
	outcome, ok := h.carryOut(ctx, ar)
	if ok && r.isCommand {
		h.replyText(ctx, r, outcome)
	}
}

// execLease is how long a claim on carrying out an approved request lasts
// unless renewed; a replica that dies loses it this soon.
const execLease = 15 * time.Second

// carryOut executes an approved request once it holds its claim, records
// the outcome (which takes it off the outbox) and shows it.
func (h *Handlers) carryOut(ctx context.Context, ar *approval.Request) (string, bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), longWork)
	defer cancel()
	if ok, err := h.approvals.ClaimExecution(ctx, ar.ID, h.owner, execLease); err != nil || !ok {
		return "", false
	}
	// Keep the claim while working: a bulk lockout can outlast it.
	renewCtx, stopRenew := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(execLease / 3)
		defer t.Stop()
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-t.C:
				_ = h.approvals.RenewExecution(renewCtx, ar.ID, h.owner, execLease)
			}
		}
	}()
	outcome := h.execute(ctx, ar)
	stopRenew()
	<-renewed
	_ = h.approvals.SetOutcome(ctx, ar.ID, outcome)
	ar.Outcome = outcome
	if ar.Channel != "" && ar.MessageTS != "" {
		_ = h.slack.Update(ctx, ar.Channel, ar.MessageTS, DecidedMsg(ar))
	}
	return outcome, true
}

func approvalSentence(err error) string {
	var exp *approval.ExpiredError
	var dec *approval.DecidedError
	switch {
	case errors.Is(err, approval.ErrUnknown), errors.Is(err, approval.ErrSelf), errors.As(err, &exp), errors.As(err, &dec):
		s := err.Error()
		return strings.ToUpper(s[:1]) + s[1:] + "."
	}
	msg, _ := Sentence(err)
	return msg
}

// execute carries out an approved request and returns its outcome.
func (h *Handlers) execute(ctx context.Context, ar *approval.Request) string {
	inc, _ := h.store.Current(ctx, ar.Incident)
	var outcome string
	switch ar.Action {
	case ApprovalLockout:
		outcome = h.executeLockout(ctx, ar)
	case ApprovalBypassOn:
		outcome = h.executeBypass(ctx, ar)
	default:
		outcome = "Unknown action; nothing was done."
	}
	if inc != nil {
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(incident.Person{Name: "bot"}, fmt.Sprintf("%s (%s) result: %s", actionName(ar.Action), ar.ID, oneLine(outcome))))
		h.thread(ctx, inc, outcome)
	}
	return outcome
}

func (h *Handlers) executeLockout(ctx context.Context, ar *approval.Request) string {
	if h.clerk == nil {
		return ":x: Clerk is not configured; nothing was done."
	}
	found, unknown, err := h.clerk.FindUsers(ctx, ar.Targets)
	if err != nil {
		msg, _ := Sentence(err)
		return ":x: Lockout failed before any ban: " + msg
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":lock: *Lockout* (%s)", ar.ID)
	for _, u := range found {
		if _, err := h.clerk.Ban(ctx, u.ID); err != nil {
			fmt.Fprintf(&b, "\n• %s: :x: %s", u.Label(), err)
			continue
		}
		res := h.clerk.RevokeSessions(ctx, u.ID, true)
		switch {
		case res.Err != nil:
			fmt.Fprintf(&b, "\n• %s: banned; :warning: session check failed: %s", u.Label(), res.Err)
		case res.Left > 0:
			fmt.Fprintf(&b, "\n• %s: banned; :warning: %d sessions still active", u.Label(), res.Left)
		default:
			fmt.Fprintf(&b, "\n• %s: banned, sign-in blocked, no active session left (%d more revoked)", u.Label(), res.Revoked)
		}
		h.log.WithField("clerk_user", u.ID).WithField("approval", ar.ID).Info("user locked out")
	}
	appendProblems(&b, unknown, nil)
	return b.String()
}

func (h *Handlers) executeBypass(ctx context.Context, ar *approval.Request) string {
	if h.bypass == nil {
		return ":x: The bypass is not configured; nothing was done."
	}
	if cur, err := h.bypass.Get(ctx); err == nil && cur.Enabled && cur.Incident != ar.Incident {
		return fmt.Sprintf(":x: A bypass for %s is already on until %s; nothing was done.", cur.Incident, slackDate(cur.ExpiresAt))
	}
	st := bypass.State{ExpiresAt: h.now().UTC().Add(ar.Duration).Truncate(time.Second), Incident: ar.Incident, Reason: ar.Reason,
		RequestedBy: ar.RequestedBy.ID, ApprovedBy: ar.DecidedBy.ID}
	if err := h.bypass.On(ctx, st); err != nil {
		msg, _ := Sentence(err)
		return ":x: The bypass could not be turned on: " + msg
	}
	h.log.WithField("incident", ar.Incident).WithField("expires_at", st.ExpiresAt).Warn("emergency auth bypass ON")
	h.system(ctx, "bot", "bypass on", "until "+st.ExpiresAt.Format(time.RFC3339)+" approved by "+ar.DecidedBy.ID, ar.Incident)
	return fmt.Sprintf(":rotating_light: *Emergency auth bypass is ON* until %s (%s). Apps reading `GET /v1/bypass` let users in without Clerk. It ends by itself; `/clerk-incident bypass off` ends it now.",
		slackDate(st.ExpiresAt), shortDuration(ar.Duration))
}

func (h *Handlers) bypassCmd(ctx context.Context, r req, p Parsed) {
	if h.bypass == nil {
		h.replyText(ctx, r, "The emergency bypass is not configured.")
		return
	}
	sub := ""
	if len(p.Args) > 0 {
		sub = strings.ToLower(p.Args[0])
	}
	switch sub {
	case "status", "":
		st, err := h.bypass.Get(ctx)
		if err != nil {
			h.fail(ctx, r, err)
			return
		}
		if !st.Enabled {
			h.replyText(ctx, r, ":lock: The emergency auth bypass is *off*: Clerk auth is enforced.")
			return
		}
		h.replyText(ctx, r, fmt.Sprintf(":rotating_light: The emergency auth bypass is *ON* for %s until %s (requested by <@%s>, approved by <@%s>). Reason: %s",
			st.Incident, slackDate(st.ExpiresAt), st.RequestedBy, st.ApprovedBy, orNone(st.Reason)))
	case "off":
		if !h.allowed(ctx, r) {
			return
		}
		was, found, err := h.bypass.Off(ctx)
		if err != nil {
			h.fail(ctx, r, err)
			return
		}
		if !found {
			h.replyText(ctx, r, "The emergency bypass is not on; nothing changed.")
			return
		}
		line := fmt.Sprintf(":lock: %s turned the emergency auth bypass *OFF*: Clerk auth is enforced again.", r.who.Mention())
		h.bypassNotice(ctx, was.Incident, r.who, "Emergency bypass turned off", line)
		h.replyText(ctx, r, ":white_check_mark: The emergency bypass is off.")
	case "on":
		if !h.allowed(ctx, r) {
			return
		}
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(p.Rest), p.Args[0]))
		dur := 30 * time.Minute
		if w, after := splitWord(rest); w != "" {
			if d, err := time.ParseDuration(w); err == nil {
				dur, rest = d, after
			}
		}
		if dur <= 0 || dur > h.bypassMax {
			h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("The bypass may last from 1m to %s (BYPASS_MAX_DURATION).", shortDuration(h.bypassMax)), Usage: p.Sub.Usage})
			return
		}
		if len([]rune(rest)) > MaxText {
			h.fail(ctx, r, &UsageError{Problem: "The reason is too long.", Usage: p.Sub.Usage})
			return
		}
		if cur, err := h.bypass.Get(ctx); err == nil && cur.Enabled {
			h.replyText(ctx, r, fmt.Sprintf("The bypass is already on for %s until %s; nothing was requested.", cur.Incident, slackDate(cur.ExpiresAt)))
			return
		}
		h.withIncident(ctx, r, p, false, func(ctx context.Context, r req, id string) {
			summary := fmt.Sprintf("Turn ON the emergency auth bypass for %s: apps reading GET /v1/bypass let every request through without Clerk until it ends", shortDuration(dur))
			h.requestApproval(ctx, r, id, approval.Request{Action: ApprovalBypassOn, Duration: dur, Reason: oneLine(rest), Summary: summary})
		})
	default:
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: say on, off or status.", p.Args[0]), Usage: p.Sub.Usage})
	}
}

func orNone(s string) string {
	if s == "" {
		return "none given"
	}
	return s
}

// bypassNotice tells the incident's thread (broadcast to the channel) and
// records it on the timeline.
func (h *Handlers) bypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string) {
	inc, err := h.store.Current(ctx, incID)
	if err != nil {
		h.log.WithError(err).Warn("bypass notice: incident not found")
		return
	}
	_, _ = h.store.Update(ctx, incID, incident.Record(who, entry))
	if inc.Channel != "" {
		m := Text(line)
		m.Broadcast = true
		if _, err := h.slack.Post(ctx, inc.Channel, inc.CardTS, m); err != nil {
			h.log.WithError(err).Warn("could not post bypass notice")
		}
	}
}

// BypassReminder implements bypass.Notifier.
func (h *Handlers) BypassReminder(ctx context.Context, st bypass.State) {
	h.bypassNotice(ctx, st.Incident, incident.Person{Name: "bot"}, "Emergency bypass ends in 5 minutes",
		fmt.Sprintf(":hourglass: The emergency auth bypass ends at %s. Extend it with `/clerk-incident bypass on <duration>` (needs approval), or let it end.", slackDate(st.ExpiresAt)))
}

// BypassExpired implements bypass.Notifier.
func (h *Handlers) BypassExpired(ctx context.Context, st bypass.State) {
	h.log.WithField("incident", st.Incident).Warn("emergency auth bypass expired")
	h.system(ctx, "bot", "bypass expired", "ended by itself", st.Incident)
	h.bypassNotice(ctx, st.Incident, incident.Person{Name: "bot"}, "Emergency bypass ended by itself",
		fmt.Sprintf(":lock: The emergency auth bypass *ended by itself* at %s: Clerk auth is enforced again.", slackDate(st.ExpiresAt)))
}

// turnOffBypassFor ends a bypass that belongs to a resolved incident.
func (h *Handlers) turnOffBypassFor(ctx context.Context, inc *incident.Incident, by incident.Person) {
	if h.bypass == nil {
		return
	}
	cur, err := h.bypass.Get(ctx)
	if err != nil || !cur.Enabled || cur.Incident != inc.ID {
		return
	}
	if _, found, err := h.bypass.Off(ctx); err != nil || !found {
		return
	}
	h.bypassNotice(ctx, inc.ID, by, "Emergency bypass turned off on resolve",
		fmt.Sprintf(":lock: Resolving %s turned the emergency auth bypass *OFF*: Clerk auth is enforced again.", inc.ID))
}

// Sweep runs the timed work that is not escalation: approval expiry and
// the bypass reminder and end. Every replica may run it; each transition
// happens once.
func (h *Handlers) Sweep(ctx context.Context) {
	if h.approvals != nil {
		err := h.approvals.ExpireDue(ctx, func(ctx context.Context, ar *approval.Request) {
			if ar.Channel != "" && ar.MessageTS != "" {
				_ = h.slack.Update(ctx, ar.Channel, ar.MessageTS, DecidedMsg(ar))
			}
			_, _ = h.store.Update(ctx, ar.Incident, incident.Record(incident.Person{Name: "bot"}, fmt.Sprintf("Approval request %s (%s) expired; nothing was done", ar.ID, actionName(ar.Action))))
			h.system(ctx, "bot", "approval expired", ar.ID+" "+ar.Summary, ar.Incident)
			if h.observe != nil {
				h.observe.Approval(approval.Expired)
			}
		})
		if err != nil {
			h.log.WithError(err).Warn("approval expiry failed")
		}
	}
	if h.bypass != nil {
		if err := h.bypass.Tick(ctx, h); err != nil {
			h.log.WithError(err).Warn("bypass tick failed")
		}
	}
	if h.resync != nil {
		h.resync.Resume(ctx)
	}
	if h.approvals != nil {
		// Approved requests whose replica died before carrying them out.
		ids, _ := h.approvals.Unexecuted(ctx)
		for _, id := range ids {
			ar, err := h.approvals.Get(ctx, id)
			if err != nil || ar.Status != approval.Approved || ar.Outcome != "" {
				continue
			}
			h.carryOut(ctx, ar)
		}
	}
	h.catchUp(ctx)
}
