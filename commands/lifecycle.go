package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// The incident lifecycle: open, lead, describe, resolve, report. Its
// rows come from three small families under one help title.

const lifecycleTitle = "Lifecycle"

// OpeningStore is what opening and listing need of the incident store.
type OpeningStore interface {
	Get(ctx context.Context, id string) (*incident.Incident, error)
}

// LadderStater reads an incident's escalation for its status.
type LadderStater interface {
	LadderState(ctx context.Context, id string) *escalation.State
}

// Opener opens incidents (usecase.Opener).
type Opener interface {
	Open(ctx context.Context, r usecase.Request) (inc *incident.Incident, cardErr error, err error)
}

// Opening opens incidents and lists them.
type Opening struct {
	*Kit
	store   OpeningStore
	pub     LadderStater
	opener  Opener
	rb      *incident.Runbook
	channel string // SLACK_CHANNEL_ID, may be empty
}

// NewOpening wires the family.
func NewOpening(k *Kit, store OpeningStore, pub LadderStater, opener Opener, rb *incident.Runbook, channel string) *Opening {
	return &Opening{Kit: k, store: store, pub: pub, opener: opener, rb: rb, channel: channel}
}

// Title implements Family.
func (o *Opening) Title() string { return lifecycleTitle }

// Commands implements Family.
func (o *Opening) Commands() []Sub {
	return []Sub{
		{Name: "open", Usage: "/clerk-incident open <outage|webhook|security|performance> [P1|P2|P3] [title…]", Summary: "open an incident and post its card", Who: Responder, NoID: true,
			Text: true, // free text: an INC-n in it is text
			Run:  o.open},
		{Name: "list", Usage: "/clerk-incident list", Summary: "list open and recent incidents", NoID: true,
			Run: func(ctx context.Context, r Req, _ Parsed) { o.list(ctx, r) }},
	}
}

// Buttons implements Family.
func (o *Opening) Buttons() []Button {
	return []Button{
		{ActionID: render.ActOpenContinue, Quiet: true, Run: o.withButtonIncident(o.continueIncident), Label: "continue the open incident"},
		{ActionID: render.ActOpenForce, Who: Responder, Run: o.openForce, Label: "open a new incident anyway"},
	}
}

// Resolver resolves incidents with their side effects (usecase.Resolver).
type Resolver interface {
	Resolve(ctx context.Context, id string, by incident.Person, text string) (*incident.Incident, error)
	StopLadder(ctx context.Context, inc *incident.Incident, reason, by string)
	ResolvePublic(ctx context.Context, id string) (bool, error)
}

// Threader posts a line in an incident's thread.
type Threader interface {
	Thread(ctx context.Context, inc *incident.Incident, text string)
}

// Lifecycle leads, describes and resolves an incident.
type Lifecycle struct {
	*Kit
	pub      Threader
	rb       *incident.Runbook
	resolver Resolver
}

// NewLifecycle wires the family.
func NewLifecycle(k *Kit, pub Threader, rb *incident.Runbook, resolver Resolver) *Lifecycle {
	return &Lifecycle{Kit: k, pub: pub, rb: rb, resolver: resolver}
}

// Title implements Family.
func (l *Lifecycle) Title() string { return lifecycleTitle }

// Commands implements Family.
func (l *Lifecycle) Commands() []Sub {
	return []Sub{
		{Name: "ack", Usage: "/clerk-incident ack [INC-n]", Summary: "acknowledge and lead the response", Who: OnIncident,
			Run: func(ctx context.Context, r Req, p Parsed) { l.withIncident(ctx, r, p, false, l.ack) }},
		{Name: "note", Usage: "/clerk-incident note [INC-n] <text…>", Summary: "add a note to the timeline", Who: OnIncident,
			Text: true, // free text: an INC-n in it is text
			Run: textChange(l.Kit, true, false, func(who incident.Person, text string) incident.Mutation { return incident.Note(who, text) },
				func(who incident.Person, text string) string {
					return fmt.Sprintf(":memo: *Note* from %s: %s", render.Who(who), text)
				}, "Note added to %s.")},
		{Name: "severity", Usage: "/clerk-incident severity [INC-n] <P1|P2|P3>", Summary: "change the severity", Who: OnIncident,
			Run: l.severity},
		{Name: "impact", Usage: "/clerk-incident impact [INC-n] <text…>", Summary: "record the impact (affected users)", Who: OnIncident,
			Text: true, // free text: an INC-n in it is text
			Run: textChange(l.Kit, true, false, func(who incident.Person, text string) incident.Mutation { return incident.SetImpact(who, text) },
				func(who incident.Person, text string) string {
					return fmt.Sprintf(":busts_in_silhouette: *Impact* (from %s): %s", render.Who(who), text)
				}, "Impact recorded for %s.")},
		{Name: "mitigated", Usage: "/clerk-incident mitigated [INC-n] [text…]", Summary: "mark mitigation applied", Who: OnIncident,
			Text: true, // free text: an INC-n in it is text
			Run:  l.mitigated},
		{Name: "resolve", Usage: "/clerk-incident resolve [INC-n] [resolution…]", Summary: "resolve the incident", Who: OnIncident,
			Text: true, // free text: an INC-n in it is text
			Run:  func(ctx context.Context, r Req, p Parsed) { l.withText(ctx, r, p, false, l.resolve) }},
	}
}

