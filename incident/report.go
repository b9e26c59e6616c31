package incident

import (
	"fmt"
	"strings"
	"time"
)

// Report renders the runbook's post-incident template from the incident,
// and lists the fields still empty so the caller can ask for them.
func Report(inc *Incident, now time.Time) (markdown string, missing []string) {
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
	dur := FormatDuration(inc.Duration(now))
	if inc.Open() {
		dur += " (still open)"
	}
	fmt.Fprintf(&b, "- **Duration:** %s\n", dur)
	fmt.Fprintf(&b, "- **Severity:** %s\n", inc.Severity)
	fmt.Fprintf(&b, "- **Impact:** %s\n", field(inc.Impact, "impact"))
	fmt.Fprintf(&b, "- **Status:** %s\n", inc.Status)
	fmt.Fprintf(&b, "- **Opened by:** %s\n", inc.OpenedBy.Plain())
	if inc.AckedBy != nil {
		fmt.Fprintf(&b, "- **Led by:** %s\n", inc.AckedBy.Plain())
	}
	b.WriteString("\n## Timeline\n")
	b.WriteString("_Times are UTC._\n\n")
	day := inc.OpenedAt.UTC().Format("2006-01-02")
	for _, e := range inc.Timeline {
		at := e.At.UTC()
		stamp := at.Format("15:04")
		if d := at.Format("2006-01-02"); d != day {
			stamp = d + " " + stamp
		}
		who := e.Actor.Name
		if who == "" {
			who = e.Actor.ID
		}
		if strings.HasPrefix(e.Actor.ID, "cli:") {
			who += " (CLI)"
		}
		fmt.Fprintf(&b, "- %s - %s (%s)\n", stamp, oneLine(e.Text), who)
	}
	fmt.Fprintf(&b, "\n## Root Cause\n%s\n", field(inc.RootCause, "root cause"))
	fmt.Fprintf(&b, "\n## Resolution\n%s\n", field(inc.Resolution, "resolution"))
	b.WriteString("\n## Prevention\n")
	if len(inc.Prevention) == 0 {
		missing = append(missing, "prevention")
		b.WriteString(notYet + "\n")
	}
	for _, p := range inc.Prevention {
		fmt.Fprintf(&b, "- [ ] %s\n", oneLine(p))
	}
	fmt.Fprintf(&b, "\n## Lessons Learned\n%s\n", field(inc.Lessons, "lessons"))
	return b.String(), missing
}

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
