// Package oncall holds on-call rotations: the `schedules:` of
// contacts.yml, who is on call at a time (pure: a function of the
// schedule, its overrides and the time), the overrides kept in Redis, and
// the handoff tick that tells the incoming person and keeps a Slack user
// group equal to whoever is on call. It knows nothing of Slack beyond IDs.
package oncall

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The rotations a schedule may have.
const (
	Daily  = "daily"
	Weekly = "weekly"
)

// Member is one person of a rotation.
type Member struct {
	Name    string `json:"name"`
	SlackID string `json:"slack_id"`
	Phone   string `json:"phone,omitempty"`
	Line    int    `json:"-"`
}

// Schedule is one rotation: members take turns, one shift each, handing
// off at a wall-clock time in the schedule's zone (09:00 stays 09:00
// across daylight-saving changes).
type Schedule struct {
	Name      string
	TimeZone  string
	Loc       *time.Location
	Rotation  string // daily | weekly
	Handoff   string // as written: "monday 09:00" or "09:00"
	Weekday   time.Weekday
	Hour, Min int
	// Start is the date (in the zone) from which shift 0 begins, at the
	// first handoff on or after it.
	Start     time.Time
	UserGroup string // S…, kept equal to whoever is on call ("" none)
	Members   []Member
	Line      int
}

// days is the length of a shift in calendar days.
func (s *Schedule) days() int {
	if s.Rotation == Weekly {
		return 7
	}
	return 1
}

// HandoffAt is when shift k begins (k ≥ 0): the first handoff on or after
// Start, then every day or week at the same wall-clock time.
func (s *Schedule) HandoffAt(k int) time.Time {
	y, m, d := s.Start.Date()
	if s.Rotation == Weekly {
		d += (int(s.Weekday) - int(s.Start.Weekday()) + 7) % 7
	}
	return time.Date(y, m, d+k*s.days(), s.Hour, s.Min, 0, 0, s.Loc)
}

// ShiftAt is the shift in progress at t, or false before shift 0.
func (s *Schedule) ShiftAt(t time.Time) (int, bool) {
	first := s.HandoffAt(0)
	if t.Before(first) {
		return 0, false
	}
	k := int(t.Sub(first) / (time.Duration(s.days()) * 24 * time.Hour))
	for k > 0 && s.HandoffAt(k).After(t) {
		k--
	}
	for !s.HandoffAt(k + 1).After(t) {
		k++
	}
	return k, true
}

// MemberOf is the member of shift k.
func (s *Schedule) MemberOf(k int) Member { return s.Members[k%len(s.Members)] }

// Has reports whether the Slack user is a member of the rotation.
func (s *Schedule) Has(user string) bool {
	_, ok := s.member(user)
	return ok
}

func (s *Schedule) member(user string) (Member, bool) {
	for _, m := range s.Members {
		if m.SlackID == user {
			return m, true
		}
	}
	return Member{}, false
}

// Describe says the rotation as written: "weekly, handoff monday 09:00 Europe/Berlin".
func (s *Schedule) Describe() string {
	return fmt.Sprintf("%s, handoff %s %s", s.Rotation, s.Handoff, s.TimeZone)
}

var (
	handoffRe = regexp.MustCompile(`^(?:([a-z]+)\s+)?([0-9]{1,2}):([0-9]{2})$`)
	userRe    = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
	groupRe   = regexp.MustCompile(`^S[A-Z0-9]+$`)
	e164Re    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// Add records a problem at a line of contacts.yml.
type Add func(line int, format string, args ...any)

// Parse reads the `schedules:` map of contacts.yml. Every problem is
// added with its line, so they are listed all at once; a schedule with
// problems fails the load.
func Parse(n *yaml.Node, add Add) []*Schedule {
	if n.Kind != yaml.MappingNode {
		add(n.Line, "schedules must be a mapping of names to rotations (time_zone, rotation, handoff, start, members)")
		return nil
	}
	var out []*Schedule
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		// A schedule with problems is still returned, so a person naming
		// it is not also told it names nothing; loading fails anyway.
		s, _ := parseSchedule(strings.TrimSpace(k.Value), k.Line, v, add)
		out = append(out, s)
	}
	return out
}

