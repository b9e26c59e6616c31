package commands

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The on-call family: who is on call in each schedule, and covers.

// Roster is what `oncall` needs of the schedules (oncall.Roster).
type Roster interface {
	Schedules() []*oncall.Schedule
	Schedule(name string) (*oncall.Schedule, bool)
	Now(ctx context.Context, name string) (oncall.Now, error)
	Cover(ctx context.Context, c oncall.Cover) (oncall.Override, error)
	Cancel(ctx context.Context, name string) (oncall.Override, oncall.Now, error)
	Claim(ctx context.Context, name, what string, seg oncall.Segment) (bool, error)
}

// RotaPeople is what `oncall` asks Slack about people: their time zone
// (users.info tz), whether they can be paged, and a DM to them.
type RotaPeople interface {
	TimeZone(ctx context.Context, user string) (string, error)
	CheckUser(ctx context.Context, id string) error
	DM(ctx context.Context, user, text string) error
}

// OnCall shows who is on call; its Covers change it.
type OnCall struct {
	*Kit
	roster Roster // nil: no schedules
	people RotaPeople
	covers *Covers
}

// Covers puts someone on call in a schedule for a while, and ends it.
type Covers struct {
	*Kit
	access   *Access
	roster   Roster
	people   RotaPeople
	contacts *escalation.Contacts
}

// NewOnCall wires the family; roster is nil when contacts.yml has no
// schedules.
func NewOnCall(k *Kit, access *Access, roster Roster, people RotaPeople, contacts *escalation.Contacts) *OnCall {
	return &OnCall{Kit: k, roster: roster, people: people,
		covers: &Covers{Kit: k, access: access, roster: roster, people: people, contacts: contacts}}
}

// Title implements Family.
func (o *OnCall) Title() string { return escalationTitle }

// Commands implements Family.
func (o *OnCall) Commands() []Sub {
	return []Sub{
		{Name: "oncall", Usage: "/clerk-incident oncall [cover <@user|me> [for <duration>|until <HH:MM>] [<schedule>] | cover cancel [<schedule>]]",
			Summary: "who is on call in each schedule now and next; cover for someone",
			Detail: "Bare, it shows each schedule of contacts.yml: who is on call now and next, with handoff times in the schedule's zone and yours. " +
				"`cover` puts someone on call from now until the end of the shift (or `for 4h`, or `until 18:00` your time); `cover cancel` ends the cover in force. " +
				"Responders, and members of that schedule, may cover; both people get a DM, and every replica pages the one covering.",
			Examples:  []string{"/clerk-incident oncall", "/clerk-incident oncall cover me for 4h", "/clerk-incident oncall cover @dana until 18:00 primary", "/clerk-incident oncall cover cancel"},
			Who:       OnRota,
			ReadForms: []string{""},
			NoID:      true,
			Run:       o.oncall},
	}
}

// Buttons implements Family.
func (o *OnCall) Buttons() []Button { return nil }

func (o *OnCall) oncall(ctx context.Context, r Req, p Parsed) {
	if o.roster == nil || len(o.roster.Schedules()) == 0 {
		o.ReplyText(ctx, r, "No on-call schedules are defined: add a `schedules:` map to contacts.yml (see the README's paging section).")
		return
	}
	switch p.Form() {
	case "":
		o.show(ctx, r)
	case "cover":
		if len(p.Args) >= 2 && strings.EqualFold(p.Args[1], "cancel") {
			o.covers.cancel(ctx, r, p)
			return
		}
		o.covers.cover(ctx, r, p)
	default:
		o.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not an oncall form; say `oncall`, `oncall cover …` or `oncall cover cancel`.", render.Esc(p.Args[0])), Usage: p.Sub.Usage})
	}
}

// askerZone is the asker's Slack time zone (nil when unknown: the CLI).
func askerZone(ctx context.Context, people RotaPeople, r Req) *time.Location {
	if r.Operator || people == nil {
		return nil
	}
	tz, err := people.TimeZone(ctx, r.Who.ID)
	if err != nil || tz == "" {
		return nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil
	}
	return loc
}