// Buttons implements Family.
func (l *Lifecycle) Buttons() []Button {
	return []Button{
		{ActionID: render.ActAck, Who: OnIncident, Run: l.withButtonIncident(l.ack), Label: "acknowledge"},
		{ActionID: render.ActResolve, Who: OnIncident, Run: l.withButtonIncident(func(ctx context.Context, r Req, id string) { l.resolve(ctx, r, id, "") }), Label: "resolve"},
		// The Acknowledge button of a page DM acts as the card's.
		{ActionID: render.ActPageAck, Who: OnIncident, Run: l.withButtonIncident(l.ack), Label: "acknowledge the page"},
	}
}

// ReportStore is what the report needs of the incident store.
type ReportStore interface {
	Get(ctx context.Context, id string) (*incident.Incident, error)
}

// ReportUploader uploads the post-incident report into the thread.
type ReportUploader interface {
	UploadReport(ctx context.Context, inc *incident.Incident, markdown string) error
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// Reports records the post-incident report's fields and writes it.
type Reports struct {
	*Kit
	charts    *Charts
	store     ReportStore
	accounts  AffectedCounter
	pub       ReportUploader
	followups FollowupLister // nil: none listed
}

// AffectedCounter reads the accounts recorded as affected (the report's
// Impact).
type AffectedCounter interface {
	Affected(ctx context.Context, id string) ([]incident.AffectedUser, error)
}

// NewReports wires the family.
func NewReports(k *Kit, charts *Charts, store ReportStore, accounts AffectedCounter, pub ReportUploader, followups FollowupLister) *Reports {
	return &Reports{Kit: k, charts: charts, store: store, accounts: accounts, pub: pub, followups: followups}
}

// Title implements Family.
func (re *Reports) Title() string { return lifecycleTitle }

// Commands implements Family.
func (re *Reports) Commands() []Sub {
	return []Sub{
		{Name: "postmortem", Usage: "/clerk-incident postmortem [INC-n]", Summary: "write the post-incident report into the thread", Who: OnIncident,
			Run: func(ctx context.Context, r Req, p Parsed) { re.withIncident(ctx, r, p, true, re.postmortem) }},
		re.reportField(incident.FieldRootCause, "Root cause", "/clerk-incident rootcause [INC-n] <text…>", "record the root cause for the report"),
		re.reportField(incident.FieldPrevention, "Prevention item", "/clerk-incident prevention [INC-n] <text…>", "add a prevention action item to the report"),
		re.reportField(incident.FieldLessons, "Lessons learned", "/clerk-incident lessons [INC-n] <text…>", "record lessons learned for the report"),
	}
}

// Buttons implements Family.
func (re *Reports) Buttons() []Button { return nil }

// textChange is a command that records free text through a mutation.
func textChange(h *Kit, required, anyIncident bool, m func(who incident.Person, text string) incident.Mutation, line func(who incident.Person, text string) string, confirm string) func(ctx context.Context, r Req, p Parsed) {
	return func(ctx context.Context, r Req, p Parsed) {
		h.withTextOn(ctx, r, p, required, anyIncident, func(ctx context.Context, r Req, id, text string) {
			h.change(ctx, r, id, m(r.Who, text), line(r.Who, render.Esc(text)), fmt.Sprintf(confirm, id))
		})
	}
}

// reportField records a field of the post-incident report; it may target
// a resolved incident.
func (re *Reports) reportField(field, label, usage, summary string) Sub {
	return Sub{Name: field, Usage: usage, Summary: summary, Who: OnIncident,
		Text: true,
		Run: textChange(re.Kit, true, true, func(who incident.Person, text string) incident.Mutation {
			return incident.SetReportField(who, field, text)
		},
			func(who incident.Person, text string) string {
				return fmt.Sprintf(":pencil: *%s* (from %s): %s", label, render.Who(who), text)
			}, label+" recorded for %s.")}
}

func (l *Lifecycle) severity(ctx context.Context, r Req, p Parsed) {
	l.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
		if len(p.Args) != 1 {
			l.Fail(ctx, r, &UsageError{Problem: "Give one severity: P1, P2 or P3.", Usage: p.Sub.Usage})
			return
		}
		sev, ok := incident.ParseSeverity(p.Args[0])
		if !ok {
			l.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a severity; use P1, P2 or P3.", render.Esc(p.Args[0])), Usage: p.Sub.Usage})
			return
		}
		l.change(ctx, r, id, incident.SetSeverity(r.Who, sev), fmt.Sprintf(":rotating_light: %s set severity to *%s*.", render.Who(r.Who), sev), id+" is now "+string(sev)+".")
	})
}

