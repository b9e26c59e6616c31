package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Approvals delivers approval requests and their outcomes. What they
// leave on the timeline and the audit log is recorded by the caller
// (usecase.ApprovalNews) before it asks for them to be shown.
type Approvals struct {
	base
	outbox *Outbox
	files  *Files
}

// ShowOutcome puts a carried-out request's outcome in the thread (with the
// full result as a file when it does not fit) and replaces the request's
// message.
func (a *Approvals) ShowOutcome(ctx context.Context, ar *approval.Request) {
	if inc, err := a.st.Incidents.Current(ctx, ar.Incident); err == nil && ar.Outcome != nil {
		if name, content := render.OutcomeFile(ar); content != "" {
			a.files.Attach(ctx, inc, name, render.Capitalize(render.ActionName(ar.Action))+" result", content, fmt.Sprintf("Every result of %s %s", render.ActionName(ar.Action), ar.ID))
		}
		a.outbox.Thread(ctx, inc, render.OutcomeText(ar))
	}
	a.ShowDecision(ctx, ar)
}

// ShowDecision replaces a request's Approve/Deny buttons with its state.
func (a *Approvals) ShowDecision(ctx context.Context, ar *approval.Request) {
	if ar.Channel == "" || ar.MessageTS == "" {
		return
	}
	if err := a.slack.Update(ctx, ar.Channel, ar.MessageTS, render.DecidedMsg(ar)); err != nil {
		a.log.WithError(err).WithField("approval", ar.ID).Warn("could not update approval message")
	}
}

// PostApproval posts a pending request with its buttons in the incident
// thread and returns its ts.
func (a *Approvals) PostApproval(ctx context.Context, inc *incident.Incident, ar *approval.Request, approvers string) (string, bool) {
	if render.TargetsAttached(ar) {
		if err := a.slack.Upload(ctx, inc.Channel, inc.CardTS, render.TargetsFile(ar), "Targets of "+ar.ID, strings.Join(ar.Targets, "\n")+"\n",
			fmt.Sprintf("%d targets of %s (%s)", len(ar.Targets), ar.ID, render.ActionName(ar.Action))); err != nil {
			a.log.WithError(err).WithField("approval", ar.ID).Warn("could not attach the target list; not posting the request")
			return "", false
		}
	}
	ts, err := a.slack.Post(ctx, inc.Channel, inc.CardTS, render.ApprovalMsg(ar, approvers))
	if err != nil {
		a.log.WithError(err).WithField("approval", ar.ID).Warn("could not post approval request")
		return "", false
	}
	return ts, true
}
