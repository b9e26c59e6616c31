// Package render turns domain data into Slack messages and text: pure
// functions (no I/O, no clock of their own), golden-tested. The publish
// package delivers what they render.
package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/slack-go/slack"
)

// Action IDs of the buttons the bot posts.
const (
	ActAck          = "inc_ack"
	ActChecklist    = "inc_checklist"
	ActResolve      = "inc_resolve"
	ActTick         = "chk_tick"
	ActOpenContinue = "open_continue"
	ActOpenForce    = "open_force"
	// ActPageAck is the Acknowledge button of a page DM; it acts as inc_ack.
	ActPageAck = "page_ack"
	ActApprove = "approval_approve"
	ActDeny    = "approval_deny"
)

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func Section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(Truncate(text, 3000)), nil, nil)
}

func contextBlock(text string) *slack.ContextBlock {
	return slack.NewContextBlock("", mrkdwn(Truncate(text, 3000)))
}

func Button(actionID, label, value string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, value, plain(Truncate(label, 75)))
	if style != "" {
		b.Style = style
	}
	return b
}

func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// slackDate renders a time that Slack localises for each reader, with a
// UTC fallback.
func SlackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

var statusLabel = map[incident.Status]string{
	incident.Investigating: ":red_circle: Investigating",
	incident.Mitigated:     ":large_orange_circle: Mitigated",
	incident.Resolved:      ":white_check_mark: Resolved",
}

func statusIcon(s incident.Status) string {
	switch s {
	case incident.Investigating:
		return ":red_circle:"
	case incident.Mitigated:
		return ":large_orange_circle:"
	}
	return ":white_check_mark:"
}

// Card renders the incident card posted in the channel and updated in place.
func Card(inc *incident.Incident, spec *incident.CategorySpec, ladder *escalation.State, now time.Time) bot.Msg {
	header := slack.NewHeaderBlock(plain(Truncate(inc.ID+" · "+inc.Title, 150)))
	// The lead is the incident commander: whoever acknowledged, unless
	// `role commander` named someone.
	lead := "_unacknowledged_ (opened by " + Who(inc.OpenedBy) + ")"
	switch {
	case inc.Commander != nil:
		lead = Who(*inc.Commander)
	case inc.AckedBy != nil:
		lead = Who(*inc.AckedBy)
	}
	if inc.AckedBy != nil && inc.AckedVia != "" {
		lead += "\n_Acknowledged by " + PersonName(*inc.AckedBy) + " by " + Esc(inc.AckedVia) + "_"
	}
	catName := string(inc.Category)
	if spec != nil {
		catName = spec.Name + " (" + string(inc.Category) + ")"
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Category*\n" + catName),
		mrkdwn("*Severity*\n" + string(inc.Severity)),
		mrkdwn("*Status*\n" + statusLabel[inc.Status]),
		mrkdwn("*Lead*\n" + lead),
		mrkdwn("*Opened*\n" + SlackDate(inc.OpenedAt)),
	}
	if inc.Comms != nil {
		fields = append(fields, mrkdwn("*Comms*\n"+Who(*inc.Comms)))
	}
	if inc.Status == incident.Resolved {
		fields = append(fields, mrkdwn("*Duration*\n"+incident.FormatDuration(inc.Duration(now))))
	}
	impact := Esc(inc.Impact)
	if impact == "" {
		impact = "_not recorded yet: `/clerk-incident impact " + inc.ID + " &lt;affected users&gt;`_"
	}
	fields = append(fields, mrkdwn("*Impact*\n"+Truncate(impact, 1900)))
	blocks := []slack.Block{header, slack.NewSectionBlock(nil, fields, nil)}
	if spec != nil && inc.Open() && len(spec.ImmediateActions) > 0 {
		var b strings.Builder
		b.WriteString("*Immediate actions*")
		for _, a := range spec.ImmediateActions {
			b.WriteString("\n• " + a)
		}
		blocks = append(blocks, Section(b.String()))
	}
	if spec != nil {
		done, total := ChecklistProgress(inc, spec)
		blocks = append(blocks, contextBlock(fmt.Sprintf("%s: %d/%d steps done · details in the thread", spec.Checklist.Title, done, total)))
	}
	if line := LadderLine(ladder, inc.AckedBy); line != "" {
		blocks = append(blocks, contextBlock(line))
	}
	if inc.Link != "" {
		blocks = append(blocks, contextBlock("Opened from an alert: <"+linkSafe.Replace(inc.Link)+"|its source>"))
	}
	var buttons []slack.BlockElement
	if inc.Open() {
		if inc.AckedBy == nil {
			buttons = append(buttons, Button(ActAck, "Acknowledge", inc.ID, slack.StylePrimary))
		}
		buttons = append(buttons, Button(ActChecklist, "Checklist", inc.ID, ""))
		res := Button(ActResolve, "Resolve", inc.ID, slack.StyleDanger)
		res.Confirm = slack.NewConfirmationBlockObject(plain("Resolve "+inc.ID+"?"),
			plain("This closes the incident. Add details with /clerk-incident resolve "+inc.ID+" <resolution> instead if you have them."),
			plain("Resolve"), plain("Cancel"))
		buttons = append(buttons, res)
	} else {
		buttons = append(buttons, Button(ActChecklist, "Checklist", inc.ID, ""))
	}
	blocks = append(blocks, slack.NewActionBlock("card:"+inc.ID, buttons...))
	text := fmt.Sprintf("%s %s %s: %s (%s, %s)", statusIcon(inc.Status), inc.ID, inc.Status, Esc(inc.Title), inc.Category, inc.Severity)
	return bot.Msg{Text: text, Blocks: blocks}
}