func (l *Lifecycle) mitigated(ctx context.Context, r Req, p Parsed) {
	l.withText(ctx, r, p, false, func(ctx context.Context, r Req, id, text string) {
		line := fmt.Sprintf(":large_orange_circle: %s marked %s *mitigated*", render.Who(r.Who), id)
		if text != "" {
			line += ": " + render.Esc(text)
		}
		l.change(ctx, r, id, incident.Mitigate(r.Who, text), line+".", id+" is mitigated.")
	})
}

func (o *Opening) continueIncident(ctx context.Context, r Req, id string) {
	inc, err := o.store.Get(ctx, id)
	if err != nil {
		o.Fail(ctx, r, err)
		return
	}
	msg := render.StatusMsg(inc, o.rb.Spec(inc.Category), o.pub.LadderState(ctx, id), o.now())
	msg.Blocks = append(msg.Blocks, render.Section(fmt.Sprintf("Continuing *%s*: add what you know with `/clerk-incident note %s &lt;text&gt;`.", id, id)))
	r.To.Replace = true
	o.Reply(ctx, r, msg)
}

func (o *Opening) openForce(ctx context.Context, r Req, a bot.Action) {
	parts := strings.SplitN(a.Value, "|", 3)
	if len(parts) != 3 {
		o.ReplyText(ctx, r, "That button's data is not valid; nothing changed.")
		return
	}
	cat, ok1 := incident.ParseCategory(parts[0])
	sev, ok2 := incident.ParseSeverity(parts[1])
	if !ok1 || !ok2 {
		o.ReplyText(ctx, r, "That button's data is not valid; nothing changed.")
		return
	}
	r.To.Replace = true
	o.openIncident(ctx, r, cat, sev, render.OneLine(parts[2]), true)
}

func (o *Opening) open(ctx context.Context, r Req, p Parsed) {
	if len(p.Args) == 0 {
		o.Fail(ctx, r, &UsageError{Problem: "Say which kind of incident: outage, webhook, security or performance.", Usage: p.Sub.Usage})
		return
	}
	cat, ok := incident.ParseCategory(p.Args[0])
	if !ok {
		o.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not an incident category; use outage, webhook, security or performance.", render.Esc(p.Args[0])), Usage: p.Sub.Usage})
		return
	}
	_, rest := SplitWord(p.Rest)
	var sev incident.Severity
	if w, after := SplitWord(rest); w != "" {
		if s, ok := incident.ParseSeverity(w); ok {
			sev, rest = s, after
		} else if len(w) == 2 && (w[0] == 'P' || w[0] == 'p') {
			o.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a severity; use P1, P2 or P3.", render.Esc(w)), Usage: p.Sub.Usage})
			return
		}
	}
	o.openIncident(ctx, r, cat, sev, render.OneLine(rest), false)
}

