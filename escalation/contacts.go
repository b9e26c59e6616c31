// Package escalation holds the escalation ladder: the contacts.yml policy
// (the runbook's INCIDENT_CONTACTS format) and the durable engine that pages
// level after level from a due set in Redis until someone acknowledges.
// It knows nothing of Slack beyond user and group IDs.
package escalation

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
)

// Person is someone who can be paged.
type Person struct {
	Group   string // the contacts group it was listed under (on_call, leads, …)
	Name    string
	Phone   string
	Slack   string // @handle of a user or user group
	SlackID string // U…/W… user or S… user group
	Email   string
	// Schedule names a rotation (contacts.yml `schedules:`): the person is
	// whoever is on call in it when an incident opens.
	Schedule string
	Line     int
}

// HasSlack reports whether the person names any Slack identity (a
// schedule's members all have one).
func (p Person) HasSlack() bool {
	return p.SlackID != "" || p.Slack != "" || p.Email != "" || p.Schedule != ""
}

// Support is the runbook's clerk_support block.
type Support struct {
	URL, Email, Priority string
}

// Level is one rung of the ladder.
type Level struct {
	Level   int
	Contact string
	Time    string
	Start   time.Duration
	End     time.Duration // 0 when open-ended ("30+ min")
	Open    bool
	People  []Person // who this level pages, resolved from contact/notify/slack_id
	// Via is how the level pages: slack, sms, call, pagerduty (default slack).
	Via  []string
	Line int
}

// The channels a level may page by.
const (
	ViaSlack     = "slack"
	ViaSMS       = "sms"
	ViaCall      = "call"
	ViaPagerDuty = "pagerduty"
)

// Uses reports whether any level pages by channel.
func (c *Contacts) Uses(channel string) []int {
	var levels []int
	for _, l := range c.Levels {
		if slices.Contains(l.Via, channel) {
			levels = append(levels, l.Level)
		}
	}
	return levels
}

// e164 is a phone number as Twilio takes it: +, country code, number.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// IsE164 reports whether s is a phone number in E.164 form (+15551234567).
func IsE164(s string) bool { return e164.MatchString(s) }

// Window renders the level's time window as written.
func (l Level) Window() string { return l.Time }

// Policy is how the last level is re-paged.
type Policy struct {
	RepeatEvery time.Duration
	RepeatTimes int
}

// Contacts is a loaded contacts file.
type Contacts struct {
	Groups       map[string][]Person
	GroupOrder   []string
	Support      Support
	Levels       []Level
	Policy       Policy
	Placeholders []int // lines whose comment says PLACEHOLDER
	// Schedules are the on-call rotations, in file order.
	Schedules []*oncall.Schedule
}

// DefaultPolicy re-pages the last level every 15 minutes, 3 times.
var DefaultPolicy = Policy{RepeatEvery: 15 * time.Minute, RepeatTimes: 3}

type lineErr struct {
	line int
	msg  string
}

func (l lineErr) Error() string { return fmt.Sprintf("line %d: %s", l.line, l.msg) }