// ChecklistProgress counts the steps done; branch headers are not steps.
func ChecklistProgress(inc *incident.Incident, spec *incident.CategorySpec) (done, total int) {
	for _, s := range spec.Checklist.Tickable() {
		total++
		if _, ok := inc.Checklist[s.ID]; ok {
			done++
		}
	}
	return done, total
}

// ChecklistMsg renders the runbook checklist with a tick button per step.
// Steps may be ticked after resolve, until the report is final.
func ChecklistMsg(inc *incident.Incident, spec *incident.CategorySpec) bot.Msg {
	return checklistMsg(inc, spec, inc.Tickable())
}

// ChecklistReadOnly is the checklist without its Tick buttons, for
// someone who may not tick.
func ChecklistReadOnly(inc *incident.Incident, spec *incident.CategorySpec) bot.Msg {
	return checklistMsg(inc, spec, false)
}

func checklistMsg(inc *incident.Incident, spec *incident.CategorySpec, buttons bool) bot.Msg {
	done, total := ChecklistProgress(inc, spec)
	blocks := []slack.Block{Section(fmt.Sprintf("*%s* · %s", spec.Checklist.Title, inc.ID))}
	for _, st := range spec.Checklist.Flat() {
		indent := ""
		if st.Depth > 0 {
			indent = "\u2003\u2003"
		}
		if st.Header {
			// A branch: its steps below are ticked, not it.
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Truncate(fmt.Sprintf("%s*%s.* _%s_", indent, st.ID, st.Text), 3000)), nil, nil,
				slack.SectionBlockOptionBlockID("chk:"+inc.ID+":"+st.ID)))
			continue
		}
		tick, ok := inc.Checklist[st.ID]
		var text string
		var b *slack.ButtonBlockElement
		if ok {
			text = fmt.Sprintf("%s:white_check_mark: *%s.* ~%s~ · %s %s", indent, st.ID, st.Text, Who(tick.By), SlackDate(tick.At))
			b = Button(ActTick, "Untick", inc.ID+"|"+st.ID+"|0", "")
		} else {
			text = fmt.Sprintf("%s:white_large_square: *%s.* %s", indent, st.ID, st.Text)
			b = Button(ActTick, "Tick", inc.ID+"|"+st.ID+"|1", slack.StylePrimary)
		}
		if !buttons {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Truncate(text, 3000)), nil, nil, slack.SectionBlockOptionBlockID("chk:"+inc.ID+":"+st.ID)))
			continue
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Truncate(text, 3000)), nil, slack.NewAccessory(b), slack.SectionBlockOptionBlockID("chk:"+inc.ID+":"+st.ID)))
	}
	blocks = append(blocks, contextBlock(fmt.Sprintf("%d/%d steps done", done, total)))
	return bot.Msg{Text: fmt.Sprintf("%s checklist for %s: %d/%d done", spec.Checklist.Title, inc.ID, done, total), Blocks: blocks}
}

