package render

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/slack-go/slack"
)

// ApprovalMsg renders a pending request with its buttons. The thread
// reads it, guests included: accounts go by user ID and initials, the
// reason with e-mails and IPs masked; *Show targets* gives the approver
// the full list, ephemerally.
func ApprovalMsg(a *approval.Request, approvers string) bot.Msg {
	text := fmt.Sprintf(":raised_hand: *Approval needed: %s* · %s\n*What will happen:* %s", ActionName(a.Action), a.Incident, Redact(a.Summary))
	text += requestBody(a)
	text += fmt.Sprintf("\nRequested by %s · expires %s · approvers: %s (not the requester)", Who(a.RequestedBy), SlackDate(a.ExpiresAt), approvers)
	buttons := []slack.BlockElement{
		Button(ActApprove, "Approve", a.ID, slack.StylePrimary),
		Button(ActDeny, "Deny", a.ID, slack.StyleDanger)}
	if HasPrivateTargets(a) {
		buttons = append(buttons, Button(ActShowTargets, "Show targets", a.ID, ""))
	}
	return bot.Msg{Text: "Approval needed: " + Redact(a.Summary), Blocks: []slack.Block{
		Section(text),
		slack.NewActionBlock("approval:"+a.ID, buttons...),
	}}
}

// ActShowTargets shows a request's full targets to the approver who
// clicks it, ephemerally.
const ActShowTargets = "approval_targets"

// HasPrivateTargets reports whether a request holds more than its thread
// message shows: resolved accounts, refs left out, a masked reason.
func HasPrivateTargets(a *approval.Request) bool {
	if len(a.Accounts) > 0 || len(a.NotFound) > 0 || len(a.Ambiguous) > 0 || Redact(a.Reason) != a.Reason {
		return true
	}
	for _, t := range a.Targets { // a stored request may name e-mails
		if Redact(t) != t {
			return true
		}
	}
	return false
}

// requestBody is what a request acts on and why, as the thread reads it:
// kept on the message after the decision.
func requestBody(a *approval.Request) string {
	var text string
	if len(a.Targets) > 0 {
		labels := threadTargets(a)
		// Approvers see what they approve: every target, or the count
		// and the attached file when the list does not fit.
		if TargetsFit(labels) {
			text += fmt.Sprintf("\n*Targets (%d):* %s", len(a.Targets), strings.Join(labels, ", "))
		} else {
			text += fmt.Sprintf("\n*Targets (%d):* too many to show here; their IDs are in the attached file `%s`. Read it before approving.", len(a.Targets), TargetsFile(a))
		}
	}
	if left := leftOut(a); left != "" {
		text += "\n*Not in the count:* " + left + "; *Show targets* lists them."
	}
	switch {
	case a.Action == approval.Rotate && a.Duration > 0:
		text += "\n*Old key keeps working for:* " + ShortDuration(a.Duration)
	case a.Duration > 0:
		text += "\n*Duration:* " + ShortDuration(a.Duration)
	}
	if a.Reason != "" {
		text += "\n*Reason:* " + Esc(Truncate(Redact(a.Reason), 500))
	}
	return text
}

// threadTargets are a request's targets as the channel may read them.
func threadTargets(a *approval.Request) []string {
	if len(a.Accounts) > 0 {
		out := make([]string, len(a.Accounts))
		for i, acc := range a.Accounts {
			out[i] = Account(acc.ID, acc.Name)
		}
		return out
	}
	out := make([]string, len(a.Targets))
	for i, t := range a.Targets {
		out[i] = Esc(Redact(t)) // a stored request may name e-mails
	}
	return out
}

// leftOut counts the refs a request does not act on ("" when none).
func leftOut(a *approval.Request) string {
	var parts []string
	if n := len(a.NotFound); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not found in Clerk", n))
	}
	if n := len(a.Ambiguous); n > 0 {
		parts = append(parts, fmt.Sprintf("%d matching several accounts", n))
	}
	return strings.Join(parts, ", ")
}