// LoadContacts parses and validates a contacts file. Every error names the
// file and line; a level that reaches nobody in Slack stops loading, since
// a page that reaches no one is a silent failure.
func LoadContacts(name string, src []byte) (*Contacts, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: file is empty", name)
	}
	c := &Contacts{Groups: map[string][]Person{}, Policy: DefaultPolicy}
	var errs []error
	add := func(line int, format string, args ...any) {
		errs = append(errs, lineErr{line, fmt.Sprintf(format, args...)})
	}
	collectPlaceholders(&root, &c.Placeholders)
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: expected `contacts:` at the top", name, top.Line)
	}
	var contactsNode, escNode *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "contacts":
			contactsNode = v
		case "policy":
			parsePolicy(v, &c.Policy, add)
		case "schedules":
			c.Schedules = oncall.Parse(v, add)
		default:
			add(k.Line, "unknown key %q (allowed: contacts, policy, schedules)", k.Value)
		}
	}
	if contactsNode == nil {
		return nil, fmt.Errorf("%s: line %d: `contacts:` is missing", name, top.Line)
	}
	if contactsNode.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: `contacts:` must be a mapping", name, contactsNode.Line)
	}
	for i := 0; i+1 < len(contactsNode.Content); i += 2 {
		k, v := contactsNode.Content[i], contactsNode.Content[i+1]
		switch k.Value {
		case "clerk_support":
			parseSupport(v, &c.Support, add)
		case "escalation":
			escNode = v
		case "policy":
			parsePolicy(v, &c.Policy, add)
		default:
			if v.Kind != yaml.SequenceNode {
				add(v.Line, "group %q must be a list of people (name, slack_id, slack, email, phone)", k.Value)
				continue
			}
			c.GroupOrder = append(c.GroupOrder, k.Value)
			for _, item := range v.Content {
				p, ok := parsePerson(item, k.Value, add)
				if ok {
					c.Groups[k.Value] = append(c.Groups[k.Value], p)
				}
			}
		}
	}
	c.checkScheduleNames(add)
	if escNode == nil {
		add(contactsNode.Line, "`contacts.escalation` is missing: list the levels (level, contact, time)")
	} else {
		c.Levels = parseLevels(escNode, c, add)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func collectPlaceholders(n *yaml.Node, out *[]int) {
	for _, c := range []string{n.LineComment, n.HeadComment, n.FootComment} {
		if strings.Contains(strings.ToUpper(c), "PLACEHOLDER") && n.Line > 0 && !strings.Contains(c, "\n") {
			*out = append(*out, n.Line)
		}
	}
	for _, ch := range n.Content {
		collectPlaceholders(ch, out)
	}
}

func scalar(n *yaml.Node, what string, add func(int, string, ...any)) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		add(n.Line, "%s must be a single value", what)
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

var (
	userIDRe  = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
	groupIDRe = regexp.MustCompile(`^S[A-Z0-9]+$`)
)

func validSlackID(s string) bool { return userIDRe.MatchString(s) || groupIDRe.MatchString(s) }

func parsePerson(n *yaml.Node, group string, add func(int, string, ...any)) (Person, bool) {
	p := Person{Group: group, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		add(n.Line, "each entry of %q must be a person with name and slack_id/slack/email", group)
		return p, false
	}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		val, good := scalar(v, k.Value, add)
		if !good {
			ok = false
			continue
		}
		switch k.Value {
		case "name":
			p.Name = val
		case "phone":
			p.Phone = val
		case "slack":
			if !strings.HasPrefix(val, "@") {
				add(v.Line, "slack %q must be an @handle (use slack_id for IDs)", val)
				ok = false
			}
			p.Slack = val
		case "slack_id":
			if !validSlackID(val) {
				add(v.Line, "slack_id %q must be a user ID (U…/W…) or user group ID (S…)", val)
				ok = false
			}
			p.SlackID = val
		case "email":
			if !strings.Contains(val, "@") {
				add(v.Line, "email %q is not an e-mail address", val)
				ok = false
			}
			p.Email = val
		case "schedule":
			p.Schedule = val
		default:
			add(k.Line, "unknown key %q in a person (allowed: name, phone, slack, slack_id, email, schedule)", k.Value)
			ok = false
		}
	}
	if p.Schedule != "" && (p.SlackID != "" || p.Slack != "" || p.Email != "") {
		add(n.Line, "%s names schedule %q and a Slack identity: give one, `schedule:` (whoever is on call) or `slack_id:`", p.Name, p.Schedule)
		ok = false
	}
	if p.Name == "" {
		add(n.Line, "a person in %q has no name", group)
		ok = false
	}
	return p, ok
}

func parseSupport(n *yaml.Node, s *Support, add func(int, string, ...any)) {
	// The runbook writes it as a list of one-key maps; accept a map too.
	var pairs []*yaml.Node
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if item.Kind != yaml.MappingNode {
				add(item.Line, "clerk_support entries are `url:`, `email:` or `priority:`")
				continue
			}
			pairs = append(pairs, item.Content...)
		}
	case yaml.MappingNode:
		pairs = n.Content
	default:
		add(n.Line, "clerk_support must list url, email and priority")
		return
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		val, ok := scalar(v, k.Value, add)
		if !ok {
			continue
		}
		switch k.Value {
		case "url":
			s.URL = val
		case "email":
			s.Email = val
		case "priority":
			s.Priority = val
		default:
			add(k.Line, "unknown key %q in clerk_support (allowed: url, email, priority)", k.Value)
		}
	}
}

