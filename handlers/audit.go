package handlers

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The audit family: the latest audit log entries; every command's entry.

func auditCommands() []Sub {
	return []Sub{
		{Name: "audit", Usage: "/clerk-incident audit [INC-n]", Summary: "show the latest audit log entries", Who: Responder,
			Run: (*Handlers).auditCmd},
	}
}

// record writes an audit entry for a request.
func (h *Handlers) record(ctx context.Context, r req, action, detail, incidentID, outcome string) {
	if h.audit == nil {
		return
	}
	h.audit.Record(context.WithoutCancel(ctx), audit.Entry{Actor: r.who.ID, Name: r.who.Name, Action: action, Detail: detail, Incident: incidentID, Outcome: outcome, Origin: r.origin})
}

func (h *Handlers) auditCmd(ctx context.Context, r req, p Parsed) {
	if h.audit == nil {
		h.replyText(ctx, r, "The audit log is not configured.")
		return
	}
	entries, err := h.audit.Recent(ctx, p.ID, 20)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	h.reply(ctx, r, render.AuditMsg(entries, p.ID))
}

// Auditor is what handlers need of the audit log.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry)
	Recent(ctx context.Context, incident string, n int) ([]audit.Entry, error)
}
