package publish

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// AuditText renders audit entries, newest first.
func AuditText(entries []audit.Entry, incidentID string) string {
	var b strings.Builder
	title := "*Audit log* (latest first)"
	if incidentID != "" {
		title = fmt.Sprintf("*Audit log of %s* (latest first)", incidentID)
	}
	b.WriteString(title)
	if len(entries) == 0 {
		b.WriteString("\nNothing recorded yet.")
	}
	for _, e := range entries {
		who := Who(incident.Person{ID: e.Actor, Name: e.Name})
		if !strings.HasPrefix(e.Actor, "U") && !strings.HasPrefix(e.Actor, "W") && !strings.HasPrefix(e.Actor, "cli:") {
			who = Esc(e.Actor) // a component: the poller, escalation, the bot
		}
		inc := ""
		if e.Incident != "" {
			inc = " · " + e.Incident
		}
		fmt.Fprintf(&b, "\n`%s` %s · %s%s · %s · %s", e.At.UTC().Format("01-02 15:04:05"), who, e.Action, inc, Truncate(e.Outcome, 120), Truncate(e.Detail, 150))
	}
	return b.String()
}