func (o *OnCall) show(ctx context.Context, r Req) {
	var views []oncall.Now
	for _, s := range o.roster.Schedules() {
		n, err := o.roster.Now(ctx, s.Name)
		if err != nil {
			o.Fail(ctx, r, err)
			return
		}
		views = append(views, n)
	}
	o.Reply(ctx, r, render.OnCallMsg(views, askerZone(ctx, o.people, r)))
}

// coverArgs is `cover` parsed: who, until when, which schedule.
type coverArgs struct {
	who      oncall.Member
	until    time.Time // zero: end of the shift
	clock    string    // until HH:MM, read once the schedule is known
	schedule string
}

var (
	hhmm       = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)
	durationRe = regexp.MustCompile(`^([0-9]+)(d|h|m|min|mins)$`)
)

// parseDuration reads "4h", "90m", "2d", "1h30m".
func parseDuration(s string) (time.Duration, bool) {
	s = strings.ToLower(s)
	if m := durationRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "min": time.Minute, "mins": time.Minute}[m[2]]
		return time.Duration(n) * unit, n > 0
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

// parseCover reads `cover <who> [for <d>|until <HH:MM>] [<schedule>]`;
// errors say what was wrong and nothing changes.
func (c *Covers) parseCover(ctx context.Context, r Req, p Parsed) (coverArgs, error) {
	usage := func(problem string) error { return &UsageError{Problem: problem, Usage: p.Sub.Usage} }
	var a coverArgs
	if len(p.Args) < 2 {
		return a, usage("Say who covers: `oncall cover me` or `oncall cover @dana`.")
	}
	switch who := p.Args[1]; {
	case strings.EqualFold(who, "me"):
		a.who = oncall.Member{SlackID: r.Who.ID, Name: askerName(r)}
	case mention.MatchString(who):
		m := mention.FindStringSubmatch(who)
		a.who = oncall.Member{SlackID: m[1], Name: m[2]}
	default:
		return a, usage(fmt.Sprintf("%q is not a person: type @ and pick them, or say `me`.", render.Esc(who)))
	}
	rest := p.Args[2:]
	now := c.now()
	for i := 0; i < len(rest); i++ {
		word := strings.ToLower(rest[i])
		switch {
		case (word == "for" || word == "until") && i+1 >= len(rest):
			return a, usage(fmt.Sprintf("`%s` needs a value: `for 4h` or `until 18:00`.", word))
		case word == "for" || word == "until":
			if !a.until.IsZero() || a.clock != "" {
				return a, usage("Give one end: `for <duration>` or `until <HH:MM>`, not both.")
			}
			i++
			if word == "until" {
				if !hhmm.MatchString(rest[i]) {
					return a, usage(fmt.Sprintf("%q is not a time of day: say `until 18:00` (24-hour, your Slack time zone).", render.Esc(rest[i])))
				}
				a.clock = rest[i]
				continue
			}
			d, ok := parseDuration(rest[i])
			switch {
			case !ok:
				return a, usage(fmt.Sprintf("%q is not a duration: say `for 4h`, `for 90m` or `for 2d`.", render.Esc(rest[i])))
			case d > oncall.MaxCover:
				return a, usage(fmt.Sprintf("%s is longer than a cover may be (31 days): change the rotation in contacts.yml.", render.Esc(rest[i])))
			}
			a.until = now.Add(d)
		case a.schedule != "":
			return a, usage(fmt.Sprintf("%q is one word too many: name at most one schedule.", render.Esc(rest[i])))
		default:
			a.schedule = rest[i]
		}
	}
	return a, nil
}

// clockEnd is the next HH:MM after now in the asker's Slack time zone
// (the schedule's when Slack cannot say: the CLI).
func (c *Covers) clockEnd(ctx context.Context, r Req, clock string, s *oncall.Schedule, now time.Time) time.Time {
	m := hhmm.FindStringSubmatch(clock)
	loc := askerZone(ctx, c.people, r)
	if loc == nil {
		loc = s.Loc
	}
	hh, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	local := now.In(loc)
	t := time.Date(local.Year(), local.Month(), local.Day(), hh, mm, 0, 0, loc)
	if !t.After(now) {
		t = time.Date(local.Year(), local.Month(), local.Day()+1, hh, mm, 0, 0, loc)
	}
	return t
}

