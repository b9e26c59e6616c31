package render

import (
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
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
	impact := inc.Impact
	if impact == "" {
		impact = "still being assessed"
	}
	return strings.NewReplacer("{title}", inc.Title, "{impact}", impact, "{next_update}", now.Add(next).UTC().Format("15:04")+" UTC").Replace(tmpl)
}
