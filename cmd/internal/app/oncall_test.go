package app_test

import (
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// Bob (U2) is on call in the week of 23 November 2026: Ann's shift began
// Monday 16 November 09:00 Berlin, Bob's the 23rd, Cy's the 30th.
const rotaContacts = `schedules:
  primary:
    time_zone: Europe/Berlin
    rotation: weekly
    handoff: "monday 09:00"
    start: 2026-11-16
    slack_usergroup: S0ONCALL
    members:
      - {name: Ann, slack_id: U1, phone: "+15550000001"}
      - {name: Bob, slack_id: U2, phone: "+15550000002"}
      - {name: Cy, slack_id: U4, phone: "+15550000004"}
contacts:
  on_call:
    - {name: On-call, schedule: primary}
  leads:
    - {name: Carol, slack_id: U3, phone: "+15550000003"}
  backup:
    - {name: Dana, slack_id: U5, phone: "+15550000005"}
  escalation:
    - {level: 1, contact: On-call, time: 0-15 min, via: [slack, sms]}
    - {level: 2, contact: Carol, time: 15+ min}
policy: {repeat_every: 1h, repeat_times: 0}
`

type rota struct {
	slack  *fakeslack.Server
	twilio *fakepaging.Twilio
	clock  *testClock
	prefix string
	env    map[string]string
}

func newRota(t *testing.T, contacts string) *rota {
	t.Helper()
	r := &rota{slack: fakeslack.New(), twilio: fakepaging.NewTwilio(), prefix: redistest.Prefix(),
		clock: &testClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}}
	t.Cleanup(r.slack.Close)
	t.Cleanup(r.twilio.Close)
	for id, name := range map[string]string{"U1": "ann", "U2": "bob", "U3": "carol", "U4": "cy", "U5": "dana", "U6": "eve"} {
		r.slack.AddUser(id, name)
	}
	r.slack.SetGroup("S0ONCALL", "U9")
	path := t.TempDir() + "/contacts.yml"
	if err := os.WriteFile(path, []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	r.env = map[string]string{
		"CONTACTS_FILE": path, "SLACK_CHANNEL_ID": "CINC", "UPDATE_REMINDER": "off", "SLACK_RESPONDERS": "U3",
		"TWILIO_ACCOUNT_SID": r.twilio.SID, "TWILIO_AUTH_TOKEN": r.twilio.Token, "TWILIO_FROM": r.twilio.From, "TWILIO_API_URL": r.twilio.URL(),
	}
	return r
}

// replica starts one replica whose engine and sweep the test drives.
func (r *rota) replica(t *testing.T) *apptest.Bot {
	t.Helper()
	b := apptest.Start(t, apptest.Spec{Slack: r.slack, Prefix: r.prefix, Env: r.env,
		Options: app.Options{Manual: app.Loops{Engine: true, Sweep: true}, Now: r.clock.Now}})
	t.Cleanup(func() {
		if t.Failed() {
			logs := b.Logs.String()
			t.Logf("bot logs (last 4000 bytes):\n%s", logs[max(0, len(logs)-4000):])
		}
	})
	return b
}

// tick pages what is due and sweeps (the thread lines go out).
func tick(t *testing.T, b *apptest.Bot) {
	t.Helper()
	if _, err := b.Engine.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Sweep(context.Background())
}

// dms counts the direct messages to user containing part.
func dms(s *fakeslack.Server, user, part string) int {
	n := 0
	for _, m := range s.Messages() {
		if m.Channel == "D"+user && m.Contains(part) {
			n++
		}
	}
	return n
}

func (r *rota) sms() []string {
	var to []string
	for _, s := range r.twilio.Sent() {
		to = append(to, s.Kind+" "+s.To)
	}
	return to
}

// Level 1 names the schedule: only Bob, on call now, is paged, in Slack
// and on his own phone; Ann and Cy are not.
func TestScheduleLevelPagesOnlyTheOnCallPerson(t *testing.T) {
	t.Parallel()
	r := newRota(t, rotaContacts)
	b := r.replica(t)
	s := r.slack
	s.Command(t, "U3", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U3", "Opened *INC-1*") // the ladder has started
	tick(t, b)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1", "<@U2> (Slack, SMS)"}})
	if got := r.sms(); !slices.Equal(got, []string{"sms +15550000002"}) {
		t.Fatalf("level 1 texted %v, want Bob's phone only", got)
	}
	if dms(s, "U2", "INC-1") == 0 || dms(s, "U1", "INC-1") != 0 || dms(s, "U4", "INC-1") != 0 {
		t.Fatalf("page DMs: bob %d, ann %d, cy %d", dms(s, "U2", "INC-1"), dms(s, "U1", "INC-1"), dms(s, "U4", "INC-1"))
	}
	// Bob, paged through the schedule, may acknowledge though he is no responder.
	s.Command(t, "U2", "C1", "ack INC-1")
	s.ExpectEphemeral(t, "U2", "INC-1")
	r.clock.Add(20 * time.Minute)
	tick(t, b)
	if len(r.twilio.Sent()) != 1 {
		t.Fatalf("after the ack: %v", r.sms())
	}
}

// A cover made on one replica pages the one covering on another; bad
// covers and outsiders change nothing; both people are told by DM, and
// `oncall` shows it in the asker's time zone.
func TestOnCallCoverAppliesOnEveryReplica(t *testing.T) {
	t.Parallel()
	r := newRota(t, rotaContacts)
	s := r.slack
	s.SetTimeZone("U3", "America/New_York")
	s.RemoveUser("UGONE", "user_not_found")
	a := r.replica(t)
	for _, c := range []struct{ user, text, want string }{
		{"U3", "oncall cover <@U5|dana> for banana", `"banana" is not a duration`},
		{"U3", "oncall cover <@U5|dana> for 0h", `"0h" is not a duration`},
		{"U3", "oncall cover <@U5|dana> until 25:00", `"25:00" is not a time of day`},
		{"U3", "oncall cover @dana", `"@dana" is not a person`},
		{"U3", "oncall cover <@UGONE|gone> for 1h", "<@UGONE> cannot be put on call: not found in Slack"},
		{"U3", "oncall cover me secondary", `There is no schedule "secondary"; the schedules are primary`},
		{"U6", "oncall cover me", "may use `oncall`"},
		{"U3", "oncall cover cancel", "No cover is in force in primary"},
	} {
		s.Command(t, c.user, "C1", c.text)
		s.ExpectEphemeral(t, c.user, c.want)
	}
	// Bob, on call and a member (no responder), hands four hours to Dana.
	s.Command(t, "U2", "C1", "oncall cover <@U5|dana> for 4h")
	s.ExpectEphemeral(t, "U2", "Dana <@U5> is on call in *primary* until Thu 26 Nov 08:00 CET", "covering for Bob <@U2>")
	s.Expect(t, fakeslack.Match{Channel: "DU5", Contains: []string{"bob put you on call in *primary*", "covering for Bob"}})
	s.Expect(t, fakeslack.Match{Channel: "DU2", Contains: []string{"Dana covers *primary* for you"}})
	s.Command(t, "U3", "C1", "oncall")
	s.ExpectEphemeral(t, "U3", "Now: Dana <@U5>, covering for Bob (set by bob), until Thu 26 Nov 08:00 CET (02:00 EST your time)", "Next: Bob <@U2>")
	a.Stop()

	b := r.replica(t)
	s.Command(t, "U3", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U3", "Opened *INC-1*") // the ladder has started
	tick(t, b)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1", "<@U5> (Slack, SMS)"}})
	if got := r.sms(); !slices.Equal(got, []string{"sms +15550000005"}) {
		t.Fatalf("level 1 texted %v, want Dana's phone only", got)
	}
	// The cover is audited; cancelling it on this replica tells both.
	s.Command(t, "U3", "C1", "audit")
	s.ExpectEphemeral(t, "U3", "oncall")
	s.Command(t, "U3", "C1", "oncall cover cancel")
	s.ExpectEphemeral(t, "U3", "Cancelled Dana <@U5>'s cover of *primary*; on call now: Bob <@U2>")
	s.Expect(t, fakeslack.Match{Channel: "DU5", Contains: []string{"cancelled your cover of *primary*"}})
	s.Expect(t, fakeslack.Match{Channel: "DU2", Contains: []string{"you are on call in it again"}})
}

// At each handoff the incoming person is told once, however many
// replicas sweep, and the user group is set to them.
func TestHandoffToldOnceAndUserGroupFollows(t *testing.T) {
	t.Parallel()
	r := newRota(t, rotaContacts)
	s := r.slack
	a, b := r.replica(t), r.replica(t)
	sweepBoth := func() {
		done := make(chan struct{})
		go func() { a.Sweep(context.Background()); close(done) }()
		b.Sweep(context.Background())
		<-done
		a.Sweep(context.Background())
	}
	sweepBoth()
	if n := dms(s, "U2", "You are on call in *primary*"); n != 1 {
		t.Fatalf("Bob told %d times, want once", n)
	}
	if g := s.Group("S0ONCALL"); !slices.Equal(g, []string{"U2"}) {
		t.Fatalf("group %v, want Bob", g)
	}
	r.clock.Add(time.Date(2026, 11, 30, 7, 59, 0, 0, time.UTC).Sub(r.clock.Now())) // 08:59 in Berlin
	sweepBoth()
	if dms(s, "U4", "You are on call") != 0 {
		t.Fatal("Cy told before the handoff")
	}
	r.clock.Add(time.Minute) // Monday 09:00 CET
	sweepBoth()
	sweepBoth()
	if n := dms(s, "U4", "You are on call in *primary*"); n != 1 {
		t.Fatalf("Cy told %d times, want once", n)
	}
	if g, ups := s.Group("S0ONCALL"), s.GroupUpdates(); !slices.Equal(g, []string{"U4"}) || len(ups) != 2 {
		t.Fatalf("group %v after %d updates, want Cy after 2", g, len(ups))
	}
	// A workspace that keeps group edits to admins: said once in the channel.
	s.RestrictGroupEdits("S0ONCALL")
	r.clock.Add(time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC).Sub(r.clock.Now()))
	sweepBoth()
	sweepBoth()
	s.ExpectMessage(t, "CINC", "Ann is on call in *primary*", "permission_denied")
	n := 0
	for _, m := range s.Messages() {
		if m.Channel == "CINC" && m.Contains("could not be set") {
			n++
		}
	}
	if n != 1 || dms(s, "U1", "You are on call in *primary*") != 1 {
		t.Fatalf("%d group warnings, Ann told %d times", n, dms(s, "U1", "You are on call in *primary*"))
	}
}

// Bad schedules stop start-up, all listed with their lines; a schedule
// keeping a user group needs usergroups:write.
func TestBadSchedulesStopStartUp(t *testing.T) {
	t.Parallel()
	bad := strings.Replace(strings.Replace(rotaContacts, "Europe/Berlin", "Europe/Atlantis", 1), "{name: On-call, schedule: primary}", "{name: On-call, schedule: primray}", 1)
	bad = strings.Replace(bad, `{name: Cy, slack_id: U4, phone: "+15550000004"}`, `{name: Cy, phone: "+15550000004"}`, 1)
	for _, c := range []struct {
		contacts string
		scopes   []string
		want     []string
	}{
		{bad, nil, []string{"line 3:", `time_zone "Europe/Atlantis"`, "line 11:", `member "Cy" has no slack_id`, "line 14:", `schedule "primray", which names nothing`}},
		{rotaContacts, []string{"commands", "chat:write", "im:write", "users:read", "usergroups:read", "channels:read"}, []string{"usergroups:write", "slack_usergroup"}},
	} {
		r := newRota(t, c.contacts)
		if c.scopes != nil {
			r.slack.SetScopes(c.scopes...)
		}
		env := map[string]string{"SLACK_BOT_TOKEN": r.slack.BotToken, "SLACK_APP_TOKEN": r.slack.AppToken, "SLACK_API_URL": r.slack.APIURL(),
			"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": r.prefix, "HTTP_ADDR": "127.0.0.1:0", "STATUS_POLL_SCHEDULE": "off"}
		for k, v := range r.env {
			env[k] = v
		}
		cfg, err := app.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = app.Run(ctx, cfg, app.Options{Stderr: io.Discard})
		cancel()
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("start-up error lacks %q: %v", w, err)
			}
		}
	}
}

