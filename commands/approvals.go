package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Approvals: the second person's decision on a lockout or a bypass.

// Executor decides approval requests and carries out the approved ones
// (approval.Executor: an approval claims its execution for this replica).
type Executor interface {
	Decide(ctx context.Context, id string, by incident.Person, approve bool) (*approval.Request, error)
	CarryOutClaimed(ctx context.Context, ar *approval.Request) (*approval.Outcome, bool)
}

// DecisionPublisher shows a decision and audits it, and sends an
// approver the targets that do not fit in a message.
type DecisionPublisher interface {
	System(ctx context.Context, actor, action, detail, incidentID string)
	ShowDecision(ctx context.Context, ar *approval.Request)
	UploadToUser(ctx context.Context, user, name, title, content, comment string) error
}

// ApprovalGetter reads a request (approval.Store).
type ApprovalGetter interface {
	Get(ctx context.Context, id string) (*approval.Request, error)
}

// Observer counts approvals (metrics).
type Observer interface {
	Approval(outcome string)
}

// Approvals approves and denies requests.
type Approvals struct {
	*Kit
	decider Executor // nil: approvals are not configured
	access  *Access
	pub     DecisionPublisher
	observe Observer       // nil: not counted
	store   ApprovalGetter // nil: approvals are not configured
}

// NewApprovals wires the family.
func NewApprovals(k *Kit, decider Executor, access *Access, pub DecisionPublisher, observe Observer, store ApprovalGetter) *Approvals {
	return &Approvals{Kit: k, decider: decider, access: access, pub: pub, observe: observe, store: store}
}

// Title implements Family.
func (ap *Approvals) Title() string { return "Approvals" }

// Commands implements Family.
func (ap *Approvals) Commands() []Sub {
	return []Sub{
		{Name: "approve", Usage: "/clerk-incident approve <request-id>", Summary: "approve a pending request (not your own)", Who: Decider, NoID: true,
			Run: func(ctx context.Context, r Req, p Parsed) { ap.decideCmd(ctx, r, p, true) }},
		{Name: "deny", Usage: "/clerk-incident deny <request-id>", Summary: "deny or withdraw a pending request", Who: Decider, NoID: true,
			Run: func(ctx context.Context, r Req, p Parsed) { ap.decideCmd(ctx, r, p, false) }},
	}
}

// Buttons implements Family.
func (ap *Approvals) Buttons() []Button {
	return []Button{
		{ActionID: render.ActApprove, Who: Approver, Run: func(ctx context.Context, r Req, a bot.Action) { ap.decideID(ctx, r, a.Value, true) }, Label: "approve"},
		{ActionID: render.ActDeny, Who: Decider, Run: func(ctx context.Context, r Req, a bot.Action) { ap.decideID(ctx, r, a.Value, false) }, Label: "deny"},
		{ActionID: render.ActShowTargets, Who: Decider, Personal: true, Run: ap.showTargets, Label: "show a request's targets"},
	}
}

// showTargets gives whoever may decide on a request its full targets
// (names, e-mails, the refs left out) and reason: ephemerally, or as a
// file in their DM when too long. The thread shows IDs and counts only.
func (ap *Approvals) showTargets(ctx context.Context, r Req, a bot.Action) {
	if ap.store == nil || !approval.ValidID(a.Value) {
		ap.ReplyText(ctx, r, "This approval request does not exist; nothing to show.")
		return
	}
	ar, err := ap.store.Get(ctx, a.Value)
	if err != nil {
		ap.ReplyText(ctx, r, approvalSentence(err))
		return
	}
	if m, fits := render.TargetsMsg(ar); fits || r.Operator {
		if !fits {
			m = render.Text(render.TargetsDetail(ar))
		}
		ap.Reply(ctx, r, m)
		return
	}
	name := ar.ID + "-targets-full.txt"
	if err := ap.pub.UploadToUser(ctx, r.Who.ID, name, "Targets of "+ar.ID, render.TargetsDetail(ar),
		fmt.Sprintf("Every target of %s (%s, %s), with names and e-mail addresses", ar.ID, render.ActionName(ar.Action), ar.Incident)); err != nil {
		ap.Fail(ctx, r, err)
		return
	}
	ap.ReplyText(ctx, r, fmt.Sprintf(":lock: The targets of %s are too many for a message: `%s` is in your direct messages with the bot. It holds personal data.", ar.ID, name))
}

