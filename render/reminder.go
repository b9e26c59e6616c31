package render

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/slack-go/slack"
)

// Action IDs of an update reminder's buttons (value: INC-n).
const (
	ActRemindDraft  = "remind_draft"
	ActRemindSnooze = "remind_snooze"
)

// DraftUpdate writes a customer-facing status update from the incident
// with the runbook's template for its category and status: what is
// affected, the impact, where the response stands, and when the next
// update comes.
func DraftUpdate(inc *incident.Incident, spec *incident.CategorySpec, next time.Duration, now time.Time) string {
	tmpl := ""
	if spec != nil {
		tmpl = spec.Updates[string(inc.Status)]
	}
	if tmpl == "" {
		tmpl = map[incident.Status]string{
			incident.Investigating: "Investigating: {title}. Impact: {impact}. We are investigating the cause. Our next update will come by {next_update}.",
			incident.Mitigated:     "Monitoring: {title}. A fix is in place and we are monitoring the results. Our next update will come by {next_update}.",
			incident.Resolved:      "Resolved: {title}. The issue is resolved and everything is working normally.",
		}[inc.Status]
	}
	nextAt := now.Add(next).UTC().Format("15:04") + " UTC"
	if inc.Posted != "" && inc.PostedStatus == inc.Status {
		// Comms' wording of the last update, still true of this status:
		// kept, with its next-update time moved on.
		return clockRe.ReplaceAllString(inc.Posted, nextAt)
	}
	impact := inc.Impact
	if impact == "" {
		impact = "still being assessed"
	}
	// Customers read the category's public title: the incident's own
	// title is written for responders ("Token leak from Bob's laptop").
	title := "Service issue"
	if spec != nil {
		title = spec.CustomerTitle()
	}
	return strings.NewReplacer("{title}", title, "{impact}", impact, "{next_update}", nextAt).Replace(tmpl)
}

// clockRe finds a time of day in UTC ("03:41 UTC") in an update.
var clockRe = regexp.MustCompile(`\b[0-2][0-9]:[0-5][0-9] UTC\b`)

// ReminderMsg names who owes an update, with Draft and Snooze buttons.
func ReminderMsg(inc *incident.Incident, to incident.Person, quiet time.Duration) bot.Msg {
	text := fmt.Sprintf(":bell: %s, no update on %s for %s (%s). Post a note or a customer update, or snooze this.",
		Who(to), inc.ID, incident.FormatDuration(quiet), inc.Severity)
	return bot.Msg{Text: text, Blocks: []slack.Block{Section(text), slack.NewActionBlock("reminder",
		Button(ActRemindDraft, "Draft an update", inc.ID, slack.StylePrimary), Button(ActRemindSnooze, "Snooze 30m", inc.ID, ""))}}
}
