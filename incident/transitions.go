package incident

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The mutations below are the only ways handlers change an incident. Each
// refuses a change that makes no sense (ErrNoChange, ErrAlreadyResolved) so
// a repeated click or command is harmless.

// Ack records the first acknowledgement; later ones change nothing.
func Ack(by Person) Mutation { return AckVia(by, "") }

// AckVia is Ack from outside Slack: via says how ("SMS"), on the card and
// the timeline.
func AckVia(by Person, via string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if !inc.Open() {
			return nil, ErrAlreadyResolved
		}
		if inc.AckedBy != nil {
			return nil, noChange(fmt.Sprintf("already acknowledged by %s", inc.AckedBy.Plain()))
		}
		inc.AckedBy = &by
		inc.AckedAt = now
		inc.AckedVia = via
		inc.marks().Acknowledged = &Milestone{At: now, By: by}
		inc.LastUpdateAt = now
		if inc.Commander == nil {
			inc.Commander = &by
		}
		text := ackText
		if via != "" {
			text += " (by " + via + ")"
		}
		return []Entry{{Actor: by, Text: text}}, nil
	}
}

// SetSeverity changes the severity.
func SetSeverity(by Person, sev Severity) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if !inc.Open() {
			return nil, ErrAlreadyResolved
		}
		if inc.Severity == sev {
			return nil, noChange(fmt.Sprintf("severity is already %s", sev))
		}
		old := inc.Severity
		inc.Severity = sev
		inc.LastUpdateAt = now
		return []Entry{{Actor: by, Text: fmt.Sprintf("Severity changed from %s to %s", old, sev)}}, nil
	}
}

// SetImpact records the impact (affected users).
func SetImpact(by Person, text string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		inc.Impact = text
		inc.LastUpdateAt = now
		return []Entry{{Actor: by, Text: "Impact: " + text}}, nil
	}
}

// Note adds a free-text note to the timeline.
func Note(by Person, text string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		inc.LastUpdateAt = now
		return []Entry{{Actor: by, Text: "Note: " + text}}, nil
	}
}

// Record adds a timeline entry without changing anything else (pages,
// actions, reports).
func Record(by Person, text string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		return []Entry{{Actor: by, Text: text}}, nil
	}
}

// Mitigate moves investigating → mitigated.
func Mitigate(by Person, text string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		switch inc.Status {
		case Resolved:
			return nil, ErrAlreadyResolved
		case Mitigated:
			return nil, noChange("already mitigated")
		}
		inc.Status = Mitigated
		inc.MitigatedAt = now
		inc.marks().Mitigated = &Milestone{At: now, By: by}
		inc.LastUpdateAt = now
		msg := mitigatedText
		if text != "" {
			msg += ": " + text
		}
		return []Entry{{Actor: by, Text: msg}}, nil
	}
}

// Resolve closes the incident; the resolution text feeds the report.
func Resolve(by Person, resolution string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if !inc.Open() {
			return nil, ErrAlreadyResolved
		}
		inc.Status = Resolved
		inc.ResolvedAt = now
		inc.ResolvedBy = &by
		inc.marks().Resolved = &Milestone{At: now, By: by}
		inc.LastUpdateAt = now
		if resolution != "" {
			inc.Resolution = resolution
		}
		msg := resolvedText
		if resolution != "" {
			msg += ": " + resolution
		}
		return []Entry{{Actor: by, Text: msg}}, nil
	}
}

// SetTick ticks or unticks a checklist step of the incident's category.
func SetTick(rb *Runbook, by Person, stepID string, done bool) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		spec := rb.Spec(inc.Category)
		if spec == nil {
			return nil, ErrUnknownStep
		}
		step, ok := spec.Checklist.Step(stepID)
		if !ok {
			return nil, fmt.Errorf("%q: %w", stepID, ErrUnknownStep)
		}
		if step.Header {
			return nil, noChange(fmt.Sprintf("%s (%s) is a branch, not a step: tick the steps under it that were done", step.ID, step.Text))
		}
		if !inc.Tickable() {
			return nil, noChange(fmt.Sprintf("its report is final (written %s UTC), so its checklist is kept as the report shows it", inc.ReportFinalAt.UTC().Format("2006-01-02 15:04")))
		}
		_, ticked := inc.Checklist[step.ID]
		if ticked == done {
			state := "not ticked"
			if done {
				state = "already ticked"
			}
			return nil, noChange(fmt.Sprintf("step %s is %s", step.ID, state))
		}
		if done {
			inc.Checklist[step.ID] = Tick{By: by, At: now}
			return []Entry{{Actor: by, Text: fmt.Sprintf("Checklist %s done: %s", step.ID, step.Text)}}, nil
		}
		delete(inc.Checklist, step.ID)
		return []Entry{{Actor: by, Text: fmt.Sprintf("Checklist %s unticked: %s", step.ID, step.Text)}}, nil
	}
}