// DecidedMsg renders a request after its decision: no Approve or Deny,
// but still what it was for (targets, reason) and its outcome.
func DecidedMsg(a *approval.Request) bot.Msg {
	var outcome string
	switch a.Status {
	case approval.Approved:
		outcome = fmt.Sprintf(":white_check_mark: Approved by %s at %s.", Who(*a.DecidedBy), SlackDate(a.DecidedAt))
	case approval.Denied:
		outcome = fmt.Sprintf(":no_entry_sign: Denied by %s at %s. Nothing was done.", Who(*a.DecidedBy), SlackDate(a.DecidedAt))
	case approval.Expired:
		outcome = fmt.Sprintf(":hourglass: Expired at %s without a decision. Nothing was done.", SlackDate(a.ExpiresAt))
	case approval.Voided:
		outcome = fmt.Sprintf(":no_entry_sign: void: %s. Nothing was done.", a.VoidReason)
	}
	if a.Outcome != nil {
		outcome += "\n" + OutcomeText(a)
	}
	text := fmt.Sprintf("*%s* (%s) · %s\n*Requested:* %s%s\nRequested by %s\n%s", Capitalize(ActionName(a.Action)), a.ID, a.Incident, Redact(a.Summary), requestBody(a), Who(a.RequestedBy), outcome)
	blocks := []slack.Block{Section(text)}
	if HasPrivateTargets(a) {
		blocks = append(blocks, slack.NewActionBlock("approval:"+a.ID, Button(ActShowTargets, "Show targets", a.ID, "")))
	}
	return bot.Msg{Text: outcome, Blocks: blocks}
}

// TargetsDetail is a request's every target in full (name, e-mail, the
// refs left out and why) and its reason unmasked: for the asker and the
// approvers only. Plain text, ready for a file when it is long.
func TargetsDetail(a *approval.Request) string {
	var b strings.Builder
	if len(a.Accounts) > 0 {
		fmt.Fprintf(&b, "Found in Clerk (%d), the only accounts acted on:\n", len(a.Accounts))
		for _, acc := range a.Accounts {
			line := acc.ID
			if acc.Name != "" {
				line += " · " + acc.Name
			}
			if acc.Email != "" {
				line += " · " + acc.Email
			}
			b.WriteString("- " + line + "\n")
		}
	} else if len(a.Targets) > 0 {
		fmt.Fprintf(&b, "Targets (%d): %s\n", len(a.Targets), strings.Join(a.Targets, ", "))
	}
	if len(a.NotFound) > 0 {
		fmt.Fprintf(&b, "Not found in Clerk (%d), not in the count: %s\n", len(a.NotFound), strings.Join(a.NotFound, ", "))
	}
	for _, amb := range a.Ambiguous {
		fmt.Fprintf(&b, "Matches several accounts, not in the count: %s → %s (name one by ID)\n", amb.Ref, strings.Join(amb.IDs, ", "))
	}
	if a.Reason != "" {
		b.WriteString("Reason: " + a.Reason + "\n")
	}
	return b.String()
}

// TargetsMsg shows a request's full targets to one approver (ephemeral);
// fits is false when they are too long for a message, and the caller
// sends TargetsDetail as a file instead.
func TargetsMsg(a *approval.Request) (m bot.Msg, fits bool) {
	detail := TargetsDetail(a)
	head := fmt.Sprintf(":lock: *Targets of %s* (%s, %s). Only you can see this: it holds personal data.\n", a.ID, ActionName(a.Action), a.Incident)
	if len(detail) > 2800 {
		return bot.Msg{}, false
	}
	return Text(head + "```" + Esc(strings.TrimSuffix(detail, "\n")) + "```"), true
}

// LockoutRefused is the reply to a lockout none of whose targets is one
// account in Clerk: nothing was requested.
func LockoutRefused(notFound []string, ambiguous []approval.Ambiguous) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":no_entry_sign: *No lockout requested:* none of the %d target(s) is one account in Clerk, so there is nothing to approve.", len(notFound)+len(ambiguous))
	if len(notFound) > 0 {
		b.WriteString("\n:grey_question: Not found in Clerk: " + Esc(approval.Describe(notFound)))
	}
	for _, amb := range ambiguous {
		fmt.Fprintf(&b, "\n:grey_question: %s matches several accounts: %s; name one by its user ID.", Esc(amb.Ref), Esc(strings.Join(amb.IDs, ", ")))
	}
	b.WriteString("\nCheck for typos, or `/clerk-incident user &lt;e-mail&gt;` to look one up.")
	return b.String()
}

// TargetsFit reports whether the target list fits in the approval message.
func TargetsFit(targets []string) bool {
	n := 0
	for _, t := range targets {
		n += len(t) + 2
	}
	return n <= 2000
}

// TargetsAttached reports whether a request's targets go in a file (IDs
// only) because they do not fit in its message.
func TargetsAttached(a *approval.Request) bool { return !TargetsFit(threadTargets(a)) }