// pick is the schedule a cover is for: the one named, else the only one,
// else the only one the covering person or the asker belongs to.
func (c *Covers) pick(name string, people ...string) (*oncall.Schedule, error) {
	all := c.roster.Schedules()
	var names []string
	for _, s := range all {
		names = append(names, s.Name)
	}
	if name != "" {
		if s, ok := c.roster.Schedule(name); ok {
			return s, nil
		}
		return nil, apperr.New(apperr.NotFound, fmt.Sprintf("There is no schedule %q; the schedules are %s.", render.Esc(name), strings.Join(names, ", ")))
	}
	if len(all) == 1 {
		return all[0], nil
	}
	for _, who := range people {
		var mine []*oncall.Schedule
		for _, s := range all {
			if s.Has(who) {
				mine = append(mine, s)
			}
		}
		if len(mine) == 1 {
			return mine[0], nil
		}
	}
	return nil, apperr.New(apperr.Invalid, fmt.Sprintf("Say which schedule (%s) at the end of the command.", strings.Join(names, ", ")))
}

// mayChange: responders, and members of the schedule.
func (c *Covers) mayChange(ctx context.Context, r Req, s *oncall.Schedule) bool {
	if r.Operator || s.Has(r.Who.ID) {
		return true
	}
	ok, _ := c.access.Responder(ctx, r.Who.ID)
	if !ok {
		r.SetOutcome("refused: not a responder nor a member of " + s.Name)
		c.ReplyText(ctx, r, fmt.Sprintf(":no_entry: Only responders (SLACK_RESPONDERS) and members of *%s* may change who is on call in it. Nothing changed.", render.Esc(s.Name)))
	}
	return ok
}

func (c *Covers) cover(ctx context.Context, r Req, p Parsed) {
	a, err := c.parseCover(ctx, r, p)
	if err != nil {
		c.Fail(ctx, r, err)
		return
	}
	s, err := c.pick(a.schedule, a.who.SlackID, r.Who.ID)
	if err != nil {
		c.failed(ctx, r, err)
		return
	}
	if !c.mayChange(ctx, r, s) {
		return
	}
	if a.clock != "" {
		a.until = c.clockEnd(ctx, r, a.clock, s, c.now())
	}
	if err := c.people.CheckUser(ctx, a.who.SlackID); err != nil && !r.Operator {
		why := apperr.MessageOf(err)
		if why == "" {
			why = "Slack does not know them"
		}
		c.no(ctx, r, fmt.Sprintf("%s cannot be put on call: %s.", render.Mention(a.who.SlackID), strings.TrimSuffix(why, ".")))
		return
	}
	a.who = c.known(a.who)
	o, err := c.roster.Cover(ctx, oncall.Cover{Schedule: s.Name, Who: a.who, Until: a.until, By: r.Who.ID, ByName: askerName(r)})
	if err != nil {
		c.failed(ctx, r, err)
		return
	}
	r.SetOutcome(fmt.Sprintf("ok: %s covers %s until %s", o.Who.SlackID, s.Name, o.Until.UTC().Format(time.RFC3339)))
	toCover, toReplaced := render.CoverTexts(s, o)
	if n, err := c.roster.Now(ctx, s.Name); err == nil {
		_, _ = c.roster.Claim(ctx, s.Name, "told", n.Current) // the handoff tick does not tell them again
	}
	c.dm(ctx, o.Who.SlackID, toCover)
	if toReplaced != "" && o.Replaces.SlackID != o.Who.SlackID {
		c.dm(ctx, o.Replaces.SlackID, toReplaced)
	}
	asker := askerZone(ctx, c.people, r)
	line := fmt.Sprintf(":white_check_mark: %s is on call in *%s* until %s", memberName(o.Who), render.Esc(s.Name), render.When(o.Until, s.Loc, asker))
	if o.Replaces.SlackID != "" {
		line += ", covering for " + memberName(o.Replaces)
	}
	line += ". Both were told by DM; new incidents page them."
	if o.Who.Phone == "" {
		line += " They have no phone in contacts.yml: SMS and call levels reach them in Slack only."
	}
	c.ReplyText(ctx, r, line)
}

