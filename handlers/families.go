package handlers

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// The command and button tables of each family; their functions are in
// the family's file (checklist.go, escalation.go, security.go, bypass.go,
// approvals.go, watch.go, resync.go, audit.go).

func checklistCommands() []Sub {
	return []Sub{
		{Name: "checklist", Usage: "/clerk-incident checklist [INC-n]", Summary: "show the runbook checklist with tick buttons",
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withIncident(ctx, r, p, false, h.checklist) }},
	}
}

func checklistButtons() []Button {
	return []Button{
		{ActionID: publish.ActChecklist, Quiet: true, Run: withButtonIncident((*Handlers).checklist)},
		{ActionID: publish.ActTick, Who: Responder, Run: (*Handlers).tick},
	}
}

func escalationCommands() []Sub {
	return []Sub{
		{Name: "escalate", Usage: "/clerk-incident escalate [INC-n]", Summary: "page the next escalation level now", Who: Responder,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withIncident(ctx, r, p, false, h.escalate) }},
		{Name: "contacts", Usage: "/clerk-incident contacts", Summary: "show the escalation ladder, on-call phones and Clerk support", NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, _ Parsed) {
				h.reply(ctx, r, publish.ContactsMsg(h.contacts, h.ladder))
			}},
	}
}

func escalationButtons() []Button {
	return []Button{
		// The Acknowledge button of a page DM acts as the card's.
		{ActionID: publish.ActPageAck, Who: Responder, Run: withButtonIncident(func(h *Handlers, ctx context.Context, r req, id string) { h.ack(ctx, r, id) })},
	}
}

func securityCommands() []Sub {
	return []Sub{
		{Name: "revoke", Usage: "/clerk-incident revoke [INC-n] <users…>", Summary: "revoke every active session of Clerk users (user_… IDs or e-mails, one per line for bulk)", Who: Responder,
			Run: (*Handlers).revoke},
		{Name: "lockout", Usage: "/clerk-incident lockout [INC-n] <users…> [-- reason…]", Summary: "ban users and revoke their sessions (needs a second person's approval)", Who: Responder,
			Run: (*Handlers).lockout},
		{Name: "unlock", Usage: "/clerk-incident unlock [INC-n] <user>", Summary: "lift a user's ban and lockout", Who: Responder,
			Run: (*Handlers).unlock},
	}
}

func bypassCommands() []Sub {
	return []Sub{
		{Name: "bypass", Usage: "/clerk-incident bypass on [duration] [reason…] | off | status", Summary: "emergency auth bypass (on needs approval; off is immediate)", Who: Responder,
			ReadForms: []string{"", "status"}, Run: (*Handlers).bypassCmd},
	}
}

func approvalCommands() []Sub {
	return []Sub{
		{Name: "approve", Usage: "/clerk-incident approve <request-id>", Summary: "approve a pending request (not your own)", Who: Decider, NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.decideCmd(ctx, r, p, true) }},
		{Name: "deny", Usage: "/clerk-incident deny <request-id>", Summary: "deny or withdraw a pending request", Who: Decider, NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.decideCmd(ctx, r, p, false) }},
	}
}

func approvalButtons() []Button {
	return []Button{
		{ActionID: publish.ActApprove, Who: Approver, Run: func(h *Handlers, ctx context.Context, r req, a bot.Action) { h.decideID(ctx, r, a.Value, true) }},
		{ActionID: publish.ActDeny, Who: Decider, Run: func(h *Handlers, ctx context.Context, r req, a bot.Action) { h.decideID(ctx, r, a.Value, false) }},
	}
}

func watchingCommands() []Sub {
	return []Sub{
		{Name: "diagnose", Usage: "/clerk-incident diagnose [INC-n] [samples]", Summary: "time Clerk's API, JWKS, the app health endpoint and the status page",
			Run: (*Handlers).diagnose},
		{Name: "check", Usage: "/clerk-incident check", Summary: "check keys, webhook secret, Redis, contacts and Slack tokens", NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, _ Parsed) { h.check(ctx, r) }},
	}
}

func dataSyncCommands() []Sub {
	return []Sub{
		{Name: "webhook", Usage: "/clerk-incident webhook check", Summary: "send the app's webhook endpoint a signed test event and a forged one",
			Run: (*Handlers).webhookCmd},
		{Name: "resync", Usage: "/clerk-incident resync [INC-n] [--dry-run] [--since <RFC 3339 date>] | status | cancel", Summary: "replay every Clerk user into the app's webhook endpoint as signed user.updated events", Who: Responder,
			ReadForms: []string{"status"}, Run: (*Handlers).resyncCmd},
	}
}

func auditCommands() []Sub {
	return []Sub{
		{Name: "audit", Usage: "/clerk-incident audit [INC-n]", Summary: "show the latest audit log entries", Who: Responder,
			Run: (*Handlers).auditCmd},
	}
}

// decideCmd is `approve` / `deny` typed with a request ID.
func (h *Handlers) decideCmd(ctx context.Context, r req, p Parsed, approve bool) {
	if len(p.Args) != 1 {
		h.fail(ctx, r, &UsageError{Problem: "Give the request ID, such as apr-abc123def456.", Usage: p.Sub.Usage})
		return
	}
	h.decideID(ctx, r, p.Args[0], approve)
}
