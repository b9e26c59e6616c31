package escalation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// Rung is one level of a resolved ladder: who it pages, by Slack ID.
type Rung struct {
	Level   int           `json:"level"`
	Name    string        `json:"name"`
	Window  string        `json:"window"`
	Start   time.Duration `json:"start"`
	Targets []string      `json:"targets"` // U…/W… users and S… groups
	// Via is how the level pages (slack when empty, as ladders frozen
	// before channels existed); Phones are the reached users' numbers.
	Via    []string          `json:"via,omitempty"`
	Phones map[string]string `json:"phones,omitempty"`
	// Schedules are the rotations the level pages whoever is on call in;
	// Frozen resolves them into Targets when an incident opens.
	Schedules []string `json:"schedules,omitempty"`
	// OnCall is who each schedule paged, once frozen (schedule → user).
	OnCall map[string]string `json:"on_call,omitempty"`
}

// Channels is how the rung pages each person (slack when unset).
func (r Rung) Channels() []string {
	if len(r.Via) == 0 {
		return []string{ViaSlack}
	}
	return r.Via
}

// Ladder is a resolved escalation policy. Each incident keeps a frozen
// copy: editing contacts.yml does not change running ladders.
type Ladder struct {
	Rungs       []Rung        `json:"rungs"`
	RepeatEvery time.Duration `json:"repeat_every"`
	RepeatTimes int           `json:"repeat_times"`
}

// Steps is the number of pages the ladder sends when nobody acknowledges.
func (l Ladder) Steps() int { return len(l.Rungs) + l.RepeatTimes }

// LevelName is the name of a level ("" when the ladder has none).
func (l Ladder) LevelName(level int) string {
	for _, r := range l.Rungs {
		if r.Level == level {
			return r.Name
		}
	}
	return ""
}

// Offset is when step s is due, relative to the ladder's base time.
func (l Ladder) Offset(s int) time.Duration {
	if s < len(l.Rungs) {
		return l.Rungs[s].Start
	}
	last := l.Rungs[len(l.Rungs)-1]
	return last.Start + time.Duration(s-len(l.Rungs)+1)*l.RepeatEvery
}

// Rung returns the level paged at step s and which re-page it is (0: first).
func (l Ladder) Rung(s int) (Rung, int) {
	if s < len(l.Rungs) {
		return l.Rungs[s], 0
	}
	return l.Rungs[len(l.Rungs)-1], s - len(l.Rungs) + 1
}

// OnCallFunc says who is on call in a schedule now (oncall.Roster.OnCall).
type OnCallFunc func(ctx context.Context, schedule string) (slackID, phone string, ok bool, err error)

// Frozen is the ladder with each schedule resolved to the one person on
// call in it now, as an incident opens: that person alone is paged (in
// Slack and on their own phone), and stays paged if the rotation moves
// on. A schedule with nobody on call (not started yet) adds no one; a
// level left with no one is skipped and said in the thread.
func (l Ladder) Frozen(ctx context.Context, who OnCallFunc) (Ladder, []error) {
	var errs []error
	out := l
	out.Rungs = make([]Rung, len(l.Rungs))
	for i, r := range l.Rungs {
		r.Targets = slices.Clone(r.Targets)
		r.Phones = maps.Clone(r.Phones)
		for _, name := range r.Schedules {
			id, phone, ok, err := who(ctx, name)
			if err != nil {
				errs = append(errs, fmt.Errorf("schedule %s: %w", name, err))
			}
			if !ok {
				continue
			}
			if r.OnCall == nil {
				r.OnCall = map[string]string{}
			}
			r.OnCall[name] = id
			if !slices.Contains(r.Targets, id) {
				r.Targets = append(r.Targets, id)
			}
			if phone != "" {
				if r.Phones == nil {
					r.Phones = map[string]string{}
				}
				r.Phones[id] = phone
			}
		}
		out.Rungs[i] = r
	}
	return out, errs
}

// Directory resolves Slack handles and e-mail addresses to IDs.
type Directory interface {
	LookupEmail(ctx context.Context, email string) (string, error)
	LookupHandle(ctx context.Context, handle string) (string, error)
}

