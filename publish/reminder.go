package publish

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Action IDs of an update reminder's buttons (value: INC-n).
const (
	ActRemindDraft  = "remind_draft"
	ActRemindSnooze = "remind_snooze"
)

// Reminder implements reminder.Poster: a line in the thread naming who
// owes an update, with Draft and Snooze buttons.
func (p *Publisher) Reminder(ctx context.Context, inc *incident.Incident, to incident.Person, quiet time.Duration) {
	if inc.Channel == "" {
		return
	}
	text := fmt.Sprintf(":bell: %s, no update on %s for %s (%s). Post a note or a customer update, or snooze this.",
		Who(to), inc.ID, incident.FormatDuration(quiet), inc.Severity)
	m := bot.Msg{Text: text, Blocks: []slack.Block{Section(text), slack.NewActionBlock("reminder",
		Button(ActRemindDraft, "Draft an update", inc.ID, slack.StylePrimary), Button(ActRemindSnooze, "Snooze 30m", inc.ID, ""))}}
	if err := p.PostInThread(ctx, inc, m); err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).Warn("could not post an update reminder")
	}
}

// DraftUpdate writes a customer-facing status update from the incident:
// what is affected, the impact, where the response stands, what is being
// done, and when the next update comes.
func DraftUpdate(inc *incident.Incident, spec *incident.CategorySpec, next time.Duration, now time.Time) string {
	what := map[incident.Category]string{
		incident.Outage:      "Some users cannot sign in or stay signed in.",
		incident.Webhook:     "Changes to user accounts are reaching our systems late or not at all.",
		incident.Security:    "We are investigating suspicious activity affecting some user accounts.",
		incident.Performance: "Signing in and loading pages is slower than usual.",
	}[inc.Category]
	doing := map[incident.Status]string{
		incident.Investigating: "We are investigating the cause.",
		incident.Mitigated:     "A fix is in place and we are monitoring the results.",
		incident.Resolved:      "The issue is resolved; everything is working normally.",
	}[inc.Status]
	title := map[incident.Status]string{incident.Investigating: "Investigating", incident.Mitigated: "Monitoring", incident.Resolved: "Resolved"}[inc.Status]
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", title, inc.Title)
	b.WriteString(what)
	if inc.Impact != "" {
		b.WriteString(" Impact: " + inc.Impact + ".")
	}
	b.WriteString(" " + doing)
	if inc.Open() {
		fmt.Fprintf(&b, " Our next update will come by %s UTC.", now.Add(next).UTC().Format("15:04"))
	}
	return b.String()
}
