package incident

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// The report's Summary durations and its Timeline come from the
// milestones (Timings): detected, acknowledged, mitigated, resolved.

// writeSpans writes Detected, Time to acknowledge, Time to mitigate and
// Duration, each measured from detection.
func writeSpans(b *strings.Builder, inc *Incident, m Milestones, now time.Time, ps people) {
	sp := m.Spans(now)
	if m.Detected != nil {
		how := "when opened"
		if m.Detected.Source != SourceOpened && m.Detected.Source != "" {
			how = "first signal: " + m.Detected.Source
		}
		fmt.Fprintf(b, "- **Detected:** %s UTC, %s (%s)%s\n", stamp(m.Detected.At, inc.OpenedAt), how, ps.name(m.Detected.By), corrected(m.Detected, inc.OpenedAt, ps))
	}
	tta := "_Not acknowledged._"
	if sp.AckOK {
		tta = FormatSpan(sp.ToAcknowledge)
	}
	fmt.Fprintf(b, "- **Time to acknowledge:** %s\n", tta)
	ttm := "_Not mitigated yet._"
	if sp.MitigateOK {
		ttm = FormatSpan(sp.ToMitigate)
		if sp.MitigatedAtResolve {
			ttm += " (at the resolve; no mitigation was marked before it)"
		}
	}
	fmt.Fprintf(b, "- **Time to mitigate:** %s\n", ttm)
	dur := FormatSpan(sp.Duration)
	if !sp.ResolvedOK {
		dur += " (still open)"
	}
	fmt.Fprintf(b, "- **Duration:** %s\n", dur)
}

// impactLine is the Impact: the affected accounts recorded (unknown when
// none were) and the impact text. With neither, the field is missing.
func impactLine(text string, affected int, missing *[]string) string {
	text = strings.TrimSpace(text)
	switch {
	case affected > 0 && text != "":
		return fmt.Sprintf("%s; %s", accounts(affected), text)
	case affected > 0:
		return accounts(affected)
	case text != "":
		return text + " (affected accounts: unknown, none recorded)"
	}
	*missing = append(*missing, "impact")
	return "unknown (no affected accounts recorded)"
}

func accounts(n int) string {
	if n == 1 {
		return "1 affected account"
	}
	return fmt.Sprintf("%d affected accounts", n)
}

// reportTimeline merges the milestones into the timeline, in time order.
// A transition's own entry (the ack, the mitigation, the resolve, the
// open when it was the first signal) becomes its milestone's line rather
// than a second line; a milestone corrected later keeps the entry's words
// and moves to the corrected time.
func reportTimeline(inc *Incident, m Milestones, ps people) []Entry {
	type item struct {
		Entry
		rank int
	}
	var items []item
	used := map[int]bool{}
	consume := func(at time.Time, prefix string) (Entry, bool) {
		for i, e := range inc.Timeline {
			if !used[i] && e.At.Equal(at) && strings.HasPrefix(e.Text, prefix) {
				used[i] = true
				return e, true
			}
		}
		return Entry{}, false
	}
	add := func(rank int, ms *Milestone, label, prefix string) {
		if ms == nil {
			return
		}
		orig := ms.At
		if !ms.Was.IsZero() {
			orig = ms.Was
		}
		text, by := "**"+label+"**", ms.By
		if prefix != "" {
			if e, ok := consume(orig, prefix); ok {
				words := oneLine(e.Text)
				if by == (Person{}) {
					by = e.Actor
				}
				if rest := strings.TrimPrefix(words, label); rest != words {
					// The entry names the milestone itself: its words stay
					// whole ("Resolution confirmed: Clerk recovered").
					if rest != "" {
						text = words
					}
				} else {
					text += ": " + words
				}
			}
		}
		if ms.Source != "" && ms.Source != SourceOpened {
			text += " (" + ms.Source + ")"
		}
		text += corrected(ms, inc.OpenedAt, ps)
		items = append(items, item{Entry{At: ms.At, Actor: by, Text: text}, rank - 4})
	}
	detectPrefix := "Incident opened"
	if m.Detected != nil && m.Detected.Source != SourceOpened && m.Detected.Source != "" {
		detectPrefix = "" // the open is its own line, after the signal
	}
	add(0, m.Detected, "Incident detected", detectPrefix)
	add(1, m.Acknowledged, "Initial response", ackText)
	add(2, m.Mitigated, mitigatedText, mitigatedText)
	add(3, m.Resolved, resolvedText, resolvedText)
	for i, e := range inc.Timeline {
		if !used[i] {
			items = append(items, item{Entry{At: e.At, Actor: e.Actor, Text: oneLine(e.Text)}, i})
		}
	}
	sort.SliceStable(items, func(a, b int) bool {
		if !items[a].At.Equal(items[b].At) {
			return items[a].At.Before(items[b].At)
		}
		return items[a].rank < items[b].rank
	})
	out := make([]Entry, len(items))
	for i, it := range items {
		out[i] = it.Entry
	}
	return out
}

// corrected says who moved a milestone and from when.
func corrected(ms *Milestone, day time.Time, ps people) string {
	if ms.Corrected == nil {
		return ""
	}
	was := "unset"
	if !ms.Was.IsZero() {
		was = stamp(ms.Was, day)
	}
	return fmt.Sprintf(" (corrected by %s; was %s)", ps.name(*ms.Corrected), was)
}

// stamp is HH:MM UTC, with the date when it is not the incident's day.
func stamp(t, day time.Time) string {
	t = t.UTC()
	if d := t.Format("2006-01-02"); d != day.UTC().Format("2006-01-02") {
		return d + " " + t.Format("15:04")
	}
	return t.Format("15:04")
}

// FormatSpan is FormatDuration with the seconds when there are any, so a
// 90 s acknowledgement reads "1 minute 30 seconds", not "1 minute".
func FormatSpan(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Second)
	s := int((d % time.Minute) / time.Second)
	if s == 0 && d > 0 {
		return FormatDuration(d)
	}
	secs := fmt.Sprintf("%d seconds", s)
	if s == 1 {
		secs = "1 second"
	}
	if d < time.Minute {
		return secs
	}
	return FormatDuration(d) + " " + secs
}
