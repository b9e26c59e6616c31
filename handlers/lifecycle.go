package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// The incident lifecycle: open, lead, describe, resolve, report.
func lifecycleCommands() []Sub {
	return []Sub{
		{Name: "help", Usage: "/clerk-incident help", Summary: "show this help", NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, _ Parsed) { h.reply(ctx, r, HelpMsg()) }},
		{Name: "open", Usage: "/clerk-incident open <outage|webhook|security|performance> [P1|P2|P3] [title…]", Summary: "open an incident and post its card", Who: Responder, NoID: true,
			Run: (*Handlers).open},
		{Name: "list", Usage: "/clerk-incident list", Summary: "list open and recent incidents", NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, _ Parsed) { h.list(ctx, r) }},
		{Name: "status", Usage: "/clerk-incident status [INC-n]", Summary: "show an incident and its latest timeline, with Clerk's live status",
			Run: (*Handlers).status},
		{Name: "ack", Usage: "/clerk-incident ack [INC-n]", Summary: "acknowledge and lead the response", Who: Responder,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withIncident(ctx, r, p, false, h.ack) }},
		{Name: "note", Usage: "/clerk-incident note [INC-n] <text…>", Summary: "add a note to the timeline", Who: Responder,
			Run: textChange(true, false, func(who incident.Person, text string) incident.Mutation { return incident.Note(who, text) },
				func(who incident.Person, text string) string {
					return fmt.Sprintf(":memo: *Note* from %s: %s", publish.Who(who), text)
				}, "Note added to %s.")},
		{Name: "severity", Usage: "/clerk-incident severity [INC-n] <P1|P2|P3>", Summary: "change the severity", Who: Responder,
			Run: (*Handlers).severity},
		{Name: "impact", Usage: "/clerk-incident impact [INC-n] <text…>", Summary: "record the impact (affected users)", Who: Responder,
			Run: textChange(true, false, func(who incident.Person, text string) incident.Mutation { return incident.SetImpact(who, text) },
				func(who incident.Person, text string) string {
					return fmt.Sprintf(":busts_in_silhouette: *Impact* (from %s): %s", publish.Who(who), text)
				}, "Impact recorded for %s.")},
		{Name: "mitigated", Usage: "/clerk-incident mitigated [INC-n] [text…]", Summary: "mark mitigation applied", Who: Responder,
			Run: (*Handlers).mitigated},
		{Name: "resolve", Usage: "/clerk-incident resolve [INC-n] [resolution…]", Summary: "resolve the incident", Who: Responder,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withText(ctx, r, p, false, h.resolve) }},
		{Name: "postmortem", Usage: "/clerk-incident postmortem [INC-n]", Summary: "write the post-incident report into the thread", Who: Responder,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withIncident(ctx, r, p, true, h.postmortem) }},
		reportField(incident.FieldRootCause, "Root cause", "/clerk-incident rootcause [INC-n] <text…>", "record the root cause for the report"),
		reportField(incident.FieldPrevention, "Prevention item", "/clerk-incident prevention [INC-n] <text…>", "add a prevention action item to the report"),
		reportField(incident.FieldLessons, "Lessons learned", "/clerk-incident lessons [INC-n] <text…>", "record lessons learned for the report"),
	}
}

func lifecycleButtons() []Button {
	return []Button{
		{ActionID: publish.ActAck, Who: Responder, Run: withButtonIncident(func(h *Handlers, ctx context.Context, r req, id string) { h.ack(ctx, r, id) })},
		{ActionID: publish.ActResolve, Who: Responder, Run: withButtonIncident(func(h *Handlers, ctx context.Context, r req, id string) { h.resolve(ctx, r, id, "") })},
		{ActionID: publish.ActOpenContinue, Quiet: true, Run: withButtonIncident((*Handlers).continueIncident)},
		{ActionID: publish.ActOpenForce, Who: Responder, Run: (*Handlers).openForce},
	}
}

// textChange is a command that records free text through a mutation.
func textChange(required, anyIncident bool, m func(who incident.Person, text string) incident.Mutation, line func(who incident.Person, text string) string, confirm string) func(h *Handlers, ctx context.Context, r req, p Parsed) {
	return func(h *Handlers, ctx context.Context, r req, p Parsed) {
		h.withTextOn(ctx, r, p, required, anyIncident, func(ctx context.Context, r req, id, text string) {
			h.change(ctx, r, id, m(r.who, text), line(r.who, text), fmt.Sprintf(confirm, id))
		})
	}
}

// reportField records a field of the post-incident report; it may target
// a resolved incident.
func reportField(field, label, usage, summary string) Sub {
	return Sub{Name: field, Usage: usage, Summary: summary, Who: Responder,
		Run: textChange(true, true, func(who incident.Person, text string) incident.Mutation {
			return incident.SetReportField(who, field, text)
		},
			func(who incident.Person, text string) string {
				return fmt.Sprintf(":pencil: *%s* (from %s): %s", label, publish.Who(who), text)
			}, label+" recorded for %s.")}
}

func (h *Handlers) severity(ctx context.Context, r req, p Parsed) {
	h.withIncident(ctx, r, p, false, func(ctx context.Context, r req, id string) {
		if len(p.Args) != 1 {
			h.fail(ctx, r, &UsageError{Problem: "Give one severity: P1, P2 or P3.", Usage: p.Sub.Usage})
			return
		}
		sev, ok := incident.ParseSeverity(p.Args[0])
		if !ok {
			h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a severity; use P1, P2 or P3.", p.Args[0]), Usage: p.Sub.Usage})
			return
		}
		h.change(ctx, r, id, incident.SetSeverity(r.who, sev), fmt.Sprintf(":rotating_light: %s set severity to *%s*.", publish.Who(r.who), sev), id+" is now "+string(sev)+".")
	})
}

func (h *Handlers) mitigated(ctx context.Context, r req, p Parsed) {
	h.withText(ctx, r, p, false, func(ctx context.Context, r req, id, text string) {
		line := fmt.Sprintf(":large_orange_circle: %s marked %s *mitigated*", publish.Who(r.who), id)
		if text != "" {
			line += ": " + text
		}
		h.change(ctx, r, id, incident.Mitigate(r.who, text), line+".", id+" is mitigated.")
	})
}

func (h *Handlers) continueIncident(ctx context.Context, r req, id string) {
	inc, err := h.store.Get(ctx, id)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	msg := publish.StatusMsg(inc, h.rb.Spec(inc.Category), h.pub.LadderState(ctx, id), h.now())
	msg.Blocks = append(msg.Blocks, publish.Section(fmt.Sprintf("Continuing *%s*: add what you know with `/clerk-incident note %s <text>`.", id, id)))
	r.to.Replace = true
	h.reply(ctx, r, msg)
}

func (h *Handlers) openForce(ctx context.Context, r req, a bot.Action) {
	parts := strings.SplitN(a.Value, "|", 3)
	if len(parts) != 3 {
		h.replyText(ctx, r, "That button's data is not valid; nothing changed.")
		return
	}
	cat, ok1 := incident.ParseCategory(parts[0])
	sev, ok2 := incident.ParseSeverity(parts[1])
	if !ok1 || !ok2 {
		h.replyText(ctx, r, "That button's data is not valid; nothing changed.")
		return
	}
	r.to.Replace = true
	h.openIncident(ctx, r, cat, sev, publish.OneLine(parts[2]), true)
}