// decideCmd is `approve` / `deny` typed with a request ID.
func (ap *Approvals) decideCmd(ctx context.Context, r Req, p Parsed, approve bool) {
	if len(p.Args) != 1 {
		ap.Fail(ctx, r, &UsageError{Problem: "Give the request ID, such as apr-abc123def456.", Usage: p.Sub.Usage})
		return
	}
	ap.decideID(ctx, r, p.Args[0], approve)
}

// ApprovalStore is what asking for an approval needs of the approval store.
type ApprovalStore interface {
	Create(ctx context.Context, r approval.Request) (*approval.Request, error)
	Get(ctx context.Context, id string) (*approval.Request, error)
	SetMessage(ctx context.Context, id, channel, ts string) error
}

// ApprovalPublisher posts a request where it can be approved.
type ApprovalPublisher interface {
	WithCard(ctx context.Context, inc *incident.Incident) *incident.Incident
	PostApproval(ctx context.Context, inc *incident.Incident, ar *approval.Request, approvers string) (string, bool)
	ShowDecision(ctx context.Context, ar *approval.Request)
}

// Describer names who may approve (handlers.Authorizer).
type Describer interface {
	Describe() string
}

// Requests asks for a second person's approval: lockout, bypass on and
// extend, rollback.
type Requests struct {
	*Kit
	pub       ApprovalPublisher
	approvals ApprovalStore
	observe   Observer // nil: not counted
	approvers Describer
}

// NewRequests wires the asking.
func NewRequests(k *Kit, pub ApprovalPublisher, approvals ApprovalStore, observe Observer, approvers Describer) *Requests {
	return &Requests{Kit: k, pub: pub, approvals: approvals, observe: observe, approvers: approvers}
}

// requestApproval posts the request in the incident thread with Approve
// and Deny buttons. Nothing reaches Clerk until someone else approves.
func (re *Requests) request(ctx context.Context, r Req, incID string, ar approval.Request) {
	inc, err := re.incidents.Current(ctx, incID)
	if err != nil {
		re.Fail(ctx, r, err)
		return
	}
	if !inc.Open() {
		re.Fail(ctx, r, withID(incident.ErrAlreadyResolved, incID))
		return
	}
	inc = re.pub.WithCard(ctx, inc)
	ar.Incident = incID
	ar.RequestedBy = r.Who
	created, err := re.approvals.Create(ctx, ar)
	if err != nil {
		re.Fail(ctx, r, err)
		return
	}
	if re.observe != nil {
		re.observe.Approval("requested")
	}
	if inc.Channel != "" {
		if ts, ok := re.pub.PostApproval(ctx, inc, created, re.approvers.Describe()); ok {
			if err := re.approvals.SetMessage(ctx, created.ID, inc.Channel, ts); err != nil {
				re.log.WithError(err).Warn("could not remember approval message")
			}
			// Someone may have clicked before the message's ts was stored,
			// when the decision had no message to show itself on.
			if cur, err := re.approvals.Get(ctx, created.ID); err == nil && cur.Status != approval.Pending {
				re.pub.ShowDecision(ctx, cur)
			}
		}
	}
	// The timeline is read in the report, which the channel reads: IDs
	// and counts, the reason masked.
	line := fmt.Sprintf("Requested %s (%s): %s", render.ActionName(created.Action), created.ID, render.Redact(created.Summary))
	if len(created.Accounts) > 0 {
		line += "; accounts: " + approval.Describe(created.Targets)
	}
	if n := len(created.NotFound) + len(created.Ambiguous); n > 0 {
		line += fmt.Sprintf("; %d target(s) left out (not found or ambiguous)", n)
	}
	if created.Reason != "" {
		line += ". Reason: " + render.Redact(created.Reason)
	}
	_, _ = re.incidents.Update(ctx, incID, incident.Record(r.Who, line))
	reply := fmt.Sprintf(":hourglass: Approval requested (`%s`) in the %s thread. Someone else who may approve must click Approve before %s; nothing happens until then.",
		created.ID, incID, render.SlackDate(created.ExpiresAt))
	if render.HasPrivateTargets(created) {
		// The asker typed them: they see the full resolution; the thread
		// shows IDs and counts.
		reply += "\nWhat the approvers are asked for (the thread shows user IDs and counts only):\n```" +
			render.Esc(render.Truncate(strings.TrimSuffix(render.TargetsDetail(created), "\n"), 2400)) + "```"
	}
	re.ReplyText(ctx, r, reply)
}

