package handlers

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

func approvalCommands() []Sub {
	return []Sub{
		{Name: "approve", Usage: "/clerk-incident approve <request-id>", Summary: "approve a pending request (not your own)", Who: Decider, NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.decideCmd(ctx, r, p, true) }},
		{Name: "deny", Usage: "/clerk-incident deny <request-id>", Summary: "deny or withdraw a pending request", Who: Decider, NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.decideCmd(ctx, r, p, false) }},
	}
}

func approvalButtons() []Button {
	return []Button{
		{ActionID: render.ActApprove, Who: Approver, Run: func(h *Handlers, ctx context.Context, r req, a bot.Action) { h.decideID(ctx, r, a.Value, true) }, Label: "approve"},
		{ActionID: render.ActDeny, Who: Decider, Run: func(h *Handlers, ctx context.Context, r req, a bot.Action) { h.decideID(ctx, r, a.Value, false) }, Label: "deny"},
	}
}

// decideCmd is `approve` / `deny` typed with a request ID.
func (h *Handlers) decideCmd(ctx context.Context, r req, p Parsed, approve bool) {
	if len(p.Args) != 1 {
		h.fail(ctx, r, &UsageError{Problem: "Give the request ID, such as apr-abc123def456.", Usage: p.Sub.Usage})
		return
	}
	h.decideID(ctx, r, p.Args[0], approve)
}

// Approvals is what handlers need of the approval store.
type Approvals interface {
	Create(ctx context.Context, r approval.Request) (*approval.Request, error)
	Decide(ctx context.Context, id string, by incident.Person, approve bool) (*approval.Request, error)
	Get(ctx context.Context, id string) (*approval.Request, error)
	VoidPending(ctx context.Context, match func(r *approval.Request) bool, reason string) ([]*approval.Request, error)
	CancelApproved(ctx context.Context, match func(r *approval.Request) bool, reason string) ([]*approval.Request, error)
	SetMessage(ctx context.Context, id, channel, ts string) error
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
	inc = h.pub.Cards.WithCard(ctx, inc)
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
		if ts, ok := h.pub.Approvals.PostApproval(ctx, inc, created, h.approvers.Describe()); ok {
			if err := h.approvals.SetMessage(ctx, created.ID, inc.Channel, ts); err != nil {
				h.log.WithError(err).Warn("could not remember approval message")
			}
			// Someone may have clicked before the message's ts was stored,
			// when the decision had no message to show itself on.
			if cur, err := h.approvals.Get(ctx, created.ID); err == nil && cur.Status != approval.Pending {
				h.pub.Approvals.ShowDecision(ctx, cur)
			}
		}
	}
	line := fmt.Sprintf("Requested %s (%s): %s", render.ActionName(created.Action), created.ID, created.Summary)
	if created.Reason != "" {
		line += ". Reason: " + created.Reason
	}
	_, _ = h.store.Update(ctx, incID, incident.Record(r.who, line))
	h.replyText(ctx, r, fmt.Sprintf(":hourglass: Approval requested (`%s`) in the %s thread. Someone else who may approve must click Approve before %s; nothing happens until then.",
		created.ID, incID, render.SlackDate(created.ExpiresAt)))
}

// decideID approves or denies a request, from a button or a command.
func (h *Handlers) decideID(ctx context.Context, r req, id string, approve bool) {
	if !approval.ValidID(id) {
		r.setOutcome("refused: no such request")
		h.replyText(ctx, r, "This approval request does not exist; nothing was done.")
		return
	}
	if h.approvals == nil {
		r.setOutcome("refused: approvals not configured")
		h.replyText(ctx, r, "Approvals are not configured; nothing was done.")
		return
	}
	// The table let in approvers and responders; only approvers approve.
	if approve && !r.operator && !h.allowedApprover(ctx, r) {
		return
	}
	decide := h.approvals.Decide
	if h.executor != nil {
		decide = h.executor.Decide // an approval claims its execution for this replica
	}
	ar, err := decide(ctx, id, r.who, approve)
	if err != nil {
		// A refused decision is audited as refused, with why.
		r.setOutcome("refused: " + refusal(err))
		if h.observe != nil {
			h.observe.Approval("refused")
		}
		h.replyText(ctx, r, approvalSentence(err))
		return
	}
	// The decision is an audit entry of its own, apart from the click.
	h.pub.Ticks.System(ctx, r.who.ID, "approval "+ar.Status, ar.ID+" "+render.ActionName(ar.Action), ar.Incident)
	h.log.WithField("approval", ar.ID).WithField("status", ar.Status).WithField("by", r.who.ID).Info("approval decided")
	if h.observe != nil {
		h.observe.Approval(ar.Status)
	}
	h.pub.Approvals.ShowDecision(ctx, ar)
	verb := "Denied"
	if approve {
		verb = "Approved"
	}
	_, _ = h.store.Update(ctx, ar.Incident, incident.Record(r.who, fmt.Sprintf("%s %s (%s)", verb, render.ActionName(ar.Action), ar.ID)))
	if r.isCommand {
		h.replyText(ctx, r, fmt.Sprintf("%s %s (%s).", verb, render.ActionName(ar.Action), ar.ID))
	}
	if !approve {
		return
	}
	outcome, ok := h.executor.CarryOutClaimed(ctx, ar)
	if ok && r.isCommand {
		h.replyText(ctx, r, outcome)
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

// voidApprovals voids the pending requests that match and shows each as
// void, so no stale Approve button can act any more.
func (h *Handlers) voidApprovals(ctx context.Context, match func(*approval.Request) bool, reason string) {
	if h.approvals == nil {
		return
	}
	voided, err := h.approvals.VoidPending(ctx, match, reason)
	if err != nil {
		h.log.WithError(err).Warn("could not void pending approvals")
	}
	for _, ar := range voided {
		h.pub.Approvals.Voided(ctx, ar)
	}
}

// cancelApproved gives the approved requests that match and were not
// carried out yet a "not carried out" outcome, and shows it.
func (h *Handlers) cancelApproved(ctx context.Context, match func(*approval.Request) bool, reason string) {
	if h.approvals == nil {
		return
	}
	cancelled, err := h.approvals.CancelApproved(ctx, match, reason)
	if err != nil {
		h.log.WithError(err).Warn("could not cancel approved requests")
	}
	for _, ar := range cancelled {
		h.pub.Approvals.Executed(ctx, ar)
	}
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