func parseSchedule(name string, line int, v *yaml.Node, add Add) (*Schedule, bool) {
	s := &Schedule{Name: name, Line: line}
	if v.Kind != yaml.MappingNode {
		add(v.Line, "schedule %q must be a mapping (time_zone, rotation, handoff, start, members)", name)
		return s, false
	}
	ok := true
	bad := func(line int, format string, args ...any) {
		add(line, "schedule %q: "+format, append([]any{name}, args...)...)
		ok = false
	}
	var startText string
	startLine := line
	seen := map[string]bool{}
	listed := 0
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		seen[k.Value] = true
		if k.Value == "members" {
			s.Members = parseMembers(val, bad)
			listed = len(val.Content)
			continue
		}
		if val.Kind != yaml.ScalarNode {
			bad(val.Line, "%s must be a single value", k.Value)
			continue
		}
		text := strings.TrimSpace(val.Value)
		switch k.Value {
		case "time_zone":
			loc, err := time.LoadLocation(text)
			if err != nil || text == "" || text == "Local" {
				bad(val.Line, "time_zone %q is not an IANA time zone (such as Europe/Berlin or America/New_York)", text)
				continue
			}
			s.TimeZone, s.Loc = text, loc
		case "rotation":
			if text != Daily && text != Weekly {
				bad(val.Line, "rotation %q must be daily or weekly", text)
				continue
			}
			s.Rotation = text
		case "handoff":
			s.Handoff = strings.ToLower(text)
			if !parseHandoff(s) {
				bad(val.Line, `handoff %q must be a time such as "09:00" (daily) or a weekday and time such as "monday 09:00" (weekly)`, text)
			}
		case "start":
			startText, startLine = text, val.Line
		case "slack_usergroup":
			if !groupRe.MatchString(text) {
				bad(val.Line, "slack_usergroup %q must be a user group ID (S…)", text)
				continue
			}
			s.UserGroup = text
		default:
			bad(k.Line, "unknown key %q (allowed: time_zone, rotation, handoff, start, slack_usergroup, members)", k.Value)
		}
	}
	for _, key := range []string{"time_zone", "rotation", "handoff", "start", "members"} {
		if !seen[key] {
			bad(line, "%s is missing", key)
		}
	}
	if seen["members"] && listed == 0 {
		bad(line, "has no members: list at least one (name, slack_id, phone)")
	}
	if ok {
		checkHandoffDay(s, bad)
	}
	if startText != "" && s.Loc != nil {
		t, err := time.ParseInLocation("2006-01-02", startText, s.Loc)
		if err != nil {
			bad(startLine, "start %q must be a date such as 2026-12-07", startText)
		}
		s.Start = t
	}
	return s, ok
}

// checkHandoffDay: a weekly handoff names its weekday, a daily one does not.
func checkHandoffDay(s *Schedule, bad Add) {
	if s.Rotation == "" || s.Handoff == "" {
		return
	}
	hasDay := strings.Contains(s.Handoff, " ")
	if s.Rotation == Weekly && !hasDay {
		bad(s.Line, `a weekly rotation needs a weekday in handoff, such as "monday 09:00"`)
	}
	if s.Rotation == Daily && hasDay {
		bad(s.Line, `a daily rotation hands off every day: write handoff as "09:00"`)
	}
}

func parseHandoff(s *Schedule) bool {
	m := handoffRe.FindStringSubmatch(s.Handoff)
	if m == nil {
		return false
	}
	if m[1] != "" {
		d, ok := weekdays[m[1]]
		if !ok {
			return false
		}
		s.Weekday = d
	}
	h, _ := strconv.Atoi(m[2])
	mi, _ := strconv.Atoi(m[3])
	if h > 23 || mi > 59 {
		return false
	}
	s.Hour, s.Min = h, mi
	return true
}

func parseMembers(n *yaml.Node, bad Add) []Member {
	if n.Kind != yaml.SequenceNode {
		bad(n.Line, "members must be a list of people (name, slack_id, phone)")
		return nil
	}
	var out []Member
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			bad(item.Line, "each member needs name, slack_id and phone")
			continue
		}
		m := Member{Line: item.Line}
		good := true
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			val := strings.TrimSpace(v.Value)
			switch k.Value {
			case "name":
				m.Name = val
			case "slack_id":
				if !userRe.MatchString(val) {
					bad(v.Line, "member slack_id %q must be a user ID (U…/W…): a rotation pages one person", val)
					good = false
				}
				m.SlackID = val
			case "phone":
				if !e164Re.MatchString(val) {
					bad(v.Line, "member phone %q is not in E.164 form (+15551234567)", val)
					good = false
				}
				m.Phone = val
			default:
				bad(k.Line, "unknown key %q in a member (allowed: name, slack_id, phone)", k.Value)
				good = false
			}
		}
		if m.SlackID == "" {
			bad(item.Line, "member %q has no slack_id: a rotation pages its members in Slack", m.Name)
			good = false
		}
		if m.Name == "" {
			m.Name = m.SlackID
		}
		if good {
			out = append(out, m)
		}
	}
	return out
}
