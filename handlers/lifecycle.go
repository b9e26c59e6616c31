package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/response"
)

// The incident lifecycle: open, lead, describe, resolve, report.
func lifecycleCommands() []Sub {
	return []Sub{
		{Name: "help", Usage: "/clerk-incident help [command]", Summary: "list every command, or show one in full with examples", NoID: true,
			Run: (*Handlers).help},
		{Name: "open", Usage: "/clerk-incident open <outage|webhook|security|performance> [P1|P2|P3] [title…]", Summary: "open an incident and post its card", Who: Responder, NoID: true,
			Text: true, // free text: an INC-n in it is text
			Run:  (*Handlers).open},
		{Name: "list", Usage: "/clerk-incident list", Summary: "list open and recent incidents", NoID: true,
			Run: func(h *Handlers, ctx context.Context, r req, _ Parsed) { h.list(ctx, r) }},
		{Name: "ack", Usage: "/clerk-incident ack [INC-n]", Summary: "acknowledge and lead the response", Who: OnIncident,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withIncident(ctx, r, p, false, h.ack) }},
		{Name: "note", Usage: "/clerk-incident note [INC-n] <text…>", Summary: "add a note to the timeline", Who: OnIncident,
			Text: true, // free text: an INC-n in it is text
			Run: textChange(true, false, func(who incident.Person, text string) incident.Mutation { return incident.Note(who, text) },
				func(who incident.Person, text string) string {
					return fmt.Sprintf(":memo: *Note* from %s: %s", publish.Who(who), text)
				}, "Note added to %s.")},
		{Name: "severity", Usage: "/clerk-incident severity [INC-n] <P1|P2|P3>", Summary: "change the severity", Who: OnIncident,
			Run: (*Handlers).severity},
		{Name: "impact", Usage: "/clerk-incident impact [INC-n] <text…>", Summary: "record the impact (affected users)", Who: OnIncident,
			Text: true, // free text: an INC-n in it is text
			Run: textChange(true, false, func(who incident.Person, text string) incident.Mutation { return incident.SetImpact(who, text) },
				func(who incident.Person, text string) string {
					return fmt.Sprintf(":busts_in_silhouette: *Impact* (from %s): %s", publish.Who(who), text)
				}, "Impact recorded for %s.")},
		{Name: "mitigated", Usage: "/clerk-incident mitigated [INC-n] [text…]", Summary: "mark mitigation applied", Who: OnIncident,
			Text: true, // free text: an INC-n in it is text
			Run:  (*Handlers).mitigated},
		{Name: "resolve", Usage: "/clerk-incident resolve [INC-n] [resolution…]", Summary: "resolve the incident", Who: OnIncident,
			Text: true, // free text: an INC-n in it is text
			Run:  func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withText(ctx, r, p, false, h.resolve) }},
		{Name: "postmortem", Usage: "/clerk-incident postmortem [INC-n]", Summary: "write the post-incident report into the thread", Who: OnIncident,
			Run: func(h *Handlers, ctx context.Context, r req, p Parsed) { h.withIncident(ctx, r, p, true, h.postmortem) }},
		reportField(incident.FieldRootCause, "Root cause", "/clerk-incident rootcause [INC-n] <text…>", "record the root cause for the report"),
		reportField(incident.FieldPrevention, "Prevention item", "/clerk-incident prevention [INC-n] <text…>", "add a prevention action item to the report"),
		reportField(incident.FieldLessons, "Lessons learned", "/clerk-incident lessons [INC-n] <text…>", "record lessons learned for the report"),
	}
}

func lifecycleButtons() []Button {
	return []Button{
		{ActionID: publish.ActAck, Who: OnIncident, Run: withButtonIncident(func(h *Handlers, ctx context.Context, r req, id string) { h.ack(ctx, r, id) }), Label: "acknowledge"},
		{ActionID: publish.ActResolve, Who: OnIncident, Run: withButtonIncident(func(h *Handlers, ctx context.Context, r req, id string) { h.resolve(ctx, r, id, "") }), Label: "resolve"},
		{ActionID: publish.ActOpenContinue, Quiet: true, Run: withButtonIncident((*Handlers).continueIncident), Label: "continue the open incident"},
		{ActionID: publish.ActOpenForce, Who: Responder, Run: (*Handlers).openForce, Label: "open a new incident anyway"},
	}
}

