package escalation_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
)

// The runbook's own file names an on-call handle but no one for levels 2
// and 3: loading fails and says exactly which level and how to fix it.
func TestRunbookSeedContactsNameTheUnreachableLevels(t *testing.T) {
	src, err := os.ReadFile("testdata/runbook-contacts.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = escalation.LoadContacts("INCIDENT_CONTACTS.yml", src)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, want := range []string{
		`level 2 ("Engineering lead", 15-30 min) reaches no one in Slack`,
		`add a person named "Engineering lead" with a slack_id`,
		"`leads:`",
		`level 3 ("CTO", 30+ min) reaches no one in Slack`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "level 1 ") {
		t.Errorf("level 1 (@oncall) is reachable, yet reported:\n%s", msg)
	}
}

func TestShippedContactsFileValidates(t *testing.T) {
	src, err := os.ReadFile("../contacts.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := escalation.LoadContacts("contacts.yml", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Levels) != 3 || c.Levels[1].Start != 15*time.Minute || !c.Levels[2].Open {
		t.Fatalf("levels %+v", c.Levels)
	}
	if c.Support.URL != "https://clerk.com/support" || c.Support.Email != "support@clerk.com" || c.Support.Priority == "" {
		t.Fatalf("support %+v", c.Support)
	}
	if len(c.Placeholders) != 3 {
		t.Fatalf("placeholders on lines %v", c.Placeholders)
	}
	if p := c.Levels[0].People; len(p) != 1 || p[0].SlackID != "S00000ONCALL" || p[0].Phone == "" {
		t.Fatalf("level 1 people %+v", p)
	}
	if c.Policy != escalation.DefaultPolicy {
		t.Fatalf("policy %+v", c.Policy)
	}
}

func TestContactsExtensions(t *testing.T) {
	src := `
policy:
  repeat_every: 30s
  repeat_times: 2
contacts:
  on_call:
    - name: Alice
      slack_id: U0ALICE
    - name: Bob
      email: bob@example.com
  leads:
    - name: Dana
      slack: "@dana"
  escalation:
    - level: 1
      contact: on-call
      time: "0-30s"
    - level: 2
      contact: Lead
      notify: [dana, ALICE]
      time: "30s-1m"
    - level: 3
      contact: CTO
      slack_id: SEXECS
      time: "1m+"
`
	c, err := escalation.LoadContacts("x.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Levels[0].People) != 2 || len(c.Levels[1].People) != 2 || c.Levels[2].People[0].SlackID != "SEXECS" {
		t.Fatalf("levels %+v", c.Levels)
	}
	if c.Levels[1].Start != 30*time.Second || c.Levels[2].Start != time.Minute || c.Policy.RepeatEvery != 30*time.Second || c.Policy.RepeatTimes != 2 {
		t.Fatalf("times %+v %+v", c.Levels, c.Policy)
	}
	dir := fakeDir{"bob@example.com": "U0BOB", "@dana": "U0DANA"}
	l, err := escalation.Resolve(context.Background(), c, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.Rungs[0].Targets, ","); got != "U0ALICE,U0BOB" {
		t.Fatalf("level 1 targets %s", got)
	}
	if got := strings.Join(l.Rungs[1].Targets, ","); got != "U0DANA,U0ALICE" {
		t.Fatalf("level 2 targets %s", got)
	}
	// Without @dana, level 2 still reaches Alice by ID: no error.
	if _, err := escalation.Resolve(context.Background(), c, fakeDir{"bob@example.com": "U0BOB"}); err != nil {
		t.Fatal(err)
	}
	// A level reachable only through a handle Slack does not know fails, by name.
	c.Levels[1].People = c.Levels[1].People[:1]
	_, err = escalation.Resolve(context.Background(), c, fakeDir{"bob@example.com": "U0BOB"})
	if err == nil || !strings.Contains(err.Error(), `level 2 ("Lead", 30s-1m) reaches no one`) || !strings.Contains(err.Error(), "@dana") {
		t.Fatalf("err = %v", err)
	}
}

type fakeDir map[string]string

func (d fakeDir) LookupEmail(ctx context.Context, email string) (string, error) {
	if id, ok := d[email]; ok {
		return id, nil
	}
	return "", errors.New("users_not_found")
}

func (d fakeDir) LookupHandle(ctx context.Context, h string) (string, error) {
	if id, ok := d[h]; ok {
		return id, nil
	}
	return "", errors.New("no such handle")
}

