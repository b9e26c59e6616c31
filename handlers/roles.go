package handlers

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// The roles family: who commands, who writes the updates, the reminders
// to write them, and a first draft of one.

func rolesCommands() []Sub {
	return []Sub{
		{Name: "role", Usage: "/clerk-incident role [INC-n] commander|comms <@user>", Summary: "name the incident commander or the comms person (on the card, reminded to post updates)", Who: Responder,
			Run: (*Handlers).role},
		{Name: "update", Usage: "/clerk-incident update draft [INC-n]", Summary: "draft a customer-facing status update from the incident", Who: Responder,
			Run: (*Handlers).update},
	}
}

func rolesButtons() []Button {
	return []Button{
		{ActionID: publish.ActRemindDraft, Who: Responder, Quiet: true, Run: withButtonIncident((*Handlers).draft)},
		{ActionID: publish.ActRemindSnooze, Who: Responder, Run: withButtonIncident((*Handlers).snooze)},
	}
}

var mention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$`)

func (h *Handlers) role(ctx context.Context, r req, p Parsed) {
	if len(p.Args) != 2 || (p.Form() != incident.RoleCommander && p.Form() != incident.RoleComms) {
		h.fail(ctx, r, &UsageError{Problem: "Say which role and who, e.g. `role comms @dana`.", Usage: p.Sub.Usage})
		return
	}
	m := mention.FindStringSubmatch(p.Args[1])
	if m == nil {
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a Slack mention; type @ and pick the person.", p.Args[1]), Usage: p.Sub.Usage})
		return
	}
	who := incident.Person{ID: m[1], Name: m[2]}
	if who.Name == "" && h.contacts != nil {
		who.Name = h.contacts.Names()[who.ID]
	}
	role := p.Form()
	h.withIncident(ctx, r, p, false, func(ctx context.Context, r req, id string) {
		h.change(ctx, r, id, incident.SetRole(r.who, role, who),
			fmt.Sprintf(":busts_in_silhouette: %s named %s %s.", publish.Who(r.who), publish.Who(who), role),
			fmt.Sprintf("%s is now %s of %s.", publish.Who(who), role, id))
	})
}

func (h *Handlers) update(ctx context.Context, r req, p Parsed) {
	if p.Form() != "draft" {
		h.fail(ctx, r, &UsageError{Problem: "Say `update draft`.", Usage: p.Sub.Usage})
		return
	}
	if len(p.Args) == 2 && p.ID == "" {
		if id, ok := incident.ParseID(p.Args[1]); ok {
			p.ID = id
		}
	}
	h.withIncident(ctx, r, p, true, func(ctx context.Context, r req, id string) { h.draft(ctx, r, id) })
}

// draft answers with a customer-facing update for the person to post.
func (h *Handlers) draft(ctx context.Context, r req, id string) {
	inc, err := h.store.Current(ctx, id)
	if err != nil {
		h.fail(ctx, r, withID(err, id))
		return
	}
	next := h.updateEvery[inc.Severity]
	if next == 0 {
		next = time.Hour
	}
	text := publish.DraftUpdate(inc, h.rb.Spec(inc.Category), next, h.now())
	h.replyText(ctx, r, "*Draft customer update for "+id+"* (edit and post it on your status page; `note` it here once posted):\n```"+text+"```")
}

func (h *Handlers) snooze(ctx context.Context, r req, id string) {
	h.change(ctx, r, id, incident.Snooze(r.who, 30*time.Minute), "", "")
	h.replyText(ctx, r, fmt.Sprintf(":zzz: Update reminders for %s are snoozed for 30 minutes.", id))
}
