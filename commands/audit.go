package commands

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The audit family: the latest audit log entries.

// AuditReader reads the audit log.
type AuditReader interface {
	Recent(ctx context.Context, incident string, n int) ([]audit.Entry, error)
}

// Audit shows the audit log.
type Audit struct {
	*Kit
	audit AuditReader // nil: not configured
}

// NewAudit wires the family.
func NewAudit(k *Kit, log AuditReader) *Audit { return &Audit{Kit: k, audit: log} }

// Title implements Family.
func (a *Audit) Title() string { return "Audit" }

// Commands implements Family.
func (a *Audit) Commands() []Sub {
	return []Sub{
		{Name: "audit", Usage: "/clerk-incident audit [INC-n]", Summary: "show the latest audit log entries", Who: Responder,
			Run: a.auditCmd},
	}
}

// Buttons implements Family.
func (a *Audit) Buttons() []Button { return nil }

func (a *Audit) auditCmd(ctx context.Context, r Req, p Parsed) {
	if a.audit == nil {
		a.ReplyText(ctx, r, "The audit log is not configured.")
		return
	}
	if p.ID == "" {
		p.ID = a.roomIncident(ctx, p) // typed in an incident's own channel
	}
	entries, err := a.audit.Recent(ctx, p.ID, 20)
	if err != nil {
		a.Fail(ctx, r, err)
		return
	}
	a.Reply(ctx, r, render.AuditMsg(entries, p.ID))
}