func parsePolicy(n *yaml.Node, p *Policy, add func(int, string, ...any)) {
	if n.Kind != yaml.MappingNode {
		add(n.Line, "policy must be a mapping (repeat_every, repeat_times)")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		val, ok := scalar(v, k.Value, add)
		if !ok {
			continue
		}
		switch k.Value {
		case "repeat_every":
			d, err := parseAmount(val)
			if err != nil || d <= 0 {
				add(v.Line, "repeat_every %q must be a duration such as 15 min, 30s or 1h", val)
				continue
			}
			p.RepeatEvery = d
		case "repeat_times":
			t, err := strconv.Atoi(val)
			if err != nil || t < 0 || t > 100 {
				add(v.Line, "repeat_times %q must be a whole number from 0 to 100", val)
				continue
			}
			p.RepeatTimes = t
		default:
			add(k.Line, "unknown key %q in policy (allowed: repeat_every, repeat_times)", k.Value)
		}
	}
}

func parseLevels(n *yaml.Node, c *Contacts, add func(int, string, ...any)) []Level {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		add(n.Line, "escalation must be a list of levels (level, contact, time)")
		return nil
	}
	var levels []Level
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			add(item.Line, "each escalation level needs level, contact and time")
			continue
		}
		levels = append(levels, parseLevel(item, c, add))
	}
	checkLevelOrder(levels, add)
	return levels
}

// parseLevel reads one level and checks it reaches someone.
func parseLevel(item *yaml.Node, c *Contacts, add func(int, string, ...any)) Level {
	l := Level{Line: item.Line}
	var notify []string
	var own Person
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		switch k.Value {
		case "via":
			l.Via = parseVia(v, add)
		case "notify":
			notify = append(notify, parseNotify(v, add)...)
		default:
			if val, ok := scalar(v, k.Value, add); ok {
				levelField(&l, &own, k, v, val, add)
			}
		}
	}
	if l.Time == "" {
		add(item.Line, "level %d has no time window (such as \"0-15 min\" or \"30+ min\")", l.Level)
	}
	if own.Schedule != "" && c.Schedule(own.Schedule) == nil {
		add(own.Line, "level %d names schedule %q, which names nothing", l.Level, own.Schedule)
	}
	l.People = resolvePeople(l, notify, own, c)
	if len(l.Via) == 0 {
		l.Via = []string{ViaSlack}
	}
	if slices.Contains(l.Via, ViaSMS) || slices.Contains(l.Via, ViaCall) {
		for _, p := range l.People {
			checkPhone(l, p, add)
			if s := c.Schedule(p.Schedule); s != nil {
				for _, m := range s.Members {
					checkPhone(l, Person{Name: m.Name + " (schedule " + s.Name + ")", Phone: m.Phone, Line: m.Line}, add)
				}
			}
		}
	}
	if len(l.People) == 0 {
		who := l.Contact
		if who == "" {
			who = "nobody"
		}
		add(item.Line, "level %d (%q, %s) reaches no one in Slack: add a person named %q with a slack_id (U…, or S… for a user group), a slack @handle or an email under a group such as `%s:`, or give the level its own `slack_id:`",
			l.Level, who, l.Time, l.Contact, suggestGroup(l.Level))
	}
	return l
}

// parseNotify reads a level's `notify:` list of names.
func parseNotify(v *yaml.Node, add func(int, string, ...any)) []string {
	if v.Kind != yaml.SequenceNode {
		add(v.Line, "notify must be a list of names")
		return nil
	}
	var notify []string
	for _, x := range v.Content {
		if s, ok := scalar(x, "notify entry", add); ok {
			notify = append(notify, s)
		}
	}
	return notify
}

