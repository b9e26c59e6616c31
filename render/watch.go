package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// AlertText renders a status alert.
func AlertText(a statuswatch.Alert, id string, attached bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":rotating_light: *%s*", Esc(a.Title))
	if a.Impact != "" {
		b.WriteString("\n*Impact:* " + Esc(a.Impact))
	}
	if len(a.Components) > 0 {
		b.WriteString("\n*Affected:* " + Esc(strings.Join(a.Components, ", ")))
	}
	if a.Update != "" {
		b.WriteString("\n*Latest update:* " + Esc(Truncate(a.Update, 1500)))
	}
	if a.Link != "" {
		fmt.Fprintf(&b, "\n<%s|Details>", linkSafe.Replace(a.Link))
	}
	if attached {
		fmt.Fprintf(&b, "\nAttached to %s, already open for this category.", id)
	} else if a.Polls > 0 {
		fmt.Fprintf(&b, "\n%s was opened automatically after %d consecutive polls.", id, a.Polls)
	} else {
		fmt.Fprintf(&b, "\n%s was opened automatically from this alert.", id)
	}
	return b.String()
}

// AlertJoinedText is the thread line of an alert that joined the open
// incident of its category: the alert's severity beside the incident's
// and, when the alert is more severe, the command that raises it (the
// bot never raises it by itself: a person decides).
func AlertJoinedText(a statuswatch.Alert, inc *incident.Incident) string {
	text := AlertText(a, inc.ID, true)
	if a.Severity == "" {
		return text
	}
	text += fmt.Sprintf("\nThis alert is *%s*; %s is %s.", Esc(string(a.Severity)), inc.ID, Esc(string(inc.Severity)))
	if moreSevere(a.Severity, inc.Severity) {
		text += fmt.Sprintf(" :arrow_up: The alert is more severe than the incident. To raise it: `/clerk-incident severity %s %s`", inc.ID, a.Severity)
	}
	return text
}

// moreSevere reports whether a is worse than b (P1 is the worst); an
// unknown severity is never worse.
func moreSevere(a, b incident.Severity) bool {
	pa, okA := incident.ParseSeverity(string(a))
	pb, okB := incident.ParseSeverity(string(b))
	return okA && okB && pa < pb // "P1" < "P2" < "P3"
}

// NoteText renders a poller note for Slack.
func NoteText(n statuswatch.Note) string {
	switch n.Kind {
	case statuswatch.PageUnreadable:
		return fmt.Sprintf(":warning: Clerk's status page could not be read for %d polls in a row (%s). Auto-detection of Clerk incidents is blind until it recovers.", n.Polls, n.Err)
	case statuswatch.PageReadable:
		return ":white_check_mark: Clerk's status page can be read again; auto-detection is back."
	case statuswatch.ComponentsRecovered:
		return fmt.Sprintf(":white_check_mark: Clerk's status page no longer shows the problem. If sign-in works, `/clerk-incident resolve %s`.", n.Incident)
	case statuswatch.Advisory:
		comps := ""
		if n.Body != "" {
			comps = " (" + Esc(n.Body) + ")"
		}
		return fmt.Sprintf(":information_source: *Clerk advisory:* %s%s. %s. Sign-in is not affected, so no incident was opened and nobody was paged.", Esc(strings.TrimPrefix(n.Name, "Clerk: ")), comps, Esc(n.Status))
	case statuswatch.PlannedWork:
		what := "scheduled"
		if n.Status == "in_progress" || n.Status == "in progress" || n.Status == "verifying" {
			what = "in progress"
		}
		comps := ""
		if n.Body != "" {
			comps = " affecting " + Esc(n.Body)
		}
		return fmt.Sprintf(":hammer_and_wrench: *Clerk maintenance %s:* %s%s. No incident is opened for maintenance.", what, Esc(n.Name), comps)
	case statuswatch.ProbeRecovered:
		return fmt.Sprintf(":white_check_mark: Clerk's %s answers this bot's probes again: %s.", Esc(n.Name), Esc(n.Body))
	case statuswatch.PollerStale:
		return fmt.Sprintf(":warning: No replica has finished a Clerk status poll for %d intervals: auto-detection of Clerk problems is not running. Check the bot's logs and `/healthz`.", n.Polls)
	case statuswatch.UpstreamUpdate:
		return fmt.Sprintf(":satellite_antenna: *Clerk status update* (%s): %s", Esc(n.Status), Esc(n.Body))
	case statuswatch.UpstreamResolved:
		return fmt.Sprintf(":white_check_mark: Clerk reports %s *resolved*. Check sign-in works, then `/clerk-incident resolve %s`.", Esc(n.Name), n.Incident)
	case statuswatch.AppRecovered:
		return fmt.Sprintf(":white_check_mark: The app health check recovered: %d in %s.", n.HTTPStatus, Ms(n.Latency))
	}
	return ""
}