// help lists oncall; `contacts` names the schedule's level and members;
// their phones go to responders only.
func TestContactsShowSchedulesPhonesToRespondersOnly(t *testing.T) {
	t.Parallel()
	r := newRota(t, rotaContacts)
	r.replica(t)
	s := r.slack
	s.Command(t, "U3", "C1", "contacts")
	s.ExpectEphemeral(t, "U3", "1. On-call · 0-15 min · whoever is on call in primary · by Slack, SMS", "*schedule primary* · weekly, handoff monday 09:00 Europe/Berlin", "Bob <@U2> · :telephone_receiver: +15550000002")
	s.Command(t, "U6", "C1", "help")
	s.ExpectEphemeral(t, "U6", "oncall", "who is on call in each schedule now and next")
	s.Command(t, "U6", "C1", "help oncall")
	s.ExpectEphemeral(t, "U6", "members of the schedule changed", "Anyone may run `/clerk-incident oncall`")
	s.Command(t, "U6", "C1", "contacts")
	m := s.ExpectEphemeral(t, "U6", "*schedule primary*", "Bob <@U2>")
	if m.Contains("+15550000002") {
		t.Fatal("a member's phone shown to someone who is not a responder")
	}
}

// The on-call person paged through a schedule answers the text: their
// phone is found by the one lookup (a schedule member's), and the
// incident is acknowledged as them.
func TestScheduleMemberAcksBySMS(t *testing.T) {
	t.Parallel()
	h := startPaging(t, rotaContacts)
	s := h.slack
	s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1", "<@U2> (Slack, SMS)"}})
	h.clock.Add(20 * time.Second)
	h.twilio.Reply("+15550000002", h.twilio.From, "ack")
	h.poll(t)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged by Bob by SMS", "INC-1"}})
	h.waitTexts(t, "+15550000002", "Acknowledged INC-1", 1)
}