// Resolve turns contacts into a ladder of Slack IDs. A level with nobody
// resolvable stops start-up, naming the level and who failed.
func Resolve(ctx context.Context, c *Contacts, dir Directory) (Ladder, error) {
	l := Ladder{RepeatEvery: c.Policy.RepeatEvery, RepeatTimes: c.Policy.RepeatTimes}
	var errs []error
	for _, lv := range c.Levels {
		r := Rung{Level: lv.Level, Name: lv.Contact, Window: lv.Time, Start: lv.Start, Via: lv.Via}
		var failures []string
		seen := map[string]bool{}
		for _, p := range lv.People {
			if p.Schedule != "" {
				if !slices.Contains(r.Schedules, p.Schedule) {
					r.Schedules = append(r.Schedules, p.Schedule)
				}
				continue
			}
			id, err := resolvePerson(ctx, p, dir)
			if err != nil {
				failures = append(failures, fmt.Sprintf("%s: %v", p.Name, err))
				continue
			}
			if !seen[id] {
				seen[id] = true
				r.Targets = append(r.Targets, id)
			}
			if p.Phone != "" && e164.MatchString(p.Phone) && !strings.HasPrefix(id, "S") {
				if r.Phones == nil {
					r.Phones = map[string]string{}
				}
				r.Phones[id] = p.Phone
			}
		}
		if len(r.Targets) == 0 && len(r.Schedules) == 0 {
			errs = append(errs, fmt.Errorf("line %d: level %d (%q, %s) reaches no one in Slack (%s); give them a slack_id (U… or S…)",
				lv.Line, lv.Level, lv.Contact, lv.Time, strings.Join(failures, "; ")))
		}
		l.Rungs = append(l.Rungs, r)
	}
	if err := errors.Join(errs...); err != nil {
		return Ladder{}, err
	}
	return l, nil
}

func resolvePerson(ctx context.Context, p Person, dir Directory) (string, error) {
	if p.SlackID != "" {
		return p.SlackID, nil
	}
	var errs []string
	if p.Email != "" {
		id, err := dir.LookupEmail(ctx, p.Email)
		if err == nil {
			return id, nil
		}
		errs = append(errs, fmt.Sprintf("e-mail %s not found in Slack (%v)", p.Email, err))
	}
	if p.Slack != "" {
		id, err := dir.LookupHandle(ctx, p.Slack)
		if err == nil {
			return id, nil
		}
		errs = append(errs, fmt.Sprintf("handle %s not found in Slack (%v)", p.Slack, err))
	}
	if len(errs) == 0 {
		return "", errors.New("no slack_id, slack handle or email")
	}
	return "", errors.New(strings.Join(errs, "; "))
}

// Checker looks a Slack ID up: users.info for a user, the member list for
// a user group.
type Checker interface {
	CheckUser(ctx context.Context, id string) error
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Problem is a contact whose Slack ID cannot be paged.
type Problem struct {
	ID   string
	Name string
	Why  string
}

// CheckIDs looks up every Slack ID of the ladder once, at start-up, so a
// departed employee or a stale ID is known before an incident needs them.
func CheckIDs(ctx context.Context, l Ladder, c *Contacts, chk Checker) []Problem {
	names := c.Names()
	var out []Problem
	seen := map[string]bool{}
	rungs := l.Rungs
	for _, s := range c.Schedules { // every member may be paged one day
		r := Rung{Name: "schedule " + s.Name}
		for _, m := range s.Members {
			r.Targets = append(r.Targets, m.SlackID)
		}
		rungs = append(slices.Clone(rungs), r)
	}
	for _, r := range rungs {
		for _, id := range r.Targets {
			if seen[id] {
				continue
			}
			seen[id] = true
			var err error
			if strings.HasPrefix(id, "S") {
				var members []string
				members, err = chk.GroupMembers(ctx, id)
				if err == nil && len(members) == 0 {
					err = errors.New("the user group has no members")
				}
			} else {
				err = chk.CheckUser(ctx, id)
			}
			if err != nil {
				why := apperr.MessageOf(err)
				if why == "" {
					why = err.Error()
				}
				name := names[id]
				if name == "" {
					name = r.Name
				}
				out = append(out, Problem{ID: id, Name: name, Why: why})
			}
		}
	}
	return out
}
