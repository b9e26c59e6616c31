package publish

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
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
		who := e.Actor
		if strings.HasPrefix(who, "U") || strings.HasPrefix(who, "W") {
			who = "<@" + who + ">"
		}
		inc := ""
		if e.Incident != "" {
			inc = " · " + e.Incident
		}
		fmt.Fprintf(&b, "\n`%s` %s · %s%s · %s · %s", e.At.UTC().Format("01-02 15:04:05"), who, e.Action, inc, Truncate(e.Outcome, 120), Truncate(e.Detail, 150))
	}
	return b.String()
}
