package oncall

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// MaxCover is the longest override: longer ones are a rotation change,
// made in contacts.yml.
const MaxCover = 31 * 24 * time.Hour

// Notifier tells people about handoffs and keeps user groups (the Slack
// side).
type Notifier interface {
	// OnCallNow tells the incoming person they are on call.
	OnCallNow(ctx context.Context, user string, n Now) error
	// SetGroup replaces a user group's members (usergroups.users.update).
	SetGroup(ctx context.Context, group string, users []string) error
	// GroupRefused says, once, that the user group could not be set.
	GroupRefused(ctx context.Context, s *Schedule, who Member, err error)
}

// Roster is the schedules of contacts.yml with their overrides in Redis.
// Every replica reads the same overrides; handoffs are told once across
// replicas by markers keyed by the segment's start and person.
type Roster struct {
	schedules []*Schedule
	rdb       redis.UniversalClient
	prefix    string
	now       func() time.Time
	log       logrus.FieldLogger
}

// NewRoster keeps the schedules' overrides under the key prefix.
func NewRoster(schedules []*Schedule, rdb redis.UniversalClient, prefix string, now func() time.Time, log logrus.FieldLogger) *Roster {
	return &Roster{schedules: schedules, rdb: rdb, prefix: prefix, now: now, log: log}
}

// Schedules lists the schedules in file order.
func (r *Roster) Schedules() []*Schedule { return r.schedules }