func (o *Opening) openIncident(ctx context.Context, r Req, cat incident.Category, sev incident.Severity, title string, force bool) {
	spec := o.rb.Spec(cat)
	if title == "" {
		title = spec.Name
	}
	if n := len([]rune(title)); n > MaxTitle {
		o.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("The title is %d characters; keep it under %d and add detail with `note`. Nothing changed.", n, MaxTitle), Usage: rowNamed(o.Commands(), "open").Usage})
		return
	}
	channel := o.channel
	if channel == "" {
		channel = r.Channel
	}
	if channel == "" {
		o.ReplyText(ctx, r, "Set SLACK_CHANNEL_ID: there is no channel to post the incident card in. Nothing was opened.")
		return
	}
	// The title is read by everyone in the channel, guests included, and
	// outside it (announcements, the report): no e-mail or IP in it.
	masked := ""
	if red := render.Redact(title); red != title {
		title, masked = red, "\n:lock: The title named an e-mail or IP address: it is masked, as everyone in the channel reads titles. Name accounts by user ID (`/clerk-incident user &lt;e-mail&gt;` finds it)."
	}
	inc, cardErr, err := o.opener.Open(ctx, usecase.Request{OpenParams: incident.OpenParams{Category: cat, Severity: sev, Title: title, By: r.Who, Channel: channel, Force: force}})
	var dup *incident.DuplicateError
	if errors.As(err, &dup) {
		if sev == "" {
			sev = incident.DefaultSeverity(cat)
		}
		o.Reply(ctx, r, render.DuplicateMsg(dup.Existing, cat, sev, title, o.now()))
		return
	}
	if err != nil {
		o.Fail(ctx, r, err)
		return
	}
	switch {
	case inc.CardTS == "" && r.Operator:
		o.ReplyText(ctx, r, fmt.Sprintf("Opened %s. Slack is not used from here: its card is posted in <#%s> once a bot reaches Slack.", inc.ID, channel))
	case inc.CardTS == "":
		fix := "Invite the bot to that channel"
		if apperr.CodeOf(cardErr) == apperr.SlackChannel {
			fix = "Slack says " + apperr.MessageOf(cardErr)
		}
		o.ReplyText(ctx, r, fmt.Sprintf(":warning: Opened *%s*, but its card could not be posted in <#%s>. %s; the card is posted as soon as that is fixed (the bot retries with backoff, at most every 5 minutes).", inc.ID, channel, fix))
	case r.IsCommand:
		o.ReplyText(ctx, r, fmt.Sprintf(":white_check_mark: Opened *%s* in <#%s>. Everything about it goes in the card's thread.%s", inc.ID, cmp.Or(inc.Channel, channel), masked))
	}
}

