package incident

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// Milestone kinds, as typed after `milestone` and shown in reports.
const (
	MilestoneDetected     = "detected"
	MilestoneAcknowledged = "acknowledged"
	MilestoneMitigated    = "mitigated"
	MilestoneResolved     = "resolved"
)

// Where the first signal of an incident came from.
const (
	SourceOpened     = "opened"      // nobody saw it before someone opened it
	SourceStatusPage = "status page" // Clerk's status page
	SourceProbe      = "probe"       // this bot's probes of Clerk's APIs
	SourceAppHealth  = "app health"  // the app's health endpoint
	SourceAlert      = "alert"       // the team's own monitoring (POST /v1/alerts)
)

// Milestone is when one step of the response happened, and who did it.
type Milestone struct {
	At time.Time `json:"at"`
	By Person    `json:"by"`
	// Source is where a detection came from (detected only).
	Source string `json:"source,omitempty"`
	// Corrected is who last moved it with `milestone`; Was is the time
	// it had before that.
	Corrected *Person   `json:"corrected,omitempty"`
	Was       time.Time `json:"was,omitempty"`
}

// Milestones are the four steps the report's durations and `stats` are
// measured by. A nil one has not happened (or was not recorded: older
// incidents carry none, and Timings derives them).
type Milestones struct {
	Detected     *Milestone `json:"detected,omitempty"`
	Acknowledged *Milestone `json:"acknowledged,omitempty"`
	Mitigated    *Milestone `json:"mitigated,omitempty"`
	Resolved     *Milestone `json:"resolved,omitempty"`
}

// Timings are an incident's milestones, each one recorded or, for an
// incident written before milestones existed, derived from its fields:
// detected is the open itself, acknowledged/mitigated/resolved their
// transition times (mitigated's person from the timeline when loaded).
func (i *Incident) Timings() Milestones {
	var m Milestones
	if i.Marks != nil {
		m = *i.Marks
	}
	if m.Detected == nil && !i.OpenedAt.IsZero() {
		m.Detected = &Milestone{At: i.OpenedAt, By: i.OpenedBy, Source: SourceOpened}
	}
	if m.Acknowledged == nil && i.AckedBy != nil {
		at := i.AckedAt
		for _, e := range i.Timeline {
			if at.IsZero() && strings.HasPrefix(e.Text, ackText) {
				at = e.At
			}
		}
		if !at.IsZero() {
			m.Acknowledged = &Milestone{At: at, By: *i.AckedBy}
		}
	}
	if m.Mitigated == nil && !i.MitigatedAt.IsZero() {
		ms := &Milestone{At: i.MitigatedAt}
		for _, e := range i.Timeline {
			if e.At.Equal(i.MitigatedAt) && strings.HasPrefix(e.Text, mitigatedText) {
				ms.By = e.Actor
			}
		}
		m.Mitigated = ms
	}
	if m.Resolved == nil && !i.ResolvedAt.IsZero() {
		ms := &Milestone{At: i.ResolvedAt}
		if i.ResolvedBy != nil {
			ms.By = *i.ResolvedBy
		}
		m.Resolved = ms
	}
	return m
}

// Spans are the durations the report and `stats` give, all measured from
// detection (the first signal). A zero ok means not (yet) known.
type Spans struct {
	ToAcknowledge time.Duration
	AckOK         bool
	// ToMitigate falls back to the resolve when no mitigation was marked
	// before it (resolving mitigates); MitigatedAtResolve says so.
	ToMitigate         time.Duration
	MitigateOK         bool
	MitigatedAtResolve bool
	// Duration is detection to resolution, or to now while open.
	Duration   time.Duration
	ResolvedOK bool
}

// Spans measures the incident's milestones (now ends an open one).
func (m Milestones) Spans(now time.Time) Spans {
	var s Spans
	if m.Detected == nil {
		return s
	}
	d := m.Detected.At
	if m.Acknowledged != nil {
		s.ToAcknowledge, s.AckOK = m.Acknowledged.At.Sub(d), true
	}
	switch {
	case m.Mitigated != nil:
		s.ToMitigate, s.MitigateOK = m.Mitigated.At.Sub(d), true
	case m.Resolved != nil:
		s.ToMitigate, s.MitigateOK, s.MitigatedAtResolve = m.Resolved.At.Sub(d), true, true
	}
	s.Duration = now.Sub(d)
	if m.Resolved != nil {
		s.Duration, s.ResolvedOK = m.Resolved.At.Sub(d), true
	}
	return s
}

// marks returns the incident's recorded milestones, ready to be set.
func (i *Incident) marks() *Milestones {
	if i.Marks == nil {
		i.Marks = &Milestones{}
	}
	return i.Marks
}

// openedMarks records the first signal when an incident is opened: the
// opener's own time unless a signal came earlier (never later than now).
func openedMarks(p OpenParams, now time.Time) *Milestones {
	d := &Milestone{At: now, By: p.By, Source: SourceOpened}
	if p.Source != "" {
		d.Source = p.Source
	}
	if !p.Detected.IsZero() && p.Detected.Before(now) {
		d.At = p.Detected.UTC()
	}
	return &Milestones{Detected: d}
}

// The texts of the transitions' own timeline entries; the report's
// timeline shows each as its milestone rather than twice.
const (
	ackText       = "Acknowledged; now leading the response"
	mitigatedText = "Mitigation applied"
	resolvedText  = "Resolution confirmed"
)