// TargetsFile names the file of a request's targets when they do not fit.
func TargetsFile(ar *approval.Request) string { return ar.ID + "-targets.txt" }

// Capitalize upper-cases the first letter (ASCII action names).
func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// statusMark is the emoji an outcome's status reads with in Slack.
var statusMark = map[string]string{
	approval.Failed:        ":x: ",
	approval.NotCarriedOut: ":no_entry_sign: ",
	approval.Unsure:        ":warning: ",
}

// OutcomeTimeline is the timeline's plain line for a carried-out request.
func OutcomeTimeline(a *approval.Request) string {
	return fmt.Sprintf("%s (%s) result: %s", ActionName(a.Action), a.ID, OneLine(a.Outcome.Summary))
}

// OutcomeText words a carried-out request's outcome for Slack (pure): the
// only place an outcome becomes Slack text. An outcome stored as a
// Summary alone is Slack text already and is shown as it is.
func OutcomeText(a *approval.Request) string {
	o := a.Outcome
	switch {
	case o == nil:
		return ""
	case o.Legacy():
		return o.Summary
	case a.Action == approval.ProtectOff || a.Action == approval.BlockDomain || a.Action == approval.Rotate:
		if text, ok := hardeningOutcome(a); ok {
			return text
		}
		return statusMark[o.Status] + Esc(o.Summary)
	case a.Action == approval.Lockout && (len(o.Results) > 0 || len(o.Unknown) > 0):
		msg, _ := lockoutText(a)
		return msg
	case a.Action == approval.BypassOn && o.Status == approval.Done:
		return fmt.Sprintf(":rotating_light: *Emergency auth bypass is ON* until %s (%s). Apps reading `GET /v1/bypass` let users in without Clerk. It ends by itself; `/clerk-incident bypass off` ends it now.",
			SlackDate(o.Until), ShortDuration(a.Duration))
	case a.Action == approval.BypassExtend && o.Status == approval.Done:
		return fmt.Sprintf(":rotating_light: *Emergency auth bypass extended* until %s. `/clerk-incident bypass off` ends it now.", SlackDate(o.Until))
	case a.Action == approval.Rollback && len(o.Results) == 1:
		to, from := approval.RollbackTargets(a)
		head := fmt.Sprintf(":rewind: *Rollback* (%s) to `%s`: ", a.ID, Esc(to))
		if o.Status == approval.Done && o.Results[0].Done == approval.RolledBack {
			return head + fmt.Sprintf(":white_check_mark: succeeded; `%s` serves production again (it was `%s`).", Esc(to), Esc(from))
		}
		return head + statusMark[o.Status] + Esc(o.Summary)
	}
	return statusMark[o.Status] + Esc(o.Summary)
}

// OutcomeFile is the full result of an outcome too long for Slack, as a
// plain text file (content "" when it fits).
func OutcomeFile(a *approval.Request) (name, content string) {
	if a.Outcome.Legacy() || a.Action != approval.Lockout {
		return "", ""
	}
	_, full := lockoutText(a)
	if full == "" {
		return "", ""
	}
	return resultFile(a), full
}

func resultFile(a *approval.Request) string { return a.ID + "-result.txt" }

// lockoutText is a lockout's per-user results: failures first, then
// successes, then the users not found. When that does not fit, msg keeps
// the failures that fit and names the attached file, and full is the
// file's plain content (else "").
func lockoutText(a *approval.Request) (msg, full string) {
	o := a.Outcome
	l := ResultList{Head: fmt.Sprintf(":lock: *Lockout* (%s)", a.ID), Title: fmt.Sprintf("Lockout (%s)", a.ID), Results: o.Results, File: resultFile(a)}
	if len(o.Unknown) > 0 {
		l.Tail = "\n:grey_question: Not found in Clerk: " + Esc(Redact(approval.Describe(o.Unknown)))
		l.PlainTail = fmt.Sprintf("Not found in Clerk: %s\n", Redact(strings.Join(o.Unknown, ", ")))
	}
	return l.Text()
}

// ActionName is an approval action as people read it.
func ActionName(a string) string {
	switch a {
	case approval.Lockout:
		return "lockout"
	case approval.BypassOn:
		return "emergency bypass"
	case approval.BypassExtend:
		return "bypass extension"
	case approval.ProtectOff:
		return "Clerk Protect off"
	case approval.BlockDomain:
		return "domain block"
	case approval.Rotate:
		return "secret rotation"
	}
	return a
}