// textChange is a command that records free text through a mutation.
func textChange(required, anyIncident bool, m func(who incident.Person, text string) incident.Mutation, line func(who incident.Person, text string) string, confirm string) func(h *Handlers, ctx context.Context, r req, p Parsed) {
	return func(h *Handlers, ctx context.Context, r req, p Parsed) {
		h.withTextOn(ctx, r, p, required, anyIncident, func(ctx context.Context, r req, id, text string) {
			h.change(ctx, r, id, m(r.who, text), line(r.who, publish.Esc(text)), fmt.Sprintf(confirm, id))
		})
	}
}

// reportField records a field of the post-incident report; it may target
// a resolved incident.
func reportField(field, label, usage, summary string) Sub {
	return Sub{Name: field, Usage: usage, Summary: summary, Who: OnIncident,
		Text: true,
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
			line += ": " + publish.Esc(text)
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

func (h *Handlers) open(ctx context.Context, r req, p Parsed) {
	if len(p.Args) == 0 {
		h.fail(ctx, r, &UsageError{Problem: "Say which kind of incident: outage, webhook, security or performance.", Usage: p.Sub.Usage})
		return
	}
	cat, ok := incident.ParseCategory(p.Args[0])
	if !ok {
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not an incident category; use outage, webhook, security or performance.", p.Args[0]), Usage: p.Sub.Usage})
		return
	}
	_, rest := splitWord(p.Rest)
	var sev incident.Severity
	if w, after := splitWord(rest); w != "" {
		if s, ok := incident.ParseSeverity(w); ok {
			sev, rest = s, after
		} else if len(w) == 2 && (w[0] == 'P' || w[0] == 'p') {
			h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a severity; use P1, P2 or P3.", w), Usage: p.Sub.Usage})
			return
		}
	}
	h.openIncident(ctx, r, cat, sev, publish.OneLine(rest), false)
}

func (h *Handlers) openIncident(ctx context.Context, r req, cat incident.Category, sev incident.Severity, title string, force bool) {
	spec := h.rb.Spec(cat)
	if title == "" {
		title = spec.Name
	}
	if n := len([]rune(title)); n > MaxTitle {
		sub, _ := lookupSub("open")
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("The title is %d characters; keep it under %d and add detail with `note`. Nothing changed.", n, MaxTitle), Usage: sub.Usage})
		return
	}
	channel := h.channel
	if channel == "" {
		channel = r.channel
	}
	if channel == "" {
		h.replyText(ctx, r, "Set SLACK_CHANNEL_ID: there is no channel to post the incident card in. Nothing was opened.")
		return
	}
	inc, cardErr, err := h.opener.Open(ctx, response.Request{OpenParams: incident.OpenParams{Category: cat, Severity: sev, Title: title, By: r.who, Channel: channel, Force: force}})
	var dup *incident.DuplicateError
	if errors.As(err, &dup) {
		if sev == "" {
			sev = incident.DefaultSeverity(cat)
		}
		h.reply(ctx, r, publish.DuplicateMsg(dup.Existing, cat, sev, title, h.now()))
		return
	}
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	switch {
	case inc.CardTS == "" && r.operator:
		h.replyText(ctx, r, fmt.Sprintf("Opened %s. Slack is not used from here: its card is posted in <#%s> once a bot reaches Slack.", inc.ID, channel))
	case inc.CardTS == "":
		fix := "Invite the bot to that channel"
		if apperr.CodeOf(cardErr) == apperr.SlackChannel {
			fix = "Slack says " + apperr.MessageOf(cardErr)
		}
		h.replyText(ctx, r, fmt.Sprintf(":warning: Opened *%s*, but its card could not be posted in <#%s>. %s; the card is posted as soon as that is fixed (the bot retries with backoff, at most every 5 minutes).", inc.ID, channel, fix))
	case r.isCommand:
		h.replyText(ctx, r, fmt.Sprintf(":white_check_mark: Opened *%s* in <#%s>. Everything about it goes in the card's thread.", inc.ID, cmp.Or(inc.Channel, channel)))
	}
}

func (h *Handlers) list(ctx context.Context, r req) {
	open, err := h.store.ListOpen(ctx)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	recent, err := h.store.ListRecent(ctx, 10)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if len(recent) > 5 {
		var closed []*incident.Incident
		for _, inc := range recent {
			if !inc.Open() && len(closed) < 5 {
				closed = append(closed, inc)
			}
		}
		recent = closed
	}
	h.reply(ctx, r, publish.ListMsg(open, recent, h.now()))
}