// SetCard remembers where the incident card was posted.
func SetCard(channel, ts string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		inc.Channel, inc.CardTS = channel, ts
		return nil, nil
	}
}

// SetChecklistMessage remembers the checklist message so ticks re-render it.
func SetChecklistMessage(ts string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		inc.ChecklistTS = ts
		return nil, nil
	}
}

// Postmortem field names, as typed after `/clerk-incident`.
const (
	FieldRootCause  = "rootcause"
	FieldPrevention = "prevention"
	FieldLessons    = "lessons"
)

// SetReportField fills a post-incident field; prevention items accumulate.
func SetReportField(by Person, field, text string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		switch field {
		case FieldRootCause:
			inc.RootCause = text
			return []Entry{{Actor: by, Text: "Root cause: " + text}}, nil
		case FieldPrevention:
			for _, p := range inc.Prevention {
				if strings.EqualFold(p, text) {
					return nil, noChange("prevention item already listed")
				}
			}
			inc.Prevention = append(inc.Prevention, text)
			return []Entry{{Actor: by, Text: "Prevention item: " + text}}, nil
		case FieldLessons:
			inc.Lessons = text
			return []Entry{{Actor: by, Text: "Lessons learned: " + text}}, nil
		}
		return nil, fmt.Errorf("unknown report field %q", field)
	}
}

// The checklist steps that actions of the bot perform: an action that
// succeeds ticks its step (matched by the start of the step's text in the
// incident's category).
const (
	StepRevokeSessions = "Revoke all sessions"
	StepLockAccounts   = "Lock compromised accounts"
	StepEnableBypass   = "Enable emergency bypass"
	StepConfirmOutage  = "Confirm outage"
	StepSyncGap        = "Identify sync gap"
	StepNotifyUsers    = "Notify users via status page"
	StepAccessLogs     = "Review access logs"
	StepPauseWebhooks  = "Pause webhook processing"
	StepResumeWebhooks = "Resume webhook processing"
	StepRunResync      = "Run resync script"
	StepCheckDeploys   = "Check recent deployments"
	StepVerifyEnv      = "Verify environment variables"
	StepRollback       = "Rollback if necessary"
	StepAffected       = "Identify affected accounts"
	StepMeasureAPI     = "Measure Clerk Backend API latency"
	StepMeasureApp     = "Measure the app's auth check"
	StepTimeline       = "Document timeline and actions"
	StepPostmortem     = "Conduct post-mortem"
	StepReport         = "Document and report"
	// Procedure 2's steps the security commands perform.
	StepResetKeys         = "Reset API keys"
	StepExtraVerification = "Enable additional verification"
	StepNotifyAffected    = "Notify affected users"
)

// AutoStep is one row of the table of steps the bot's actions tick.
type AutoStep struct {
	Action string // what ticks it, as the README says
	Step   string // the start of the step's text (a Step… constant)
}

// AutoSteps is every step an action ticks, in the README's order. AutoTick
// refuses any other step, and a test holds the README's table to this
// one, so the README says exactly what the code does.
func AutoSteps() []AutoStep {
	return []AutoStep{
		{"the status poller or Clerk probes, opening or joining an incident", StepConfirmOutage},
		{"`bypass on`, once approved and turned on", StepEnableBypass},
		{"*Post* of an `update draft`", StepNotifyUsers},
		{"`webhook check` that finds the endpoint refusing signed events (where the gap comes from)", StepSyncGap},
		{"`resync` finishing with no failure (not `--dry-run`)", StepRunResync},
		{"`revoke` revoking a session, or finding none active", StepRevokeSessions},
		{"`lockout`, once approved, banning at least one account", StepLockAccounts},
		{"`user` finding the account, or `affected add` recording one", StepAffected},
		{"opening an incident, with Vercel configured (says whether a production deploy landed in the 2 hours before)", StepCheckDeploys},
		{"`env check` that finds no problem", StepVerifyEnv},
		{"`rollback`, once approved and succeeded", StepRollback},
		{"`diagnose` timing the Clerk Backend API", StepMeasureAPI},
		{"`diagnose` timing the app's health endpoint (APP_HEALTH_URL)", StepMeasureApp},
		{"`resolve` (the timeline the bot kept from open to resolve)", StepTimeline},
		{"`postmortem` writing the report", StepPostmortem},
		{"`postmortem` writing the report (the security checklist's last step)", StepReport},
		{"`webhooks pause`", StepPauseWebhooks},
		{"`webhooks resume`", StepResumeWebhooks},
		{"`rotate machine` or `rotate oauth`, once approved and the new secret delivered", StepResetKeys},
		{"`protect on`, `restrict disposable on` or `restrict subaddresses on`, `block` (a domain once approved)", StepExtraVerification},
		{"`notify draft` (the affected users' addresses sent to the asker)", StepNotifyAffected},
		{"`access review` (every affected account's sessions and devices, to the asker)", StepAccessLogs},
	}
}

