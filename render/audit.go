package render

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/slack-go/slack"
)

// AuditMsg renders audit entries, newest first: the real entries, then
// the refusals in a section of their own, so refusals (anyone can cause
// them) never crowd real entries out of the message.
func AuditMsg(entries []audit.Entry, incidentID string) bot.Msg {
	title := "*Audit log* (latest first)"
	if incidentID != "" {
		title = fmt.Sprintf("*Audit log of %s* (latest first)", incidentID)
	}
	var real, refused strings.Builder
	real.WriteString(title)
	if len(entries) == 0 {
		real.WriteString("\nNothing recorded yet.")
	}
	for _, e := range entries {
		b := &real
		if audit.Refused(e.Outcome) {
			if refused.Len() == 0 {
				refused.WriteString("*Refused* (latest first)")
			}
			b = &refused
		}
		b.WriteString("\n" + auditLine(e))
	}
	blocks := []slack.Block{Section(real.String())}
	if refused.Len() > 0 {
		blocks = append(blocks, Section(refused.String()))
	}
	return bot.Msg{Text: strings.ReplaceAll(title, "*", ""), Blocks: blocks}
}

func auditLine(e audit.Entry) string {
	who := Who(incident.Person{ID: e.Actor, Name: e.Name})
	if !strings.HasPrefix(e.Actor, "U") && !strings.HasPrefix(e.Actor, "W") && !strings.HasPrefix(e.Actor, "cli:") {
		who = Esc(e.Actor) // a component: the poller, escalation, the bot
	}
	inc := ""
	if e.Incident != "" {
		inc = " · " + e.Incident
	}
	// Detail is what the actor typed (a refused outsider too), stored
	// raw: escaped here so it shows as text, never a link or mention.
	return fmt.Sprintf("`%s` %s · %s%s · %s · %s", e.At.UTC().Format("01-02 15:04:05"), who, Esc(e.Action), Esc(inc),
		Esc(Truncate(e.Outcome, 120)), Esc(Truncate(e.Detail, 150)))
}