// Errors of a milestone correction: each says what rule was broken.
var (
	ErrMilestoneKind = apperr.New(apperr.Invalid, "only detected and mitigated can be corrected")
	ErrMilestoneTime = apperr.New(apperr.Invalid, "not a time")
	ErrMilestoneRule = apperr.New(apperr.Invalid, "milestone out of order")
)

var clockPattern = regexp.MustCompile(`^(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2}):(\d{2})\s*(?:(UTC|Z|GMT)|([+-])(\d{1,2}):?(\d{2}))?$`)

// ParseMilestoneTime reads `HH:MM`, optionally preceded by a date
// (YYYY-MM-DD) and followed by a zone: `UTC`/`Z` or an offset such as
// `+02:00`; without one the time is UTC. Without a date the time is the
// occurrence of that clock time nearest to near (within 12 hours), so a
// correction around midnight lands on the right day.
func ParseMilestoneTime(s string, near time.Time) (time.Time, error) {
	m := clockPattern.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return time.Time{}, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%q is not a time; give HH:MM in UTC (e.g. 14:05), or add a zone (14:05 +02:00) or a date (2026-11-25 14:05)", s), ErrMilestoneTime)
	}
	hh, _ := strconv.Atoi(m[2])
	mm, _ := strconv.Atoi(m[3])
	if hh > 23 || mm > 59 {
		return time.Time{}, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%q is not a time of day (00:00 to 23:59)", s), ErrMilestoneTime)
	}
	loc := time.UTC
	if m[5] != "" {
		oh, _ := strconv.Atoi(m[6])
		om, _ := strconv.Atoi(m[7])
		if oh > 14 || om > 59 {
			return time.Time{}, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%q has an offset no zone uses", s), ErrMilestoneTime)
		}
		off := oh*3600 + om*60
		if m[5] == "-" {
			off = -off
		}
		loc = time.FixedZone(m[5]+m[6]+":"+m[7], off)
	}
	if m[1] != "" {
		day, err := time.ParseInLocation("2006-01-02", m[1], loc)
		if err != nil {
			return time.Time{}, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%q has no such date", s), ErrMilestoneTime)
		}
		return day.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute).UTC(), nil
	}
	n := near.In(loc)
	t := time.Date(n.Year(), n.Month(), n.Day(), hh, mm, 0, 0, loc)
	switch {
	case t.Sub(n) > 12*time.Hour:
		t = t.AddDate(0, 0, -1)
	case n.Sub(t) > 12*time.Hour:
		t = t.AddDate(0, 0, 1)
	}
	return t.UTC(), nil
}

// CorrectMilestone moves the detected or mitigated milestone to at. The
// rules keep the milestones in order and in the past:
//   - no milestone may be in the future;
//   - detected is at or before the open (the open is itself a signal)
//     and at most 7 days before it, and at or before mitigated;
//   - mitigated is at or after detected, at or before the resolve, and
//     only on an incident that was mitigated or resolved (mark it with
//     `mitigated` first).
//
// The correction works on resolved incidents too: reports are written
// after the fact.
func CorrectMilestone(by Person, kind string, at time.Time) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		at = at.UTC().Truncate(time.Second)
		if kind != MilestoneDetected && kind != MilestoneMitigated {
			return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%q", kind), ErrMilestoneKind)
		}
		if at.After(now) {
			return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%s is in the future (now is %s UTC)", clock(at), clock(now)), ErrMilestoneRule)
		}
		cur := inc.Timings()
		var old *Milestone
		switch kind {
		case MilestoneDetected:
			old = cur.Detected
			if at.After(inc.OpenedAt) {
				return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("detected can be no later than the open (%s UTC)", clock(inc.OpenedAt)), ErrMilestoneRule)
			}
			if inc.OpenedAt.Sub(at) > 7*24*time.Hour {
				return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("detected can be at most 7 days before the open (%s UTC)", clock(inc.OpenedAt)), ErrMilestoneRule)
			}
			if cur.Mitigated != nil && at.After(cur.Mitigated.At) {
				return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("detected can be no later than mitigated (%s UTC)", clock(cur.Mitigated.At)), ErrMilestoneRule)
			}
		case MilestoneMitigated:
			old = cur.Mitigated
			if old == nil && cur.Resolved == nil {
				return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%s is not mitigated yet; mark it with `mitigated` first", inc.ID), ErrMilestoneRule)
			}
			if cur.Detected != nil && at.Before(cur.Detected.At) {
				return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("mitigated can be no earlier than detected (%s UTC)", clock(cur.Detected.At)), ErrMilestoneRule)
			}
			if cur.Resolved != nil && at.After(cur.Resolved.At) {
				return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("mitigated can be no later than the resolve (%s UTC)", clock(cur.Resolved.At)), ErrMilestoneRule)
			}
		}
		if old != nil && old.At.Equal(at) {
			return nil, noChange(fmt.Sprintf("%s is already %s UTC", kind, clock(at)))
		}
		next := Milestone{At: at, Corrected: &by}
		was := "not recorded"
		if old != nil {
			next.By, next.Source, next.Was = old.By, old.Source, old.At
			was = clock(old.At) + " UTC"
		} else {
			// Marked only by the resolve until now: the resolver mitigated.
			next.By = cur.Resolved.By
		}
		// Keep every milestone recorded from now on, so a derived one
		// cannot shift when the fields it came from change.
		mk := inc.marks()
		*mk = cur
		if kind == MilestoneDetected {
			mk.Detected = &next
		} else {
			mk.Mitigated = &next
		}
		return []Entry{{Actor: by, Text: fmt.Sprintf("Milestone %s corrected: %s UTC (was %s)", kind, clock(at), was)}}, nil
	}
}

// clock is how corrections name a time: the date only when it matters.
func clock(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