// Line renders one incident as a list line.
func Line(inc *incident.Incident, now time.Time) string {
	lead := "unacknowledged"
	if inc.AckedBy != nil {
		lead = "led by " + Who(*inc.AckedBy)
	}
	age := "open for " + incident.FormatDuration(inc.Duration(now))
	if !inc.Open() {
		age = "resolved " + SlackDate(inc.ResolvedAt)
		lead = "lasted " + incident.FormatDuration(inc.Duration(now))
	}
	return fmt.Sprintf("%s *%s* %s · %s · %s · %s · %s", statusIcon(inc.Status), inc.ID, Esc(inc.Title), inc.Category, inc.Severity, lead, age)
}

// ListMsg renders open incidents and recently resolved ones.
func ListMsg(open, recent []*incident.Incident, now time.Time) bot.Msg {
	var b strings.Builder
	if len(open) == 0 {
		b.WriteString("*No open incidents.*")
	} else {
		fmt.Fprintf(&b, "*Open incidents (%d)*", len(open))
		for _, inc := range open {
			b.WriteString("\n" + Line(inc, now))
		}
	}
	var closed []*incident.Incident
	for _, inc := range recent {
		if !inc.Open() {
			closed = append(closed, inc)
		}
	}
	if len(closed) > 0 {
		b.WriteString("\n\n*Recently resolved*")
		for _, inc := range closed {
			b.WriteString("\n" + Line(inc, now))
		}
	}
	return bot.Msg{Text: b.String(), Blocks: []slack.Block{Section(b.String())}}
}

// StatusMsg renders one incident with its latest timeline entries.
func StatusMsg(inc *incident.Incident, spec *incident.CategorySpec, ladder *escalation.State, now time.Time) bot.Msg {
	card := Card(inc, spec, ladder, now)
	blocks := card.Blocks[:len(card.Blocks)-1] // no buttons in a private reply
	const last = 10
	entries := inc.Timeline
	if len(entries) > last {
		entries = entries[len(entries)-last:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Timeline* (latest %d of %d, UTC)", len(entries), len(inc.Timeline))
	for _, e := range entries {
		fmt.Fprintf(&b, "\n`%s` %s · %s", e.At.UTC().Format("15:04"), Esc(Truncate(OneLine(e.Text), 200)), Who(e.Actor))
	}
	blocks = append(blocks, Section(b.String()))
	return bot.Msg{Text: card.Text, Blocks: blocks}
}

// DuplicateMsg offers to continue the open incident or open another anyway.
func DuplicateMsg(existing *incident.Incident, cat incident.Category, sev incident.Severity, title string, now time.Time) bot.Msg {
	text := fmt.Sprintf(":warning: *%s* is already open for %s (%s, %s, %s, opened %s ago). Continue it, or open a separate incident if this is a different problem.",
		existing.ID, existing.Category, Esc(existing.Title), existing.Severity, existing.Status, incident.FormatDuration(existing.Duration(now)))
	force := string(cat) + "|" + string(sev) + "|" + Truncate(title, 150)
	return bot.Msg{Text: text, Blocks: []slack.Block{
		Section(text),
		slack.NewActionBlock("dup:"+existing.ID,
			Button(ActOpenContinue, "Continue "+existing.ID, existing.ID, slack.StylePrimary),
			Button(ActOpenForce, "Open a new incident anyway", force, "")),
	}}
}

// Text renders a plain mrkdwn message.
func Text(s string) bot.Msg {
	return bot.Msg{Text: s, Blocks: []slack.Block{Section(s)}}
}

func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Who renders a person for Slack text: a mention for a Slack user, the
// name for the bot's own parts (the poller, escalation, the CLI).
func Who(p incident.Person) string {
	if strings.HasPrefix(p.ID, "U") || strings.HasPrefix(p.ID, "W") {
		return "<@" + p.ID + ">"
	}
	if strings.HasPrefix(p.ID, "cli:") {
		// A name typed with --as: plain text, never a mention, a link or
		// formatting, and visibly not a Slack identity.
		return PlainName(p.Name) + " (CLI)"
	}
	if p.PagerDuty() {
		// A name from PagerDuty: plain text, never a mention or a link.
		return PlainName(p.Name) + " (PagerDuty)"
	}
	if p.Name != "" {
		return p.Name
	}
	return p.ID
}

// Esc makes text someone typed (or a status page wrote) safe in mrkdwn:
// Slack's three control characters are escaped, so a typed <!channel> or
// <https://example.com|Clerk> shows as typed and never pings or links.
func Esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// PlainName renders a name someone typed as plain text in mrkdwn: Slack's
// control characters escaped and the formatting marks removed.
func PlainName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '*', '_', '~', '`', '\n', '\r', '\t':
			return -1
		}
		return r
	}, s)
	return Esc(s)
}
