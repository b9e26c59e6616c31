package incident

import (
	"fmt"
	"strings"
	"time"
)

// Report renders the runbook's post-incident template from the incident,
// and lists the fields still empty so the caller can ask for them. The
// follow-ups join the Prevention items, each with its issue once exported.
func Report(inc *Incident, now time.Time, followups ...Followup) (markdown string, missing []string) {
	return ReportWith(inc, now, ReportFacts{Followups: followups})
}

// ReportFacts are what the report reads from beside the incident.
type ReportFacts struct {
	// Affected is how many accounts were recorded as affected (0: none,
	// which the report calls unknown).
	Affected int
	// Followups are the incident's follow-ups (Prevention).
	Followups []Followup
}

// ReportWith is Report with the facts kept beside the incident.
func ReportWith(inc *Incident, now time.Time, facts ReportFacts) (markdown string, missing []string) {
	followups := facts.Followups
	var b strings.Builder
	notYet := "_Not recorded yet._"
	field := func(v, name string) string {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
			return notYet
		}
		return v
	}
	fmt.Fprintf(&b, "# Incident Report: %s\n\n", inc.Title)
	b.WriteString("## Summary\n")
	fmt.Fprintf(&b, "- **Incident:** %s (%s)\n", inc.ID, inc.Category)
	fmt.Fprintf(&b, "- **Date:** %s\n", inc.OpenedAt.UTC().Format("2006-01-02"))
	people := peopleOf(inc)
	marks := inc.Timings()
	writeSpans(&b, inc, marks, now, people)
	fmt.Fprintf(&b, "- **Severity:** %s\n", inc.Severity)
	fmt.Fprintf(&b, "- **Impact:** %s\n", impactLine(inc.Impact, facts.Affected, &missing))
	fmt.Fprintf(&b, "- **Status:** %s\n", inc.Status)
	// The people and their roles, with their Slack IDs: this is where a
	// reader finds out exactly who someone was.
	fmt.Fprintf(&b, "- **Opened by:** %s\n", people.full(inc.OpenedBy))
	for _, r := range []struct {
		label string
		who   *Person
	}{{"Led by", inc.AckedBy}, {"Commander", inc.Commander}, {"Comms", inc.Comms}, {"Resolved by", inc.ResolvedBy}} {
		// A commander who is the lead is said once, as the lead.
		if r.who != nil && (r.label != "Commander" || inc.AckedBy == nil || r.who.ID != inc.AckedBy.ID) {
			fmt.Fprintf(&b, "- **%s:** %s\n", r.label, people.full(*r.who))
		}
	}
	b.WriteString("\n## Timeline\n")
	b.WriteString("_Times are UTC._\n\n")
	day := inc.OpenedAt.UTC().Format("2006-01-02")
	for _, e := range reportTimeline(inc, marks, people) {
		at := e.At.UTC()
		stamp := at.Format("15:04")
		if d := at.Format("2006-01-02"); d != day {
			stamp = d + " " + stamp
		}
		fmt.Fprintf(&b, "- %s - %s (%s)\n", stamp, e.Text, people.name(e.Actor))
	}
	writeWork(&b, inc, day, people)
	fmt.Fprintf(&b, "\n## Root Cause\n%s\n", field(inc.RootCause, "root cause"))
	fmt.Fprintf(&b, "\n## Resolution\n%s\n", field(inc.Resolution, "resolution"))
	b.WriteString("\n## Prevention\n")
	if len(inc.Prevention) == 0 && len(followups) == 0 {
		missing = append(missing, "prevention")
		b.WriteString(notYet + "\n")
	}
	for _, p := range inc.Prevention {
		fmt.Fprintf(&b, "- [ ] %s\n", oneLine(p))
	}
	for _, f := range followups {
		box, done := " ", ""
		if f.Done {
			box, done = "x", " (done)"
		}
		issue := ""
		if f.Exported() {
			issue = fmt.Sprintf(" - issue #%d: %s", f.Export.Number, f.Export.URL)
		}
		fmt.Fprintf(&b, "- [%s] Follow-up %d%s: %s%s\n", box, f.N, done, oneLine(f.Text), issue)
	}
	fmt.Fprintf(&b, "\n## Lessons Learned\n%s\n", field(inc.Lessons, "lessons"))
	return b.String(), missing
}

// people names everyone on one incident one way: each ID by the latest
// name recorded for it (a handle at first and a display name later are
// one person), with the ID added only where two people share a name.
type people struct {
	names  map[string]string // ID → name
	shared map[string]bool   // names that more than one ID goes by
}

func peopleOf(inc *Incident) people {
	all := []Person{inc.OpenedBy}
	for _, p := range []*Person{inc.AckedBy, inc.Commander, inc.Comms, inc.ResolvedBy} {
		if p != nil {
			all = append(all, *p)
		}
	}
	for _, e := range inc.Timeline {
		all = append(all, e.Actor)
	}
	ps := people{names: map[string]string{}, shared: map[string]bool{}}
	for _, p := range all {
		if p.ID != "" && p.Name != "" {
			ps.names[p.ID] = p.Name
		}
	}
	seen := map[string]string{} // name → first ID with it
	for _, p := range all {
		n, key := ps.plain(p).Display(), p.ID
		if key == "" {
			key = "name:" + p.Name
		}
		if first, ok := seen[n]; ok && first != key {
			ps.shared[n] = true
		} else if !ok {
			seen[n] = key
		}
	}
	return ps
}

func (ps people) plain(p Person) Person {
	if n := ps.names[p.ID]; n != "" && p.ID != "" {
		p.Name = n
	}
	return p
}

// name is how the timeline names someone.
func (ps people) name(p Person) string {
	p = ps.plain(p)
	if d := p.Display(); ps.shared[d] {
		return p.Plain()
	}
	return p.Display()
}

// full is how the people section names someone: with their Slack ID.
func (ps people) full(p Person) string { return ps.plain(p).Plain() }

// FormatDuration renders "X hours Y minutes" as the template asks.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h := int(d / time.Hour)
	m := int((d % time.Hour) / time.Minute)
	plural := func(n int, unit string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	if h == 0 {
		return plural(m, "minute")
	}
	return plural(h, "hour") + " " + plural(m, "minute")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeWork lists the long actions carried out (rollback, bulk lockout or
// revoke, resync) with how each ended, or that it was still running when
// the report was written (the report is written again when it ends).
func writeWork(b *strings.Builder, inc *Incident, day string, people people) {
	if len(inc.Work) == 0 {
		return
	}
	stamp := func(t time.Time) string {
		if d := t.UTC().Format("2006-01-02"); d != day {
			return d + " " + t.UTC().Format("15:04")
		}
		return t.UTC().Format("15:04")
	}
	b.WriteString("\n### Long actions\n")
	for _, w := range inc.Work {
		if w.Running() {
			fmt.Fprintf(b, "- %s - %s (%s, %s): **still running** when this report was written; it is written again when it ends\n", stamp(w.Started), oneLine(Redact(w.What)), w.ID, people.name(w.By))
			continue
		}
		status := strings.ReplaceAll(w.Status, "_", " ")
		if status == "" {
			status = "ended"
		}
		span := stamp(w.Started) + " to " + stamp(w.Ended)
		if w.Started.IsZero() {
			span = "ended " + stamp(w.Ended)
		}
		fmt.Fprintf(b, "- %s - %s (%s, %s): %s", span, oneLine(Redact(w.What)), w.ID, people.name(w.By), status)
		if w.Outcome != "" {
			fmt.Fprintf(b, " - %s", oneLine(Redact(w.Outcome)))
		}
		b.WriteString("\n")
	}
}