// levelField sets one scalar key of a level (or of the level's own person).
func levelField(l *Level, own *Person, k, v *yaml.Node, val string, add func(int, string, ...any)) {
	switch k.Value {
	case "level":
		n, err := strconv.Atoi(val)
		if err != nil {
			add(v.Line, "level %q must be a number", val)
			return
		}
		l.Level = n
	case "contact":
		l.Contact = val
	case "time":
		l.Time = val
		start, end, open, err := parseWindow(val)
		if err != nil {
			add(v.Line, "time %q: %v", val, err)
			return
		}
		l.Start, l.End, l.Open = start, end, open
	case "slack":
		own.Slack = val
	case "slack_id":
		if !validSlackID(val) {
			add(v.Line, "slack_id %q must be a user ID (U…/W…) or user group ID (S…)", val)
			return
		}
		own.SlackID = val
	case "email":
		own.Email = val
	case "schedule":
		own.Schedule, own.Line = val, v.Line
	default:
		add(k.Line, "unknown key %q in an escalation level (allowed: level, contact, time, notify, via, slack, slack_id, email, schedule)", k.Value)
	}
}

// checkLevelOrder checks the levels are numbered in order and their
// windows follow each other without gaps or overlaps.
func checkLevelOrder(levels []Level, add func(int, string, ...any)) {
	for i, l := range levels {
		if l.Level != i+1 {
			add(l.Line, "levels must be numbered 1, 2, 3… in order; found level %d in position %d", l.Level, i+1)
		}
		if i == 0 && l.Start != 0 {
			add(l.Line, "level 1 must start at 0 (it is paged when the incident opens)")
		}
		if i > 0 {
			prev := levels[i-1]
			switch {
			case prev.Open:
				add(l.Line, "level %d follows level %d, whose window %q never ends; only the last level may be open-ended (\"30+ min\")", l.Level, prev.Level, prev.Time)
			case l.Start > prev.End:
				add(l.Line, "gap between level %d (ends at %s) and level %d (starts at %s)", prev.Level, prev.End, l.Level, l.Start)
			case l.Start < prev.End:
				add(l.Line, "level %d (starts at %s) overlaps level %d (ends at %s)", l.Level, l.Start, prev.Level, prev.End)
			}
		}
	}
}

// parseVia reads `via: [slack, sms, call, pagerduty]`.
func parseVia(v *yaml.Node, add func(int, string, ...any)) []string {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		add(v.Line, "via must be a list such as [slack, sms, call, pagerduty]")
		return nil
	}
	var out []string
	for _, x := range v.Content {
		ch := strings.ToLower(strings.TrimSpace(x.Value))
		switch ch {
		case ViaSlack, ViaSMS, ViaCall, ViaPagerDuty:
			if !slices.Contains(out, ch) {
				out = append(out, ch)
			}
		default:
			add(x.Line, "via %q is not a channel (slack, sms, call or pagerduty)", x.Value)
		}
	}
	return out
}

// checkPhone requires an E.164 phone of each person an SMS or call level
// reaches; a user group (S…) is paged in Slack only.
func checkPhone(l Level, p Person, add func(int, string, ...any)) {
	if strings.HasPrefix(p.SlackID, "S") || p.Schedule != "" { // a schedule's members are checked by checkScheduleNames's caller
		return
	}
	line := p.Line
	if line == 0 {
		line = l.Line
	}
	phone := strings.TrimSpace(p.Phone)
	switch {
	case phone == "":
		add(line, "%s has no phone, but level %d pages by %s: add `phone: \"+15551234567\"` (E.164)", p.Name, l.Level, strings.Join(l.Via, ", "))
	case strings.Contains(strings.ToLower(phone), "x"):
		add(line, "%s's phone %q is still the runbook's placeholder; level %d pages by %s: put the real number in E.164 form (+15551234567)", p.Name, phone, l.Level, strings.Join(l.Via, ", "))
	case !e164.MatchString(phone):
		add(line, "%s's phone %q is not in E.164 form (+15551234567: +, country code, number, no spaces or dashes); level %d pages by %s", p.Name, phone, l.Level, strings.Join(l.Via, ", "))
	}
}