func (o *Opening) list(ctx context.Context, r Req) {
	open, err := o.incidents.ListOpen(ctx)
	if err != nil {
		o.Fail(ctx, r, err)
		return
	}
	recent, err := o.incidents.ListRecent(ctx, 10)
	if err != nil {
		o.Fail(ctx, r, err)
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
	o.Reply(ctx, r, render.ListMsg(open, recent, o.now()))
}

func (l *Lifecycle) ack(ctx context.Context, r Req, id string) {
	inc := l.change(ctx, r, id, incident.Ack(r.Who), fmt.Sprintf(":raising_hand: %s acknowledged %s and is leading the response.", render.Who(r.Who), id), "You are leading "+id+".")
	if inc == nil {
		return
	}
	l.resolver.StopLadder(ctx, inc, "acknowledged", r.Who.ID)
	if strings.HasPrefix(r.Channel, "D") && !r.IsCommand {
		// Acknowledged from a page DM: replace its button with the outcome.
		r.To.Replace = true
		l.ReplyText(ctx, r, fmt.Sprintf(":white_check_mark: You acknowledged *%s* and are leading it; the escalation has stopped. %s", id, render.ThreadLink(inc)))
	}
}

func (l *Lifecycle) resolve(ctx context.Context, r Req, id, text string) {
	// The use case stops the ladder, voids the incident's pending
	// approvals and ends its bypass; the words are said here.
	inc, err := l.resolver.Resolve(ctx, id, r.Who, text)
	if err != nil {
		l.Fail(ctx, r, withID(err, id))
		return
	}
	line := fmt.Sprintf(":white_check_mark: %s resolved %s after %s.", render.Who(r.Who), id, incident.FormatDuration(inc.Duration(l.now())))
	if text != "" {
		line += " Resolution: " + render.Esc(text)
	}
	lacks := l.reportLacks(inc)
	if lacks != "" {
		line += "\n" + lacks
	}
	running := render.StillRunning(inc.Running(), l.now())
	if running != "" {
		line += "\n" + running
	}
	line += fmt.Sprintf("\nNext: record the root cause, prevention items and lessons, then `/clerk-incident postmortem %s` writes the report.", id)
	l.pub.Thread(ctx, inc, line)
	l.resolveStatusPage(ctx, inc)
	if r.IsCommand {
		reply := ":white_check_mark: " + id + " is resolved."
		if lacks != "" {
			reply += "\n" + lacks
		}
		if running != "" {
			reply += "\n" + running
		}
		l.ReplyText(ctx, r, reply)
	}
}

// reportLacks says what a just-resolved incident's report will lack: the
// impact and the checklist steps not ticked (optional ones aside). The
// incident is resolved anyway; both can still be recorded.
// resolveStatusPage resolves the public incident and says so in the thread.
func (l *Lifecycle) resolveStatusPage(ctx context.Context, inc *incident.Incident) {
	switch done, err := l.resolver.ResolvePublic(ctx, inc.ID); {
	case err != nil:
		msg, _ := Sentence(err)
		l.pub.Thread(ctx, inc, ":warning: The status page incident could not be resolved: "+msg+" Resolve it by hand.")
	case done:
		l.pub.Thread(ctx, inc, ":white_check_mark: The status page incident is resolved too.")
	}
}

func (l *Lifecycle) reportLacks(inc *incident.Incident) string {
	var lacks []string
	if strings.TrimSpace(inc.Impact) == "" {
		lacks = append(lacks, fmt.Sprintf("the impact (`/clerk-incident impact %s &lt;affected users&gt;`)", inc.ID))
	}
	if un := incident.Unticked(inc, l.rb.Spec(inc.Category)); len(un) > 0 {
		var steps []string
		for _, st := range un {
			short, _, _ := strings.Cut(st.Text, " (")
			steps = append(steps, st.ID+" "+render.Esc(short))
		}
		lacks = append(lacks, fmt.Sprintf("any record that these %d checklist steps were done: %s (tick them if they were)", len(un), strings.Join(steps, ", ")))
	}
	if len(lacks) == 0 {
		return ""
	}
	return ":warning: Resolved anyway, but the report will lack " + strings.Join(lacks, ", and ") + "."
}

func (re *Reports) postmortem(ctx context.Context, r Req, id string) {
	inc, err := re.store.Get(ctx, id)
	if err != nil {
		re.Fail(ctx, r, err)
		return
	}
	// The count is one line of the report: unreadable, it says unknown
	// and the report is still written.
	affected, err := re.accounts.Affected(ctx, id)
	if err != nil {
		re.log.WithError(err).WithField("incident", id).Warn("could not read the affected accounts for the report")
	}
	md, missing := incident.ReportWith(inc, re.now(), incident.ReportFacts{Affected: len(affected), Followups: re.followupsFor(ctx, id)})
	if inc.Channel == "" {
		re.Fail(ctx, r, fmt.Errorf("%s has no channel to upload the report to", id))
		return
	}
	if err := re.pub.UploadReport(ctx, inc, md); err != nil {
		re.Fail(ctx, r, err)
		return
	}
	re.charts.reportPictures(ctx, inc)
	// Writing the report is the post-mortem's step (and the security
	// checklist's "Document and report"), ticked before the report can
	// be final.
	re.pub.AutoTick(ctx, id, r.Who, incident.StepPostmortem, "postmortem")
	re.pub.AutoTick(ctx, id, r.Who, incident.StepReport, "postmortem")
	entry := "Post-incident report written"
	if len(missing) > 0 {
		entry += " (still empty: " + strings.Join(missing, ", ") + ")"
	}
	// When it was written counts: work still running rewrites it on its
	// end. Written complete on a resolved incident, it is final.
	m := incident.ReportWritten(r.Who, entry)
	if len(missing) == 0 {
		m = incident.Chain(m, incident.ReportFinal(r.Who))
	}
	if _, err := re.incidents.UpdateThen(ctx, id, m, incident.After{Render: true}); err != nil {
		re.log.WithError(err).Warn("could not record report on timeline")
	}
	where := "is in the thread"
	if r.Operator {
		where = "is written (above, or where --out said); the thread gets it when a bot reaches Slack and you run `postmortem` there"
	}
	if len(missing) == 0 {
		re.ReplyText(ctx, r, fmt.Sprintf(":page_facing_up: The report for %s %s; every field is filled in.", id, where))
		return
	}
	how := map[string]string{
		"impact":     "`/clerk-incident impact " + id + " &lt;affected users&gt;`",
		"root cause": "`/clerk-incident rootcause " + id + " &lt;text&gt;`",
		"resolution": "`/clerk-incident resolve " + id + " &lt;resolution&gt;` (or `note` if already resolved)",
		"prevention": "`/clerk-incident prevention " + id + " &lt;action item&gt;`",
		"lessons":    "`/clerk-incident lessons " + id + " &lt;text&gt;`",
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":page_facing_up: The report for %s %s. Still empty:", id, where)
	for _, m := range missing {
		fmt.Fprintf(&b, "\n• %s: %s", m, how[m])
	}
	b.WriteString("\nRun `postmortem` again after filling them in.")
	re.ReplyText(ctx, r, b.String())
}