// NotePlain is the note as the timeline keeps it: what happened, no markup.
func NotePlain(n statuswatch.Note) string {
	switch n.Kind {
	case statuswatch.ComponentsRecovered:
		return "Clerk's status page no longer shows the problem"
	case statuswatch.ProbeRecovered:
		return fmt.Sprintf("Clerk's %s answers this bot's probes again: %s", n.Name, n.Body)
	case statuswatch.UpstreamUpdate:
		return fmt.Sprintf("Clerk status update (%s): %s", n.Status, n.Body)
	case statuswatch.UpstreamResolved:
		return fmt.Sprintf("Clerk reports %s resolved", n.Name)
	case statuswatch.AppRecovered:
		return fmt.Sprintf("The app health check recovered: %d in %s", n.HTTPStatus, Ms(n.Latency))
	}
	return NoteText(n)
}

// LiveText renders the live Clerk status and app health block.
func LiveText(s statuswatch.Snapshot) string {
	var b strings.Builder
	liveSummary(&b, s)
	if d := s.Detection; d != nil {
		if d.URL != "" {
			fmt.Fprintf(&b, "\n*Read as:* %s at %s", d.Format, d.URL)
		} else {
			var parts []string
			for _, c := range d.Tried {
				parts = append(parts, c.URL+" → "+c.Answer)
			}
			b.WriteString("\n:warning: *No status format found:* " + Esc(strings.Join(parts, "; ")))
		}
	}
	liveProbes(&b, s)
	if s.Health != nil {
		hh := s.Health
		if hh.OK {
			fmt.Fprintf(&b, "\n:white_check_mark: *App health:* %d in %s at %s", hh.Status, Ms(hh.Latency), SlackDate(hh.At))
		} else {
			what := hh.Err
			if what == "" {
				what = fmt.Sprintf("status %d", hh.Status)
			}
			fmt.Fprintf(&b, "\n:x: *App health:* %s after %s at %s", what, Ms(hh.Latency), SlackDate(hh.At))
		}
	}
	return b.String()
}

// liveSummary writes the status page's summary: the indicator, what is
// not operational and the open upstream incidents.
func liveSummary(b *strings.Builder, s statuswatch.Snapshot) {
	switch {
	case s.Summary == nil && s.Err != "":
		b.WriteString(":grey_question: *Clerk status:* unknown (" + s.Err + ")")
	case s.Summary == nil:
		b.WriteString(":grey_question: *Clerk status:* not polled yet")
	default:
		icon := map[string]string{"none": ":large_green_circle:", "minor": ":large_yellow_circle:", "major": ":large_orange_circle:",
			"critical": ":red_circle:", "maintenance": ":wrench:"}[s.Summary.Indicator]
		if icon == "" {
			icon = ":grey_question:"
		}
		desc := s.Summary.Description
		if desc == "" {
			desc = s.Summary.Indicator
		}
		fmt.Fprintf(b, "%s *Clerk status:* %s (%s)", icon, desc, s.Summary.Indicator)
		if s.Err != "" {
			b.WriteString(" · last poll failed: " + s.Err)
		}
		if bad := s.Summary.NotOperational(); len(bad) > 0 {
			var parts []string
			for _, c := range bad {
				parts = append(parts, fmt.Sprintf("%s (%s)", c.Name, strings.ReplaceAll(c.Status, "_", " ")))
			}
			b.WriteString("\n*Not operational:* " + strings.Join(parts, ", "))
		}
		for _, in := range s.Summary.Incidents {
			if in.Status == "resolved" {
				continue
			}
			line := fmt.Sprintf("\n• Upstream: *%s* (%s)", Esc(in.Name), Esc(in.Status))
			if in.URL != "" {
				line += fmt.Sprintf(" <%s|details>", in.URL)
			}
			b.WriteString(line)
		}
	}
}

// liveProbes writes what this bot's own probes of Clerk saw.
func liveProbes(b *strings.Builder, s statuswatch.Snapshot) {
	if len(s.Probes) > 0 {
		var parts []string
		for _, r := range s.Probes {
			parts = append(parts, r.What())
		}
		icon := ":white_check_mark:"
		var refused []string
		for _, r := range s.Probes {
			if r.Bad || r.Slow {
				icon = ":x:"
			}
			if why := r.Refused(); why != "" {
				icon = ":x:"
				refused = append(refused, why)
			}
		}
		fmt.Fprintf(b, "\n%s *Clerk from here:* %s", icon, Esc(strings.Join(parts, "; ")))
		for _, why := range refused {
			b.WriteString("\n:x: " + Esc(why) + ".")
		}
	}
}