// Schedule is the schedule called name (nil when none is).
func (c *Contacts) Schedule(name string) *oncall.Schedule {
	if c == nil || name == "" {
		return nil
	}
	for _, s := range c.Schedules {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// checkScheduleNames checks every `schedule:` names a schedule.
func (c *Contacts) checkScheduleNames(add func(int, string, ...any)) {
	var names []string
	for _, s := range c.Schedules {
		names = append(names, s.Name)
	}
	known := "no schedules are defined: add a top-level `schedules:` map"
	if len(names) > 0 {
		known = "the schedules are " + strings.Join(names, ", ")
	}
	for _, g := range c.GroupOrder {
		for _, p := range c.Groups[g] {
			if p.Schedule != "" && c.Schedule(p.Schedule) == nil {
				add(p.Line, "%s names schedule %q, which names nothing (%s)", p.Name, p.Schedule, known)
			}
		}
	}
}

func suggestGroup(level int) string {
	switch level {
	case 1:
		return "on_call"
	case 2:
		return "leads"
	}
	return "executives"
}

// resolvePeople finds who a level pages: its own slack_id/slack/email, the
// names in notify, and the person or group its contact names, matched
// case-insensitively across every group.
func resolvePeople(l Level, notify []string, own Person, c *Contacts) []Person {
	var out []Person
	if own.HasSlack() {
		own.Name = l.Contact
		out = append(out, own)
	}
	names := notify
	if len(notify) == 0 && l.Contact != "" && !own.HasSlack() {
		names = []string{l.Contact}
	}
	for _, name := range names {
		out = append(out, c.find(name)...)
	}
	var reachable []Person
	for _, p := range out {
		if p.HasSlack() {
			reachable = append(reachable, p)
		}
	}
	return reachable
}

func (c *Contacts) find(name string) []Person {
	key := normalize(name)
	for _, g := range c.GroupOrder {
		if normalize(g) == key {
			return c.Groups[g]
		}
	}
	var out []Person
	for _, g := range c.GroupOrder {
		for _, p := range c.Groups[g] {
			if normalize(p.Name) == key {
				out = append(out, p)
			}
		}
	}
	return out
}

func normalize(s string) string {
	s = strings.NewReplacer("_", " ", "-", " ").Replace(strings.ToLower(s))
	return strings.Join(strings.Fields(s), " ")
}

var windowRe = regexp.MustCompile(`^(\d+)\s*([a-z]*)\s*(?:-\s*(\d+)\s*([a-z]*)|(\+))\s*([a-z]*)$`)

// parseWindow reads "0-15 min", "30+ min", "0-30s", "1h+".
func parseWindow(s string) (start, end time.Duration, open bool, err error) {
	m := windowRe.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, 0, false, errors.New(`write it as "0-15 min", "30+ min", "0-30s" or "1h+"`)
	}
	trailing := m[6]
	unitA, unitB := m[2], m[4]
	if unitB == "" {
		unitB = trailing
	}
	if unitA == "" {
		unitA = unitB
	}
	if unitA == "" {
		return 0, 0, false, errors.New(`give a unit: s, min or h`)
	}
	a, err := amount(m[1], unitA)
	if err != nil {
		return 0, 0, false, err
	}
	if m[5] == "+" {
		return a, 0, true, nil
	}
	b, err := amount(m[3], unitB)
	if err != nil {
		return 0, 0, false, err
	}
	if b <= a {
		return 0, 0, false, errors.New("the window must end after it starts")
	}
	return a, b, false, nil
}

func parseAmount(s string) (time.Duration, error) {
	m := regexp.MustCompile(`^(\d+)\s*([a-z]+)$`).FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, errors.New("not a duration")
	}
	return amount(m[1], m[2])
}

func amount(num, unit string) (time.Duration, error) {
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, err
	}
	switch unit {
	case "s", "sec", "secs", "second", "seconds":
		return time.Duration(n) * time.Second, nil
	case "m", "min", "mins", "minute", "minutes":
		return time.Duration(n) * time.Minute, nil
	case "h", "hr", "hrs", "hour", "hours":
		return time.Duration(n) * time.Hour, nil
	}
	return 0, fmt.Errorf("unknown unit %q (use s, min or h)", unit)
}

// Names maps each Slack ID the file gives to the person's name (nil-safe).
func (c *Contacts) Names() map[string]string {
	if c == nil {
		return nil
	}
	out := map[string]string{}
	for _, s := range c.Schedules {
		for _, m := range s.Members {
			out[m.SlackID] = m.Name
		}
	}
	for _, people := range c.Groups {
		for _, p := range people {
			if p.SlackID != "" && p.Name != "" {
				out[p.SlackID] = p.Name
			}
		}
	}
	return out
}
