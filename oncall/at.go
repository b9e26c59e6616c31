package oncall

import "time"

// Override puts someone on call in a schedule for a while (a swap, a sick
// day). The newest override in force wins.
type Override struct {
	ID       string    `json:"id"`
	Schedule string    `json:"schedule"`
	Who      Member    `json:"who"`
	Replaces Member    `json:"replaces"` // who was on call when it was made (may be empty)
	From     time.Time `json:"from"`
	Until    time.Time `json:"until"`
	By       string    `json:"by"` // Slack ID of who made it
	ByName   string    `json:"by_name,omitempty"`
	At       time.Time `json:"at"` // when it was made
}

// In reports whether the override is in force at t.
func (o Override) In(t time.Time) bool { return !t.Before(o.From) && t.Before(o.Until) }

// Segment is a stretch of time with one person on call (or nobody, before
// a schedule starts).
type Segment struct {
	Who      *Member   // nil: nobody
	From     time.Time // zero: unknown (before the schedule starts)
	Until    time.Time // zero: never changes
	Shift    int       // the rotation's shift (-1 before it starts, or under an override)
	Override *Override // set when an override put them there
}

// Now is who is on call in a schedule now and who is next.
type Now struct {
	Schedule *Schedule
	Current  Segment
	Next     Segment // meaningful when Current.Until is set
}

// At says who is on call at t, and who next: a pure function of the
// schedule, its overrides and the time.
func At(s *Schedule, overrides []Override, t time.Time) Now {
	cur := segmentAt(s, overrides, t)
	n := Now{Schedule: s, Current: cur}
	if !cur.Until.IsZero() {
		n.Next = segmentAt(s, overrides, cur.Until)
	}
	return n
}

// segmentAt is the segment in force at t.
func segmentAt(s *Schedule, overrides []Override, t time.Time) Segment {
	var best *Override
	for i := range overrides {
		o := &overrides[i]
		if o.Schedule != s.Name || !o.In(t) {
			continue
		}
		if best == nil || o.At.After(best.At) || (o.At.Equal(best.At) && o.ID > best.ID) {
			best = o
		}
	}
	if best != nil {
		who := best.Who
		return Segment{Who: &who, From: best.From, Until: best.Until, Shift: -1, Override: best}
	}
	k, started := s.ShiftAt(t)
	if !started || len(s.Members) == 0 {
		return Segment{From: time.Time{}, Until: earliest(s.HandoffAt(0), overrides, s.Name, t), Shift: -1}
	}
	who := s.MemberOf(k)
	from := s.HandoffAt(k)
	for _, o := range overrides { // the rotation resumed when an override ended
		if o.Schedule == s.Name && o.Until.After(from) && !o.Until.After(t) {
			from = o.Until
		}
	}
	return Segment{Who: &who, From: from, Until: earliest(s.HandoffAt(k+1), overrides, s.Name, t), Shift: k}
}

// earliest is the first of end and any override beginning after t.
func earliest(end time.Time, overrides []Override, schedule string, t time.Time) time.Time {
	for _, o := range overrides {
		if o.Schedule == schedule && o.From.After(t) && o.From.Before(end) && o.Until.After(o.From) {
			end = o.From
		}
	}
	return end
}

// ShiftEnd is the end of the rotation's shift in progress at t (the next
// handoff), or the first handoff when the schedule has not started.
func (s *Schedule) ShiftEnd(t time.Time) time.Time {
	k, started := s.ShiftAt(t)
	if !started {
		return s.HandoffAt(0)
	}
	return s.HandoffAt(k + 1)
}