// withLive puts the live status block on top of a reply.
func WithLive(m bot.Msg, live string) bot.Msg {
	if live == "" {
		return m
	}
	m.Blocks = append(Text(live).Blocks, m.Blocks...)
	return m
}

// DiagnoseText renders a diagnosis for Slack.
func DiagnoseText(rs []probe.DiagnoseResult, n int) string {
	head, lines := diagnosis(rs, n)
	return slackLines(":stopwatch: *"+head+"*", lines)
}

// DiagnosePlain is the diagnosis as the timeline keeps it: one plain line.
func DiagnosePlain(rs []probe.DiagnoseResult, n int) string {
	head, lines := diagnosis(rs, n)
	return plainLines(head, lines)
}

// line is one line of a result: its Slack mark, a lead Slack shows in
// bold, and its plain words.
type line struct{ mark, lead, text string }

func (l line) plain() string { return strings.TrimSpace(l.lead + " " + l.text) }

// slackLines puts each line under the head, after its mark.
func slackLines(head string, lines []line) string {
	var b strings.Builder
	b.WriteString(head)
	for _, l := range lines {
		b.WriteString("\n")
		if l.mark != "" {
			b.WriteString(l.mark + " ")
		}
		if l.lead != "" {
			b.WriteString("*" + l.lead + "* ")
		}
		b.WriteString(l.text)
	}
	return b.String()
}

// plainLines joins a head and its lines into one plain line.
func plainLines(head string, lines []line) string {
	parts := []string{head}
	for _, l := range lines {
		parts = append(parts, l.plain())
	}
	return OneLine(strings.Join(parts, "; "))
}

func diagnosis(rs []probe.DiagnoseResult, n int) (string, []line) {
	var lines []line
	var hints []string
	for _, r := range rs {
		mark := ":white_check_mark:"
		switch {
		case r.Errors > 0:
			mark = ":x:"
		case r.P50 > r.Target.Threshold:
			mark = ":warning:"
		}
		text := fmt.Sprintf("%s: %s / %s (threshold %s)", r.Target.Name, Ms(r.P50), Ms(r.Max), Ms(r.Target.Threshold))
		if r.Errors > 0 {
			text += fmt.Sprintf(" · %d of %d failed: %s", r.Errors, n, Truncate(r.LastErr, 200))
		}
		lines = append(lines, line{mark: mark, text: text})
		if (r.Errors > 0 || r.P50 > r.Target.Threshold) && r.Target.Hint != "" {
			hints = append(hints, fmt.Sprintf("%s is slow or failing (%s): %s", r.Target.Name, Ms(r.P50), r.Target.Hint))
		}
	}
	if len(hints) == 0 {
		lines = append(lines, line{text: "Everything is within the runbook's thresholds."})
	}
	for _, h := range hints {
		lines = append(lines, line{mark: ":point_right:", text: h})
	}
	return fmt.Sprintf("Diagnosis (%d samples each; p50 / max)", n), lines
}

// Ms renders a timing (probe.Ms).
func Ms(d time.Duration) string { return probe.Ms(d) }

// CheckText renders the check list.
func CheckText(items []probe.CheckItem) string {
	var b strings.Builder
	bad := 0
	for _, it := range items {
		icon := ":white_check_mark:"
		switch {
		case it.Info:
			icon = ":information_source:"
		case !it.OK:
			icon = ":x:"
			bad++
		}
		b.WriteString(icon + " " + it.Text)
		if it.Fix != "" && !it.OK {
			b.WriteString("\n\u2003→ " + it.Fix)
		}
		b.WriteString("\n")
	}
	if bad == 0 {
		return "*Configuration check: all good*\n" + b.String()
	}
	return fmt.Sprintf("*Configuration check: %d problem(s)*\n", bad) + b.String()
}

// SnapshotAge says how old the status shown is (empty before any poll).
func SnapshotAge(at, now time.Time) string {
	if at.IsZero() {
		return ""
	}
	d := max(now.Sub(at), 0)
	var ago string
	switch {
	case d < time.Minute:
		ago = fmt.Sprintf("%d s", d/time.Second)
	case d < time.Hour:
		ago = fmt.Sprintf("%d min", d/time.Minute)
	default:
		ago = fmt.Sprintf("%d h %d min", d/time.Hour, d%time.Hour/time.Minute)
	}
	return fmt.Sprintf("\n_Clerk status as of the last poll, %s ago (%s)._", ago, SlackDate(at))
}
