package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/slack-go/slack"
)

// ApprovalMsg renders a pending request with its buttons.
func ApprovalMsg(a *approval.Request, approvers string) bot.Msg {
	text := fmt.Sprintf(":raised_hand: *Approval needed: %s* · %s\n*What will happen:* %s", render.ActionName(a.Action), a.Incident, a.Summary)
	if len(a.Targets) > 0 {
		// Approvers see exactly what they approve: every target, or the
		// count and the attached file when the list does not fit.
		if TargetsFit(a.Targets) {
			text += fmt.Sprintf("\n*Targets (%d):* %s", len(a.Targets), render.Esc(strings.Join(a.Targets, ", ")))
		} else {
			text += fmt.Sprintf("\n*Targets (%d):* too many to show here; the full list is in the attached file `%s`. Read it before approving.", len(a.Targets), targetsFile(a))
		}
	}
	if a.Duration > 0 {
		text += "\n*Duration:* " + render.ShortDuration(a.Duration)
	}
	if a.Reason != "" {
		text += "\n*Reason:* " + render.Esc(render.Truncate(a.Reason, 500))
	}
	text += fmt.Sprintf("\nRequested by %s · expires %s · approvers: %s (not the requester)", render.Who(a.RequestedBy), render.SlackDate(a.ExpiresAt), approvers)
	return bot.Msg{Text: "Approval needed: " + a.Summary, Blocks: []slack.Block{
		render.Section(text),
		slack.NewActionBlock("approval:"+a.ID,
			render.Button(render.ActApprove, "Approve", a.ID, slack.StylePrimary),
			render.Button(render.ActDeny, "Deny", a.ID, slack.StyleDanger)),
	}}
}

// DecidedMsg renders a request after its decision: no buttons, the outcome.
func DecidedMsg(a *approval.Request) bot.Msg {
	var outcome string
	switch a.Status {
	case approval.Approved:
		outcome = fmt.Sprintf(":white_check_mark: Approved by %s at %s.", render.Who(*a.DecidedBy), render.SlackDate(a.DecidedAt))
	case approval.Denied:
		outcome = fmt.Sprintf(":no_entry_sign: Denied by %s at %s. Nothing was done.", render.Who(*a.DecidedBy), render.SlackDate(a.DecidedAt))
	case approval.Expired:
		outcome = fmt.Sprintf(":hourglass: Expired at %s without a decision. Nothing was done.", render.SlackDate(a.ExpiresAt))
	case approval.Voided:
		outcome = fmt.Sprintf(":no_entry_sign: void: %s. Nothing was done.", a.VoidReason)
	}
	if a.Outcome != "" {
		outcome += "\n" + a.Outcome
	}
	text := fmt.Sprintf("*%s* · %s\n*Requested:* %s\nRequested by %s\n%s", strings.ToUpper(render.ActionName(a.Action)[:1])+render.ActionName(a.Action)[1:], a.Incident, a.Summary, render.Who(a.RequestedBy), outcome)
	return bot.Msg{Text: outcome, Blocks: []slack.Block{render.Section(text)}}
}

// Approvals delivers approval requests and their outcomes
// (approval.Announcer).
type Approvals struct {
	base
	outbox  *Outbox
	ticks   Ticker
	observe Observer
}

// Executed implements approval.Announcer: the outcome goes on the
// timeline, in the thread, and replaces the request's message.
func (p *Approvals) Executed(ctx context.Context, ar *approval.Request) {
	if inc, err := p.st.Incidents.Current(ctx, ar.Incident); err == nil {
		_, _ = p.st.Incidents.Update(ctx, inc.ID, incident.Record(incident.Person{Name: "bot"}, fmt.Sprintf("%s (%s) result: %s", render.ActionName(ar.Action), ar.ID, render.TimelineText(ar.Outcome))))
		p.outbox.Thread(ctx, inc, ar.Outcome)
	}
	p.ShowDecision(ctx, ar)
}

// ShowDecision replaces a request's Approve/Deny buttons with its state.
func (p *Approvals) ShowDecision(ctx context.Context, ar *approval.Request) {
	if ar.Channel == "" || ar.MessageTS == "" {
		return
	}
	if err := p.slack.Update(ctx, ar.Channel, ar.MessageTS, DecidedMsg(ar)); err != nil {
		p.log.WithError(err).WithField("approval", ar.ID).Warn("could not update approval message")
	}
}

// ApprovalExpired tells the thread a request expired undecided.
func (p *Approvals) ApprovalExpired(ctx context.Context, ar *approval.Request) {
	p.ShowDecision(ctx, ar)
	_, _ = p.st.Incidents.Update(ctx, ar.Incident, incident.Record(incident.Person{Name: "bot"}, fmt.Sprintf("Approval request %s (%s) expired; nothing was done", ar.ID, render.ActionName(ar.Action))))
	p.ticks.System(ctx, "bot", "approval expired", ar.ID+" "+ar.Summary, ar.Incident)
	if p.observe != nil {
		p.observe.Approval(approval.Expired)
	}
}

// PostApproval posts a pending request with its buttons in the incident
// thread and returns its ts.
func (p *Approvals) PostApproval(ctx context.Context, inc *incident.Incident, ar *approval.Request, approvers string) (string, bool) {
	if !TargetsFit(ar.Targets) {
		if err := p.slack.Upload(ctx, inc.Channel, inc.CardTS, targetsFile(ar), "Targets of "+ar.ID, strings.Join(ar.Targets, "\n")+"\n",
			fmt.Sprintf("%d targets of %s (%s)", len(ar.Targets), ar.ID, render.ActionName(ar.Action))); err != nil {
			p.log.WithError(err).WithField("approval", ar.ID).Warn("could not attach the target list; not posting the request")
			return "", false
		}
	}
	ts, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, ApprovalMsg(ar, approvers))
	if err != nil {
		p.log.WithError(err).WithField("approval", ar.ID).Warn("could not post approval request")
		return "", false
	}
	return ts, true
}

// Voided shows a request as void, on its message, the timeline and the
// audit log.
func (p *Approvals) Voided(ctx context.Context, ar *approval.Request) {
	p.ShowDecision(ctx, ar)
	_, _ = p.st.Incidents.Update(ctx, ar.Incident, incident.Record(incident.Person{Name: "bot"}, fmt.Sprintf("Approval request %s (%s) void: %s; nothing was done", ar.ID, render.ActionName(ar.Action), ar.VoidReason)))
	p.ticks.System(ctx, "bot", "approval void", ar.ID+" "+ar.VoidReason, ar.Incident)
	if p.observe != nil {
		p.observe.Approval(approval.Voided)
	}
}

// TargetsFit reports whether the target list fits in the approval message.
func TargetsFit(targets []string) bool {
	n := 0
	for _, t := range targets {
		n += len(t) + 2
	}
	return n <= 2000
}

func targetsFile(ar *approval.Request) string { return ar.ID + "-targets.txt" }