func (c *Covers) cancel(ctx context.Context, r Req, p Parsed) {
	name := ""
	switch len(p.Args) {
	case 2:
	case 3:
		name = p.Args[2]
	default:
		c.Fail(ctx, r, &UsageError{Problem: "Say `oncall cover cancel` or `oncall cover cancel <schedule>`.", Usage: p.Sub.Usage})
		return
	}
	s, err := c.pick(name, r.Who.ID)
	if err != nil {
		c.failed(ctx, r, err)
		return
	}
	if !c.mayChange(ctx, r, s) {
		return
	}
	o, n, err := c.roster.Cancel(ctx, s.Name)
	if err != nil {
		c.failed(ctx, r, err)
		return
	}
	r.SetOutcome(fmt.Sprintf("ok: cancelled %s's cover of %s", o.Who.SlackID, s.Name))
	toCover, toOnCall := render.CancelTexts(s, o, n, askerName(r))
	c.dm(ctx, o.Who.SlackID, toCover)
	if n.Current.Who != nil && n.Current.Who.SlackID != o.Who.SlackID {
		_, _ = c.roster.Claim(ctx, s.Name, "told", n.Current)
		c.dm(ctx, n.Current.Who.SlackID, toOnCall)
	}
	who := "nobody"
	if n.Current.Who != nil {
		who = memberName(*n.Current.Who)
	}
	c.ReplyText(ctx, r, fmt.Sprintf(":white_check_mark: Cancelled %s's cover of *%s*; on call now: %s. Both were told by DM.", memberName(o.Who), render.Esc(s.Name), who))
}

// known fills in the name and phone contacts.yml gives the person.
func (c *Covers) known(m oncall.Member) oncall.Member {
	for _, s := range c.roster.Schedules() {
		for _, x := range s.Members {
			if x.SlackID == m.SlackID {
				return x
			}
		}
	}
	if c.contacts != nil {
		for _, g := range c.contacts.GroupOrder {
			for _, p := range c.contacts.Groups[g] {
				if p.SlackID == m.SlackID {
					m.Name = p.Name
					if escalation.IsE164(p.Phone) {
						m.Phone = p.Phone
					}
				}
			}
		}
	}
	if m.Name == "" {
		m.Name = m.SlackID
	}
	return m
}

func (c *Covers) dm(ctx context.Context, user, text string) {
	if user == "" || c.people == nil {
		return
	}
	if err := c.people.DM(ctx, user, text); err != nil {
		c.log.WithError(err).WithField("user", user).Warn("could not DM about an on-call change")
	}
}

// no refuses bad input: a clear reply, recorded in the audit, and
// nothing changed.
func (c *Covers) no(ctx context.Context, r Req, msg string) {
	r.SetOutcome("failed: " + render.Truncate(msg, 200))
	c.ReplyText(ctx, r, ":x: "+msg+" Nothing changed.")
}

// failed answers an error from the roster: its own sentence for what the
// asker can fix, the common one otherwise.
func (c *Covers) failed(ctx context.Context, r Req, err error) {
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Conflict:
		c.no(ctx, r, strings.TrimSuffix(apperr.MessageOf(err), ".")+".")
	default:
		c.Fail(ctx, r, err)
	}
}

func memberName(m oncall.Member) string { return render.Esc(m.Name) + " " + render.Mention(m.SlackID) }

// askerName is how the asker is named to others: their Slack name.
func askerName(r Req) string {
	if r.Who.Name != "" {
		return r.Who.Name
	}
	return r.Who.ID
}
