package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
)

// record writes an audit entry for a request.
func (h *Handlers) record(ctx context.Context, r req, action, detail, incidentID, outcome string) {
	if h.audit == nil {
		return
	}
	h.audit.Record(context.WithoutCancel(ctx), audit.Entry{Actor: r.who.ID, Name: r.who.Name, Action: action, Detail: detail, Incident: incidentID, Outcome: outcome})
}

// system writes an audit entry for something the bot did by itself.
func (h *Handlers) system(ctx context.Context, actor, action, detail, incidentID string) {
	if h.audit == nil {
		return
	}
	h.audit.Record(context.WithoutCancel(ctx), audit.Entry{Actor: actor, Action: action, Detail: truncate(oneLine(detail), 300), Incident: incidentID, Outcome: "ok"})
}

func (h *Handlers) auditCmd(ctx context.Context, r req, p Parsed) {
	if !h.allowed(ctx, r) {
		return
	}
	if h.audit == nil {
		h.replyText(ctx, r, "The audit log is not configured.")
		return
	}
	entries, err := h.audit.Recent(ctx, p.ID, 20)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	h.replyText(ctx, r, AuditText(entries, p.ID))
}

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
		fmt.Fprintf(&b, "\n`%s` %s · %s%s · %s · %s", e.At.UTC().Format("01-02 15:04:05"), who, e.Action, inc, truncate(e.Outcome, 120), truncate(e.Detail, 150))
	}
	return b.String()
}