// decideID approves or denies a request, from a button or a command.
func (ap *Approvals) decideID(ctx context.Context, r Req, id string, approve bool) {
	if !approval.ValidID(id) {
		r.SetOutcome("refused: no such request")
		ap.ReplyText(ctx, r, "This approval request does not exist; nothing was done.")
		return
	}
	if ap.decider == nil {
		r.SetOutcome("refused: approvals not configured")
		ap.ReplyText(ctx, r, "Approvals are not configured; nothing was done.")
		return
	}
	// The table let in approvers and responders; only approvers approve.
	if approve && !r.Operator && !ap.access.AllowedApprover(ctx, r) {
		return
	}
	ar, err := ap.decider.Decide(ctx, id, r.Who, approve)
	if err != nil {
		// A refused decision is audited as refused, with why.
		r.SetOutcome("refused: " + refusal(err))
		if ap.observe != nil {
			ap.observe.Approval("refused")
		}
		ap.ReplyText(ctx, r, approvalSentence(err))
		return
	}
	// The decision is an audit entry of its own, apart from the click.
	ap.pub.System(ctx, r.Who.ID, "approval "+ar.Status, ar.ID+" "+render.ActionName(ar.Action), ar.Incident)
	ap.log.WithField("approval", ar.ID).WithField("status", ar.Status).WithField("by", r.Who.ID).Info("approval decided")
	if ap.observe != nil {
		ap.observe.Approval(ar.Status)
	}
	ap.pub.ShowDecision(ctx, ar)
	verb := "Denied"
	if approve {
		verb = "Approved"
	}
	_, _ = ap.incidents.Update(ctx, ar.Incident, incident.Record(r.Who, fmt.Sprintf("%s %s (%s)", verb, render.ActionName(ar.Action), ar.ID)))
	if r.IsCommand {
		ap.ReplyText(ctx, r, fmt.Sprintf("%s %s (%s).", verb, render.ActionName(ar.Action), ar.ID))
	}
	if !approve {
		return
	}
	if _, ok := ap.decider.CarryOutClaimed(ctx, ar); ok && r.IsCommand {
		ap.ReplyText(ctx, r, render.OutcomeText(ar))
	}
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

// refusal names why a decision was refused, for the audit log.
func refusal(err error) string {
	var exp *approval.ExpiredError
	var dec *approval.DecidedError
	switch {
	case errors.Is(err, approval.ErrSelf):
		return "self-approval"
	case errors.Is(err, approval.ErrUnknown):
		return "no such request"
	case errors.As(err, &exp):
		return "expired"
	case errors.As(err, &dec) && dec.Req.Status == approval.Expired:
		return "expired"
	case errors.As(err, &dec):
		return "already " + dec.Req.Status
	}
	return "failed"
}