// Schedule finds a schedule by name.
func (r *Roster) Schedule(name string) (*Schedule, bool) {
	for _, s := range r.schedules {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

func (r *Roster) key(name, rest string) string { return r.prefix + "oncall:" + name + ":" + rest }

// overrides reads a schedule's overrides.
func (r *Roster) overrides(ctx context.Context, name string) ([]Override, error) {
	raw, err := r.rdb.HVals(ctx, r.key(name, "overrides")).Result()
	if err != nil {
		return nil, fmt.Errorf("read overrides of %s: %w", name, redisx.StoreErr(err))
	}
	out := make([]Override, 0, len(raw))
	for _, v := range raw {
		var o Override
		if err := json.Unmarshal([]byte(v), &o); err != nil {
			r.log.WithError(err).WithField("schedule", name).Warn("unreadable on-call override skipped")
			continue
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// Now is who is on call in the schedule now, and next.
func (r *Roster) Now(ctx context.Context, name string) (Now, error) {
	s, ok := r.Schedule(name)
	if !ok {
		return Now{}, apperr.New(apperr.NotFound, fmt.Sprintf("There is no schedule %q", name))
	}
	ovs, err := r.overrides(ctx, name)
	if err != nil {
		return Now{}, err
	}
	return At(s, ovs, r.now()), nil
}

// OnCall is who to page for the schedule now. When Redis cannot say
// which overrides are in force, the rotation's own person is paged (and
// the error returned): paging someone beats paging no one.
func (r *Roster) OnCall(ctx context.Context, name string) (Member, bool, error) {
	s, ok := r.Schedule(name)
	if !ok {
		return Member{}, false, apperr.New(apperr.NotFound, fmt.Sprintf("There is no schedule %q", name))
	}
	ovs, err := r.overrides(ctx, name)
	n := At(s, ovs, r.now())
	if n.Current.Who == nil {
		return Member{}, false, err
	}
	return *n.Current.Who, true, err
}

// Cover is an override being asked for.
type Cover struct {
	Schedule string
	Who      Member
	Until    time.Time // zero: until the end of the shift in progress
	By       string
	ByName   string
}

// Cover records an override from now until c.Until and returns it with
// who was on call before. Bad input changes nothing.
func (r *Roster) Cover(ctx context.Context, c Cover) (Override, error) {
	s, ok := r.Schedule(c.Schedule)
	if !ok {
		return Override{}, apperr.New(apperr.NotFound, fmt.Sprintf("There is no schedule %q", c.Schedule))
	}
	now := r.now()
	ovs, err := r.overrides(ctx, s.Name)
	if err != nil {
		return Override{}, err
	}
	cur := At(s, ovs, now).Current
	until := c.Until
	if until.IsZero() {
		until = s.ShiftEnd(now)
		if cur.Override != nil && cur.Until.After(until) {
			until = cur.Until
		}
	}
	switch {
	case !until.After(now):
		return Override{}, apperr.New(apperr.Invalid, "The cover would end before it starts")
	case until.Sub(now) > MaxCover:
		return Override{}, apperr.New(apperr.Invalid, "A cover may last at most 31 days; change the rotation in contacts.yml for longer")
	case cur.Who != nil && cur.Who.SlackID == c.Who.SlackID && (cur.Until.IsZero() || !until.After(cur.Until)):
		return Override{}, apperr.New(apperr.Invalid, fmt.Sprintf("%s is already on call in %s until then", c.Who.Name, s.Name))
	}
	if m, ok := s.member(c.Who.SlackID); ok && c.Who.Phone == "" {
		c.Who.Phone = m.Phone
	}
	o := Override{ID: newID(), Schedule: s.Name, Who: c.Who, From: now, Until: until, By: c.By, ByName: c.ByName, At: now}
	if cur.Who != nil {
		o.Replaces = *cur.Who
	}
	raw, _ := json.Marshal(o)
	pipe := r.rdb.TxPipeline()
	pipe.HSet(ctx, r.key(s.Name, "overrides"), o.ID, raw)
	for _, old := range ovs { // ended a day ago: the audit keeps them
		if old.Until.Before(now.Add(-24 * time.Hour)) {
			pipe.HDel(ctx, r.key(s.Name, "overrides"), old.ID)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return Override{}, fmt.Errorf("store override: %w", redisx.StoreErr(err))
	}
	return o, nil
}

// Cancel ends the override in force now in the schedule (the newest one)
// and says who is on call after it.
func (r *Roster) Cancel(ctx context.Context, name string) (Override, Now, error) {
	s, ok := r.Schedule(name)
	if !ok {
		return Override{}, Now{}, apperr.New(apperr.NotFound, fmt.Sprintf("There is no schedule %q", name))
	}
	ovs, err := r.overrides(ctx, name)
	if err != nil {
		return Override{}, Now{}, err
	}
	now := r.now()
	cur := At(s, ovs, now).Current
	if cur.Override == nil {
		return Override{}, Now{}, apperr.New(apperr.NotFound, fmt.Sprintf("No cover is in force in %s", name))
	}
	gone := *cur.Override
	n, err := r.rdb.HDel(ctx, r.key(name, "overrides"), gone.ID).Result()
	if err != nil {
		return Override{}, Now{}, fmt.Errorf("cancel override: %w", redisx.StoreErr(err))
	}
	if n == 0 {
		return Override{}, Now{}, apperr.New(apperr.Conflict, "That cover was cancelled a moment ago")
	}
	rest := make([]Override, 0, len(ovs))
	for _, o := range ovs {
		if o.ID != gone.ID {
			rest = append(rest, o)
		}
	}
	return gone, At(s, rest, now), nil
}

// Claim marks the segment told to its person; only the first caller
// across replicas gets true. The tick and the cover command share it, so
// a person put on call by a cover is told once.
func (r *Roster) Claim(ctx context.Context, name, what string, seg Segment) (bool, error) {
	if seg.Who == nil {
		return false, nil
	}
	ttl := 24 * time.Hour
	if !seg.Until.IsZero() {
		ttl += max(seg.Until.Sub(r.now()), 0)
	}
	key := r.key(name, what+":"+strconv.FormatInt(seg.From.UnixMilli(), 10)+":"+seg.Who.SlackID)
	return redisx.Once(ctx, r.rdb, key, ttl)
}

// Tick tells each schedule's incoming person they are on call and sets
// the schedule's user group, once per handoff across replicas. It runs
// on the 1 s sweep; now is the injected clock.
func (r *Roster) Tick(ctx context.Context, to Notifier) error {
	var errs []error
	for _, s := range r.schedules {
		if err := r.tickOne(ctx, s, to); err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Roster) tickOne(ctx context.Context, s *Schedule, to Notifier) error {
	ovs, err := r.overrides(ctx, s.Name)
	if err != nil {
		return err
	}
	n := At(s, ovs, r.now())
	if n.Current.Who == nil {
		return nil
	}
	who := *n.Current.Who
	if first, err := r.Claim(ctx, s.Name, "told", n.Current); err != nil {
		return err
	} else if first {
		if err := to.OnCallNow(ctx, who.SlackID, n); err != nil {
			r.log.WithError(err).WithFields(logrus.Fields{"schedule": s.Name, "user": who.SlackID}).Warn("could not tell the incoming on-call person")
		}
	}
	if s.UserGroup == "" {
		return nil
	}
	first, err := r.Claim(ctx, s.Name, "group", n.Current)
	if err != nil || !first {
		return err
	}
	if err := to.SetGroup(ctx, s.UserGroup, []string{who.SlackID}); err != nil {
		r.log.WithError(err).WithFields(logrus.Fields{"schedule": s.Name, "usergroup": s.UserGroup}).Warn("could not set the on-call user group")
		to.GroupRefused(ctx, s, who, err)
	}
	return nil
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ovr-" + hex.EncodeToString(b)
}

// Member reports whether user is a member of any schedule.
func (r *Roster) Member(user string) bool {
	for _, s := range r.schedules {
		if s.Has(user) {
			return true
		}
	}
	return false
}