func TestContactsErrorsNameTheLine(t *testing.T) {
	person := "contacts:\n  on_call:\n    - name: A\n      slack_id: U0A\n  escalation:\n"
	cases := map[string]struct{ src, want string }{
		"unknown key":   {person + "    - level: 1\n      contact: A\n      time: 0-15 min\n      pager: yes\n", "line 9: unknown key \"pager\""},
		"gap":           {person + "    - level: 1\n      contact: A\n      time: 0-15 min\n    - level: 2\n      contact: A\n      time: 20-30 min\n", "line 9: gap between level 1"},
		"overlap":       {person + "    - level: 1\n      contact: A\n      time: 0-15 min\n    - level: 2\n      contact: A\n      time: 10+ min\n", "overlaps level 1"},
		"order":         {person + "    - level: 2\n      contact: A\n      time: 0-15 min\n", "numbered 1, 2, 3"},
		"open middle":   {person + "    - level: 1\n      contact: A\n      time: 0+ min\n    - level: 2\n      contact: A\n      time: 15+ min\n", "never ends"},
		"bad window":    {person + "    - level: 1\n      contact: A\n      time: soon\n", `time "soon"`},
		"bad id":        {"contacts:\n  on_call:\n    - name: A\n      slack_id: alice\n  escalation:\n    - level: 1\n      contact: A\n      time: 0+ min\n", "line 4: slack_id \"alice\""},
		"unknown top":   {"contacts: {}\nteams: []\n", "line 2: unknown key \"teams\""},
		"no escalation": {"contacts:\n  on_call: []\n", "contacts.escalation` is missing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := escalation.LoadContacts("c.yml", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "c.yml") {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// One lookup finds who answers a phone: a person's own phone (written
// with spaces or dashes or not), a user group's shared phone, one number
// handed around a group; a placeholder or an unknown number is nobody.
func TestByPhoneFindsWhoAnswers(t *testing.T) {
	src := `contacts:
  on_call:
    - {name: Ann, slack_id: U1, phone: "+1 555 000-0001"}
    - {name: On-call phone, slack_id: S0ONCALL, phone: "+15550000009"}
  night:
    - {name: Ben, slack_id: U2, phone: "+15550000007"}
    - {name: Cy, slack_id: U3, phone: "+15550000007"}
  leads:
    - {name: Ann, slack_id: U1, phone: "+15550000001"}
    - {name: Dee, email: dee@example.com, phone: "+1-xxx-xxx-xxxx"}
  escalation:
    - {level: 1, contact: on_call, time: 0-15 min}
`
	c, err := escalation.LoadContacts("contacts.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		phone string
		want  escalation.Holder
		ok    bool
	}{
		{"+15550000001", escalation.Holder{Name: "Ann", SlackID: "U1", Group: "on_call"}, true},
		{"+1 (555) 000-0001", escalation.Holder{Name: "Ann", SlackID: "U1", Group: "on_call"}, true},
		{"+15550000009", escalation.Holder{Name: "On-call phone", SlackID: "S0ONCALL", Group: "on_call", Shared: true}, true},
		{"+15550000007", escalation.Holder{Name: "night (shared phone)", Group: "night", Shared: true}, true},
		{"+15550000002", escalation.Holder{}, false},
		{"+1-xxx-xxx-xxxx", escalation.Holder{}, false},
		{"", escalation.Holder{}, false},
	} {
		got, ok := c.ByPhone(tc.phone)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ByPhone(%q) = %+v, %v; want %+v, %v", tc.phone, got, ok, tc.want, tc.ok)
		}
	}
}

// Bad schedules are listed all at once, each with its line: an unknown
// zone, a member without slack_id, a `schedule:` naming nothing, an empty
// member list.
func TestBadSchedulesAreListedWithTheirLines(t *testing.T) {
	src := `schedules:
  primary:
    time_zone: Mars/Olympus
    rotation: weekly
    handoff: "monday 09:00"
    start: 2026-12-07
    members:
      - name: Ann
        phone: "+15551230001"
  empty:
    time_zone: Europe/Berlin
    rotation: daily
    handoff: "09:00"
    start: 2026-12-07
    members: []
contacts:
  on_call:
    - name: On-call
      schedule: primray
  escalation:
    - {level: 1, contact: On-call, time: 0-15 min}
`
	_, err := escalation.LoadContacts("contacts.yml", []byte(src))
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, want := range []string{
		`line 3: schedule "primary": time_zone "Mars/Olympus" is not an IANA time zone`,
		`line 8: schedule "primary": member "Ann" has no slack_id`,
		`line 10: schedule "empty": has no members`,
		`line 18: On-call names schedule "primray", which names nothing (the schedules are primary, empty)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

// A level whose person is a schedule resolves to no Slack ID at start-up
// and is frozen, at open, to the one person on call (Slack and phone).
func TestScheduleLevelFreezesToTheOnCallPerson(t *testing.T) {
	src := `schedules:
  primary:
    time_zone: Europe/Berlin
    rotation: weekly
    handoff: "monday 09:00"
    start: 2026-12-07
    members:
      - {name: Ann, slack_id: U0ANN, phone: "+15551230001"}
      - {name: Bob, slack_id: U0BOB, phone: "+15551230002"}
contacts:
  on_call:
    - {name: On-call, schedule: primary}
  leads:
    - {name: Lead, slack_id: U0LEAD}
  escalation:
    - {level: 1, contact: On-call, time: 0-15 min, via: [slack, sms]}
    - {level: 2, contact: Lead, time: 15+ min}
`
	c, err := escalation.LoadContacts("contacts.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	l, err := escalation.Resolve(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := l.Rungs[0]; len(r.Targets) != 0 || len(r.Schedules) != 1 || r.Schedules[0] != "primary" {
		t.Fatalf("rung 1 before open %+v", r)
	}
	frozen, errs := l.Frozen(context.Background(), func(_ context.Context, name string) (string, string, bool, error) {
		return "U0BOB", "+15551230002", name == "primary", nil
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r := frozen.Rungs[0]
	if len(r.Targets) != 1 || r.Targets[0] != "U0BOB" || r.Phones["U0BOB"] != "+15551230002" || r.OnCall["primary"] != "U0BOB" {
		t.Fatalf("frozen rung 1 %+v", r)
	}
	if len(l.Rungs[0].Targets) != 0 {
		t.Fatal("freezing changed the configured ladder")
	}
	if frozen.Rungs[1].Targets[0] != "U0LEAD" {
		t.Fatalf("rung 2 %+v", frozen.Rungs[1])
	}
}

// A level may name a schedule itself; a member without a phone on an SMS
// level is named with its line.
func TestLevelScheduleAndMemberPhones(t *testing.T) {
	src := `schedules:
  primary:
    time_zone: Europe/Berlin
    rotation: daily
    handoff: "09:00"
    start: 2026-12-07
    members:
      - {name: Ann, slack_id: U0ANN}
contacts:
  escalation:
    - {level: 1, contact: On-call, schedule: primary, time: 0-15 min, via: [slack, sms]}
`
	_, err := escalation.LoadContacts("contacts.yml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "line 8: Ann (schedule primary) has no phone, but level 1 pages by slack, sms") {
		t.Fatalf("err = %v", err)
	}
	c, err := escalation.LoadContacts("contacts.yml", []byte(strings.Replace(src, "slack, sms", "slack", 1)))
	if err != nil {
		t.Fatal(err)
	}
	l, err := escalation.Resolve(context.Background(), c, nil)
	if err != nil || len(l.Rungs[0].Schedules) != 1 {
		t.Fatalf("%+v %v", l, err)
	}
}

// A schedule member's phone is found by the one lookup (an SMS reply from
// it acknowledges as them); one person in a group and a schedule is one.
func TestByPhoneFindsScheduleMembers(t *testing.T) {
	src := `schedules:
  primary:
    time_zone: Europe/Berlin
    rotation: weekly
    handoff: "monday 09:00"
    start: 2026-12-07
    members:
      - {name: Ann, slack_id: U0ANN, phone: "+15551230001"}
      - {name: Bob, slack_id: U0BOB, phone: "+15551230002"}
contacts:
  on_call:
    - {name: On-call, schedule: primary}
  leads:
    - {name: Bob, slack_id: U0BOB, phone: "+15551230002"}
  escalation:
    - {level: 1, contact: On-call, time: 0-15 min, via: [slack, sms]}
`
	c, err := escalation.LoadContacts("contacts.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := c.ByPhone("+1 555 123 0001"); !ok || h != (escalation.Holder{Name: "Ann", SlackID: "U0ANN", Group: "schedule primary"}) {
		t.Errorf("Ann's phone: %+v %v", h, ok)
	}
	if h, ok := c.ByPhone("+15551230002"); !ok || h.SlackID != "U0BOB" || h.Shared {
		t.Errorf("Bob's phone: %+v %v", h, ok)
	}
}