func (h *Handlers) ack(ctx context.Context, r req, id string) {
	inc := h.change(ctx, r, id, incident.Ack(r.who), fmt.Sprintf(":raising_hand: %s acknowledged %s and is leading the response.", publish.Who(r.who), id), "You are leading "+id+".")
	if inc == nil {
		return
	}
	h.stopLadder(ctx, inc, "acknowledged", r.who.ID)
	if strings.HasPrefix(r.channel, "D") && !r.isCommand {
		// Acknowledged from a page DM: replace its button with the outcome.
		r.to.Replace = true
		h.replyText(ctx, r, fmt.Sprintf(":white_check_mark: You acknowledged *%s* and are leading it; the escalation has stopped. %s", id, publish.ThreadLink(inc)))
	}
}

func (h *Handlers) resolve(ctx context.Context, r req, id, text string) {
	inc := h.change(ctx, r, id, incident.Resolve(r.who, text), "", "")
	if inc == nil {
		return
	}
	h.stopLadder(ctx, inc, "resolved", r.who.ID)
	h.voidApprovals(ctx, func(ar *approval.Request) bool { return ar.Incident == inc.ID }, approval.VoidResolved)
	h.turnOffBypassFor(ctx, inc, r.who)
	line := fmt.Sprintf(":white_check_mark: %s resolved %s after %s.", publish.Who(r.who), id, incident.FormatDuration(inc.Duration(h.now())))
	if text != "" {
		line += " Resolution: " + publish.Esc(text)
	}
	lacks := h.reportLacks(inc)
	if lacks != "" {
		line += "\n" + lacks
	}
	line += fmt.Sprintf("\nNext: record the root cause, prevention items and lessons, then `/clerk-incident postmortem %s` writes the report.", id)
	h.pub.Thread(ctx, inc, line)
	h.resolveStatusPage(ctx, inc)
	if r.isCommand {
		reply := ":white_check_mark: " + id + " is resolved."
		if lacks != "" {
			reply += "\n" + lacks
		}
		h.replyText(ctx, r, reply)
	}
}

// reportLacks says what a just-resolved incident's report will lack: the
// impact and the checklist steps not ticked (optional ones aside). The
// incident is resolved anyway; both can still be recorded.
func (h *Handlers) reportLacks(inc *incident.Incident) string {
	var lacks []string
	if strings.TrimSpace(inc.Impact) == "" {
		lacks = append(lacks, fmt.Sprintf("the impact (`/clerk-incident impact %s <affected users>`)", inc.ID))
	}
	if un := incident.Unticked(inc, h.rb.Spec(inc.Category)); len(un) > 0 {
		var steps []string
		for _, st := range un {
			short, _, _ := strings.Cut(st.Text, " (")
			steps = append(steps, st.ID+" "+publish.Esc(short))
		}
		lacks = append(lacks, fmt.Sprintf("any record that these %d checklist steps were done: %s (tick them if they were)", len(un), strings.Join(steps, ", ")))
	}
	if len(lacks) == 0 {
		return ""
	}
	return ":warning: Resolved anyway, but the report will lack " + strings.Join(lacks, ", and ") + "."
}

func (h *Handlers) postmortem(ctx context.Context, r req, id string) {
	inc, err := h.store.Get(ctx, id)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	md, missing := incident.Report(inc, h.now())
	if inc.Channel == "" {
		h.fail(ctx, r, fmt.Errorf("%s has no channel to upload the report to", id))
		return
	}
	if err := h.pub.UploadReport(ctx, inc, md); err != nil {
		h.fail(ctx, r, err)
		return
	}
	entry := "Post-incident report written"
	if len(missing) > 0 {
		entry += " (still empty: " + strings.Join(missing, ", ") + ")"
	}
	if _, err := h.store.Update(ctx, id, incident.Record(r.who, entry)); err != nil {
		h.log.WithError(err).Warn("could not record report on timeline")
	}
	if len(missing) == 0 {
		h.replyText(ctx, r, fmt.Sprintf(":page_facing_up: The report for %s is in the thread; every field is filled in.", id))
		return
	}
	how := map[string]string{
		"impact":     "`/clerk-incident impact " + id + " <affected users>`",
		"root cause": "`/clerk-incident rootcause " + id + " <text>`",
		"resolution": "`/clerk-incident resolve " + id + " <resolution>` (or `note` if already resolved)",
		"prevention": "`/clerk-incident prevention " + id + " <action item>`",
		"lessons":    "`/clerk-incident lessons " + id + " <text>`",
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":page_facing_up: The report for %s is in the thread. Still empty:", id)
	for _, m := range missing {
		fmt.Fprintf(&b, "\n• %s: %s", m, how[m])
	}
	b.WriteString("\nRun `postmortem` again after filling them in.")
	h.replyText(ctx, r, b.String())
}
