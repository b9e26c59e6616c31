package render

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/slack-go/slack"
)

// ApprovalMsg renders a pending request with its buttons.
func ApprovalMsg(a *approval.Request, approvers string) bot.Msg {
	text := fmt.Sprintf(":raised_hand: *Approval needed: %s* · %s\n*What will happen:* %s", ActionName(a.Action), a.Incident, a.Summary)
	if len(a.Targets) > 0 {
		// Approvers see exactly what they approve: every target, or the
		// count and the attached file when the list does not fit.
		if TargetsFit(a.Targets) {
			text += fmt.Sprintf("\n*Targets (%d):* %s", len(a.Targets), Esc(strings.Join(a.Targets, ", ")))
		} else {
			text += fmt.Sprintf("\n*Targets (%d):* too many to show here; the full list is in the attached file `%s`. Read it before approving.", len(a.Targets), TargetsFile(a))
		}
	}
	switch {
	case a.Action == approval.Rotate && a.Duration > 0:
		text += "\n*Old key keeps working for:* " + ShortDuration(a.Duration)
	case a.Duration > 0:
		text += "\n*Duration:* " + ShortDuration(a.Duration)
	}
	if a.Reason != "" {
		text += "\n*Reason:* " + Esc(Truncate(a.Reason, 500))
	}
	text += fmt.Sprintf("\nRequested by %s · expires %s · approvers: %s (not the requester)", Who(a.RequestedBy), SlackDate(a.ExpiresAt), approvers)
	return bot.Msg{Text: "Approval needed: " + a.Summary, Blocks: []slack.Block{
		Section(text),
		slack.NewActionBlock("approval:"+a.ID,
			Button(ActApprove, "Approve", a.ID, slack.StylePrimary),
			Button(ActDeny, "Deny", a.ID, slack.StyleDanger)),
	}}
}

// DecidedMsg renders a request after its decision: no buttons, the outcome.
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
	text := fmt.Sprintf("*%s* · %s\n*Requested:* %s\nRequested by %s\n%s", Capitalize(ActionName(a.Action)), a.Incident, a.Summary, Who(a.RequestedBy), outcome)
	return bot.Msg{Text: outcome, Blocks: []slack.Block{Section(text)}}
}

// TargetsFit reports whether the target list fits in the approval message.
func TargetsFit(targets []string) bool {
	n := 0
	for _, t := range targets {
		n += len(t) + 2
	}
	return n <= 2000
}

// TargetsFile names the file of a request's targets when they do not fit.
func TargetsFile(ar *approval.Request) string { return ar.ID + "-targets.txt" }

// Capitalize upper-cases the first letter (ASCII action names).
func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxResult keeps an outcome inside one Slack section.
const maxResult = 2800

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
// only place an outcome becomes Slack text. An outcome stored by the
// previous release is Slack text already and is shown as it is.
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
	var failures, successes []approval.TargetResult
	for _, r := range o.Results {
		if r.OK {
			successes = append(successes, r)
		} else {
			failures = append(failures, r)
		}
	}
	ordered := append(append([]approval.TargetResult(nil), failures...), successes...)
	line := func(r approval.TargetResult) string {
		switch {
		case r.OK:
			return Esc(r.Target) + ": " + Esc(r.Done)
		case r.Done != "":
			return Esc(r.Target) + ": " + Esc(r.Done) + "; :warning: " + Esc(r.Error)
		}
		return Esc(r.Target) + ": :x: " + Esc(r.Error)
	}
	head := fmt.Sprintf(":lock: *Lockout* (%s)", a.ID)
	tail := ""
	if len(o.Unknown) > 0 {
		tail = "\n:grey_question: Not found in Clerk: " + Esc(approval.Describe(o.Unknown))
	}
	var all strings.Builder
	all.WriteString(head)
	for _, r := range ordered {
		all.WriteString("\n• " + line(r))
	}
	all.WriteString(tail)
	if all.Len() <= maxResult {
		return all.String(), ""
	}
	var b strings.Builder
	b.WriteString(head)
	shown := 0
	for _, r := range failures {
		s := line(r)
		if b.Len()+len(s)+len(tail)+200 > maxResult {
			break
		}
		b.WriteString("\n• " + s)
		shown++
	}
	if left := len(failures) - shown; left > 0 {
		fmt.Fprintf(&b, "\n… and %d more failures", left)
	}
	if len(successes) > 0 {
		fmt.Fprintf(&b, "\n%d succeeded.", len(successes))
	}
	fmt.Fprintf(&b, "\nThe full result is in the attached file `%s`.", resultFile(a))
	b.WriteString(tail)
	return b.String(), lockoutFile(a, ordered)
}

// lockoutFile is a lockout's every result as plain text.
func lockoutFile(a *approval.Request, ordered []approval.TargetResult) string {
	var f strings.Builder
	fmt.Fprintf(&f, "Lockout (%s)\n", a.ID)
	for _, r := range ordered {
		switch {
		case r.OK:
			fmt.Fprintf(&f, "- %s: %s\n", r.Target, r.Done)
		case r.Done != "":
			fmt.Fprintf(&f, "- %s: %s; WARNING %s\n", r.Target, r.Done, r.Error)
		default:
			fmt.Fprintf(&f, "- %s: FAILED %s\n", r.Target, r.Error)
		}
	}
	if len(a.Outcome.Unknown) > 0 {
		fmt.Fprintf(&f, "Not found in Clerk: %s\n", strings.Join(a.Outcome.Unknown, ", "))
	}
	return f.String()
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
