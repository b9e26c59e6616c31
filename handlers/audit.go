package handlers

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
)

// record writes an audit entry for a request.
func (h *Handlers) record(ctx context.Context, r commands.Req, action, detail, incidentID, outcome string) {
	if h.audit == nil {
		return
	}
	h.audit.Record(context.WithoutCancel(ctx), audit.Entry{Actor: r.Who.ID, Name: r.Who.Name, Action: action, Detail: detail, Incident: incidentID, Outcome: outcome, Origin: r.Origin})
}

// Auditor is what handlers need of the audit log.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry)
}