// AutoTick ticks the step whose text starts with step, as done by who
// through what (e.g. "revoke"). A step already ticked stays as it is, and
// a category without that step is left alone: both are ErrNoChange.
func AutoTick(rb *Runbook, by Person, step, what string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if !slices.ContainsFunc(AutoSteps(), func(a AutoStep) bool { return a.Step == step }) {
			return nil, fmt.Errorf("%q is not in AutoSteps, the table the README shows: %w", step, ErrUnknownStep)
		}
		spec := rb.Spec(inc.Category)
		if spec == nil {
			return nil, ErrNoChange
		}
		if !inc.Tickable() {
			return nil, ErrNoChange
		}
		for _, st := range spec.Checklist.Tickable() {
			if !strings.HasPrefix(strings.ToLower(st.Text), strings.ToLower(step)) {
				continue
			}
			if _, done := inc.Checklist[st.ID]; done {
				return nil, ErrNoChange
			}
			inc.Checklist[st.ID] = Tick{By: by, At: now}
			return []Entry{{Actor: by, Text: fmt.Sprintf("Checklist %s done by %s: %s", st.ID, what, st.Text)}}, nil
		}
		return nil, ErrNoChange
	}
}

// Chain runs first, then each of more on its result, as one change: a
// step of more that changes nothing (ErrNoChange) is left out, not an
// error (resolve ticks the timeline step only if it is still open).
func Chain(first Mutation, more ...Mutation) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		entries, err := first(inc, now)
		if err != nil {
			return nil, err
		}
		for _, m := range more {
			e, err := m(inc, now)
			if errors.Is(err, ErrNoChange) {
				continue
			}
			if err != nil {
				return nil, err
			}
			entries = append(entries, e...)
		}
		return entries, nil
	}
}

// ReportFinal makes a resolved incident's report final once it was
// written with nothing missing: its checklist is then kept as the report
// shows it (chained after ReportWritten).
func ReportFinal(by Person) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if inc.Open() || !inc.ReportFinalAt.IsZero() {
			return nil, ErrNoChange
		}
		inc.ReportFinalAt = now
		return []Entry{{Actor: by, Text: "The report is final: every field is filled in; the checklist is kept as it shows"}}, nil
	}
}

// Roles an incident has.
const (
	RoleCommander = "commander"
	RoleComms     = "comms"
)

// SetRole names the commander or the comms person.
func SetRole(by Person, role string, who Person) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if !inc.Open() {
			return nil, ErrAlreadyResolved
		}
		slot := &inc.Commander
		if role == RoleComms {
			slot = &inc.Comms
		}
		if *slot != nil && (*slot).ID == who.ID && who.ID != "" {
			return nil, noChange(fmt.Sprintf("%s is already %s", who.Plain(), role))
		}
		*slot = &who
		return []Entry{{Actor: by, Text: fmt.Sprintf("Role %s: %s", role, who.Display())}}, nil
	}
}

// ReminderDue is when an open incident's next update reminder is due:
// every interval without an update (nor a reminder), not before a snooze
// ends.
func (i *Incident) ReminderDue(interval time.Duration) time.Time {
	last := i.OpenedAt
	for _, t := range []time.Time{i.LastUpdateAt, i.RemindedAt} {
		if t.After(last) {
			last = t
		}
	}
	due := last.Add(interval)
	if i.SnoozedUntil.After(due) {
		due = i.SnoozedUntil
	}
	return due
}

// Remind records an update reminder if one is due at now. Under the
// store's compare-and-set, two replicas racing for the same reminder
// cannot both win: the loser sees it sent and gets ErrNoChange.
func Remind(interval time.Duration, to Person) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if !inc.Open() || now.Before(inc.ReminderDue(interval)) {
			return nil, ErrNoChange
		}
		inc.RemindedAt = now
		return []Entry{{Actor: Person{Name: "bot"}, Text: fmt.Sprintf("Update reminder sent to %s", to.Display())}}, nil
	}
}

// Snooze holds update reminders off for d.
func Snooze(by Person, d time.Duration) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if !inc.Open() {
			return nil, ErrAlreadyResolved
		}
		inc.SnoozedUntil = now.Add(d)
		return []Entry{{Actor: by, Text: fmt.Sprintf("Update reminders snoozed for %s", FormatDuration(d))}}, nil
	}
}

// LinkStatuspage records the public Statuspage incident as soon as it
// exists, so the next update or the resolve goes to it.
func LinkStatuspage(statuspageID string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		inc.StatuspageID = statuspageID
		return nil, nil
	}
}

// UpdatePosted records a customer update sent out (to the announcement
// channel and the status page); it counts as an update for reminders.
func UpdatePosted(by Person, where, statuspageID, text string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		inc.LastUpdateAt = now
		inc.Posted, inc.PostedStatus = text, inc.Status
		if statuspageID != "" {
			inc.StatuspageID = statuspageID
		}
		return []Entry{{Actor: by, Text: "Customer update posted to " + where}}, nil
	}
}
