package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/sirupsen/logrus"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const ladderContacts = `contacts:
  on_call:
    - name: On-Call Engineer
      phone: "+1-555-0100"
      slack_id: SONCALL
  leads:
    - name: Engineering Lead
      email: bob@example.com
  executives:
    - name: CTO
      slack: "@carol"
  escalation:
    - level: 1
      contact: "On-call engineer"
      time: "0-15 min"
    - level: 2
      contact: "Engineering lead"
      time: "15-30 min"
    - level: 3
      contact: "CTO"
      time: "30+ min"
policy:
  repeat_every: 15 min
  repeat_times: 1
`

// The whole program with an injected clock: open → level 1 by DM; +15 min
// → level 2; +30 → level 3; +45 → one re-page; acknowledged from the DM →
// nothing more, ever.
func TestLadderEndToEnd(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	clock, tick := startLadder(t, fs, ladderContacts, app.Options{Manual: app.Loops{Engine: true}})

	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")

	tick()
	fs.ExpectMessage(t, "DU1", "INC-1 · Sign-in failing", "level 1 (On-call engineer)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1 (On-call engineer, 0-15 min): <@U1>"}})
	fs.ExpectUpdated(t, card, "level 1 (On-call engineer) paged", "next: level 2 (Engineering lead)")

	clock.Add(14 * time.Minute)
	tick()
	fs.NoUnexpectedMessages(t)

	clock.Add(time.Minute)
	tick()
	fs.ExpectMessage(t, "DU2", "level 2 (Engineering lead)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2", "<@U2>"}})

	clock.Add(15 * time.Minute)
	tick()
	fs.ExpectMessage(t, "DU3", "level 3 (CTO)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 3", "<@U3>"}})

	clock.Add(15 * time.Minute)
	tick()
	dm := fs.ExpectMessage(t, "DU3", "Still unacknowledged: re-page 1 of level 3")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Re-paged (1) level 3"}})

	fs.Click(t, "U3", dm, "Acknowledge")
	fs.ExpectUpdated(t, dm, "You acknowledged *INC-1*")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"<@U3> acknowledged INC-1"}})
	fs.ExpectUpdated(t, card, "stopped: acknowledged by <@U3>")

	clock.Add(2 * time.Hour)
	tick()
	fs.NoUnexpectedMessages(t)

	fs.Command(t, "U1", "C1", "contacts")
	fs.ExpectEphemeral(t, "U1", "1. On-call engineer · 0-15 min · <!subteam^SONCALL>", "2. Engineering lead · 15-30 min · <@U2>",
		"3. CTO · 30+ min · <@U3>", "+1-555-0100")

	// Someone asks for more help after the ack: the next level is paged once.
	fs.Command(t, "U1", "C1", "escalate")
	fs.ExpectEphemeral(t, "U1", "Paging level 3 (CTO) of INC-1 now")
	tick()
	fs.ExpectMessage(t, "DU3", "A responder escalated to level 3 (CTO)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Escalated: paged level 3"}})
	clock.Add(time.Hour)
	tick()
	fs.NoUnexpectedMessages(t)
}

// Three replicas on one Redis run 200 ladders with random acks; every due
// page reaches the fake Slack exactly once and none after an ack.
func TestThreeReplicasPageExactlyOnceCountedInSlack(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	// 200 ladders paging the same three people in one tick test exactly-
	// once, not Slack's pace: under the real limits one person's DMs go at
	// about one a second, and the test would take minutes. So Slack is
	// unlimited here and the bot does not pace itself.
	fs.Unlimited()
	// Page DMs are counted as posted: an ack or resolve later rewrites them.
	var postsMu sync.Mutex
	var posts []fakeslack.Message
	fs.OnEvent(func(e fakeslack.Event) {
		if e.Kind == "post" {
			postsMu.Lock()
			posts = append(posts, *e.Message)
			postsMu.Unlock()
		}
	})
	dir := t.TempDir()
	contacts := "contacts:\n  team:\n    - {name: A, slack_id: U1}\n    - {name: B, slack_id: U2}\n    - {name: C, slack_id: U3}\n" +
		"  escalation:\n    - {level: 1, contact: A, time: 0-15 min}\n    - {level: 2, contact: B, time: 15-30 min}\n    - {level: 3, contact: C, time: 30+ min}\n" +
		"policy: {repeat_every: 15 min, repeat_times: 1}\n"
	if err := os.WriteFile(dir+"/contacts.yml", []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	prefix := redistest.Prefix()
	clock := &testClock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
	var engines []*escalation.Engine
	for range 3 {
		engines = append(engines, apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix,
			Env:     map[string]string{"CONTACTS_FILE": dir + "/contacts.yml", "LOG_LEVEL": "error"},
			Options: app.Options{Manual: app.Loops{Engine: true, Sweep: true}, Now: clock.Now, Unpaced: true}}).Engine)
	}
	rdb, _ := redistest.Client(t)
	store := incident.NewStore(rdb, prefix, clock.Now)
	ladder := escalation.Ladder{Rungs: []escalation.Rung{
		{Level: 1, Name: "A", Targets: []string{"U1"}}, {Level: 2, Name: "B", Start: 15 * time.Minute, Targets: []string{"U2"}},
		{Level: 3, Name: "C", Start: 30 * time.Minute, Targets: []string{"U3"}}}, RepeatEvery: 15 * time.Minute, RepeatTimes: 1}
	rng := rand.New(rand.NewPCG(3, 4))
	type plan struct {
		id    string
		ackAt time.Duration
	}
	var plans []plan
	ctx := context.Background()
	for i := range 200 {
		inc, err := store.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "drill", By: incident.Person{ID: "U9"}, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := engines[i%3].Start(ctx, inc, ladder); err != nil {
			t.Fatal(err)
		}
		p := plan{id: inc.ID}
		if rng.IntN(3) > 0 {
			p.ackAt = time.Duration(1+rng.IntN(60)) * time.Minute
		}
		plans = append(plans, p)
	}
	start := clock.Now()
	for elapsed := time.Duration(0); elapsed <= 60*time.Minute; elapsed += 5 * time.Minute {
		for _, p := range plans {
			if p.ackAt != 0 && p.ackAt <= elapsed && p.ackAt > elapsed-5*time.Minute {
				_, _ = store.Update(ctx, p.id, incident.Ack(incident.Person{ID: "U1"}))
			}
		}
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Go(func() { _, _ = e.Tick(ctx) })
		}
		wg.Wait()
		clock.Add(5 * time.Minute)
	}
	end := clock.Now().Add(-5 * time.Minute)
	count := map[string]int{}
	postsMu.Lock()
	defer postsMu.Unlock()
	for _, m := range posts {
		if !strings.HasPrefix(m.Channel, "D") {
			continue
		}
		text := m.Render()
		id := strings.TrimPrefix(strings.Fields(strings.TrimPrefix(text, ":rotating_light: *"))[0], "*")
		step := strings.TrimPrefix(m.Channel, "DU")
		if strings.Contains(text, "re-page") {
			step = "4"
		}
		count[id+"/"+step]++
	}
	total := 0
	for _, p := range plans {
		limit := end
		if p.ackAt != 0 {
			limit = start.Add((p.ackAt - 1) / (5 * time.Minute) * 5 * time.Minute)
		}
		for s := range ladder.Steps() {
			want := 0
			if !start.Add(ladder.Offset(s)).After(limit) {
				want = 1
			}
			key := fmt.Sprintf("%s/%d", p.id, s+1)
			if count[key] != want {
				t.Errorf("%s (ack at +%v): %d DMs, want %d", key, p.ackAt, count[key], want)
			}
			total += want
		}
	}
	if total < 300 {
		t.Fatalf("only %d pages expected: the test is too easy", total)
	}
}

// Level 2 is a group of two, one of whom has left the company: the other
// is paged on time, the thread names who could not be reached and why,
// and level 3 follows on time.
func TestLadderSkipsADepartedPersonAndMovesOnOnTime(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.AddUser("U4", "dave")
	fs.SetGroup("SLEADS", "U2", "U4")
	fs.RemoveUser("U4", "user_not_found")
	contacts := "contacts:\n  team:\n    - {name: Alice, slack_id: U1}\n    - {name: Leads, slack_id: SLEADS}\n    - {name: Carol, slack_id: U3}\n" +
		"  escalation:\n    - {level: 1, contact: Alice, time: 0-15 min}\n    - {level: 2, contact: Leads, time: 15-30 min}\n    - {level: 3, contact: Carol, time: 30+ min}\n"
	clock, tick := startLadder(t, fs, contacts, app.Options{Manual: app.Loops{Engine: true, Sweep: true}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	fs.ExpectEphemeral(t, "U1", "Opened")
	tick()
	fs.ExpectMessage(t, "DU1", "level 1")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1"}})
	fs.ExpectUpdated(t, card, "level 1 (Alice) paged")

	clock.Add(15 * time.Minute)
	tick()
	fs.ExpectMessage(t, "DU2", "level 2 (Leads)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2 (Leads, 15-30 min): <@U2>", "Could not reach <@U4>", "user_not_found"}})
	fs.ExpectUpdated(t, card, "level 2 (Leads) paged")

	clock.Add(15 * time.Minute)
	tick()
	fs.ExpectMessage(t, "DU3", "level 3 (Carol)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 3", "<@U3>"}})
}

// At start-up every contact's Slack ID is looked up once: a deactivated
// one is logged by name and shown in `contacts`, and start-up goes on.
func TestStartUpChecksContactIDs(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U4", "dave")
	fs.RemoveUser("U4", "user_disabled")
	dir := t.TempDir()
	contacts := "contacts:\n  team:\n    - {name: Alice, slack_id: U1}\n    - {name: Dave, slack_id: U4}\n" +
		"  escalation:\n    - {level: 1, contact: Alice, time: 0-15 min}\n    - {level: 2, contact: Dave, time: 15+ min}\n"
	if err := os.WriteFile(dir+"/contacts.yml", []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"CONTACTS_FILE": dir + "/contacts.yml", "SLACK_CHANNEL_ID": "CINC"},
		Options: app.Options{Manual: app.Loops{Engine: true, Sweep: true}}})
	if logs := bot.Logs.String(); !strings.Contains(logs, "escalation contact cannot be paged") || !strings.Contains(logs, "Dave") {
		t.Fatalf("no start-up warning naming Dave:\n%s", logs)
	}
	fs.Command(t, "U1", "C1", "contacts")
	fs.ExpectEphemeral(t, "U1", "Dave (<@U4>) cannot be paged: deactivated in Slack")
}

// The lead paged at level 2 is not in SLACK_RESPONDERS: start-up warns
// about them, they acknowledge from the page's DM, level 3 is never paged,
// and they may act on this incident but not on another one.
func TestPagedContactOutsideRespondersAcknowledgesFromTheDM(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.AddUser("U9", "mallory")
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	clock, tick, bot := startLadderEnv(t, fs, ladderContacts, map[string]string{"SLACK_RESPONDERS": "U1"}, app.Options{Manual: app.Loops{Engine: true, Sweep: true}})
	logs := bot.Logs.String()
	for _, name := range []string{"Engineering lead", "CTO"} {
		if !strings.Contains(logs, "escalation contact is not a responder") || !strings.Contains(logs, `"contact":"`+name+`"`) {
			t.Fatalf("no start-up warning naming %s:\n%s", name, logs)
		}
	}
	if strings.Contains(logs, `"slack_id":"SONCALL"`) {
		t.Fatalf("warned about the on-call group, whose only member is a responder:\n%s", logs)
	}

	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tick()
	fs.ExpectMessage(t, "DU1", "level 1 (On-call engineer)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1"}})
	fs.ExpectUpdated(t, card, "level 1 (On-call engineer) paged")

	clock.Add(15 * time.Minute)
	tick()
	dm := fs.ExpectMessage(t, "DU2", "level 2 (Engineering lead)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2", "<@U2>"}})
	fs.ExpectUpdated(t, card, "level 2 (Engineering lead) paged")

	fs.Click(t, "U2", dm, "Acknowledge")
	fs.ExpectUpdated(t, dm, "You acknowledged *INC-1*")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"<@U2> acknowledged INC-1"}})
	fs.ExpectUpdated(t, card, "stopped: acknowledged by <@U2>")

	clock.Add(2 * time.Hour)
	tick()
	fs.NoUnexpectedMessages(t)
	for _, m := range fs.Messages() {
		if m.Channel == "DU3" {
			t.Fatalf("level 3 was paged after the ack: %s", m.Render())
		}
	}

	// A responder for INC-1 only: a note there is taken, one on another
	// incident is refused, as is anyone not on the ladder.
	fs.Command(t, "U2", "C1", "note INC-1 rolling back the deploy")
	fs.ExpectEphemeral(t, "U2", "Note added to INC-1")
	rdb, _ := redistest.Client(t)
	store := incident.NewStore(rdb, bot.Prefix, clock.Now)
	if _, err := store.Open(context.Background(), incident.OpenParams{Category: incident.Webhook, Title: "no ladder", By: incident.Person{ID: "U1"}, Force: true}); err != nil {
		t.Fatal(err)
	}
	fs.Command(t, "U2", "C1", "note INC-2 not mine")
	fs.ExpectEphemeral(t, "U2", "Only incident responders may use `note`", "Nothing changed")
	fs.Command(t, "U9", "C1", "note INC-1 not mine either")
	fs.ExpectEphemeral(t, "U9", "Only incident responders may use `note`", "Nothing changed")
}

// The commander escalates eight times in three seconds, the engine paging
// between each (as its loop does when kicked): the first pages level 2;
// the second no longer wakes the CTO 375 ms later. The refusals say when
// the next escalation (level 3) is possible, change nothing, and are
// audited as refused. A minute later the CTO may be paged.
func TestEscalateTwiceInSecondsDoesNotWakeTheCTO(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	clock, tick, bot := startLadderEnv(t, fs, ladderContacts, nil, app.Options{Manual: app.Loops{Engine: true, Sweep: true}})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tick()
	ctx := context.Background()
	rdb, _ := redistest.Client(t)
	store := incident.NewStore(rdb, bot.Prefix, clock.Now)
	replies := []string{"Paging level 2 (Engineering lead) of INC-1 now"}
	for i := range 8 {
		before, err := bot.Engine.Get(ctx, "INC-1")
		if err != nil {
			t.Fatal(err)
		}
		fs.Command(t, "U1", "C1", "escalate")
		if i < len(replies) {
			fs.ExpectEphemeral(t, "U1", replies[i])
		} else {
			// The first escalate was at 03:00:00 (+375 ms each).
			ago := fmt.Sprintf("%d s ago", (time.Duration(i)*375*time.Millisecond)/time.Second)
			in := fmt.Sprintf("(in %d s)", (60*time.Second-time.Duration(i)*375*time.Millisecond+time.Second-1)/time.Second)
			fs.ExpectEphemeral(t, "U1", "Level 2 (Engineering lead) of INC-1 was paged by a manual escalation "+ago,
				"The next manual escalation (level 3, CTO) is possible at 03:01:00 UTC "+in, "Nothing changed")
			after, err := bot.Engine.Get(ctx, "INC-1")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(*after) != fmt.Sprint(*before) {
				t.Fatalf("a refused escalate changed the ladder:\n%+v\n%+v", *before, *after)
			}
		}
		tick()
		clock.Add(375 * time.Millisecond)
	}
	pages := map[string]int{}
	for _, m := range fs.Messages() {
		if strings.HasPrefix(m.Channel, "DU") {
			pages[m.Channel]++
		}
	}
	for _, dm := range []string{"DU1", "DU2"} {
		if pages[dm] == 0 || pages[dm] > 2 {
			t.Errorf("%s paged %d times by eight escalates in 3 s: %v", dm, pages[dm], pages)
		}
	}
	if pages["DU3"] != 0 {
		t.Errorf("the CTO was woken within seconds of the lead: %v", pages)
	}
	inc, err := store.Get(ctx, "INC-1")
	if err != nil {
		t.Fatal(err)
	}
	requested := 0
	for _, e := range inc.Timeline {
		if strings.Contains(e.Text, "Escalation requested") {
			requested++
		}
	}
	if requested != 1 {
		t.Errorf("%d escalations on the timeline, want the 1 that paged", requested)
	}
	// The audit entry is written after the reply: wait for it.
	auditLog := audit.New(rdb, bot.Prefix, logrus.New(), clock.Now)
	refused := 0
	for range 100 {
		entries, err := auditLog.Recent(ctx, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		refused = 0
		for _, e := range entries {
			if e.Action == "escalate" && strings.HasPrefix(e.Outcome, "refused: level 2 was escalated to") {
				refused++
			}
		}
		if refused >= 7 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if refused != 7 {
		t.Fatalf("%d refused escalates audited, want 7", refused)
	}

	// A minute after level 2 was paged by hand, the CTO may be.
	clock.Add(time.Minute)
	fs.Command(t, "U1", "C1", "escalate")
	fs.ExpectEphemeral(t, "U1", "Paging level 3 (CTO) of INC-1 now")
	tick()
	fs.ExpectMessage(t, "DU3", "A responder escalated to level 3 (CTO)")
}

// startLadder runs the program with contacts and an injected clock; the
// test moves the clock and ticks the engine.
func startLadder(t *testing.T, fs *fakeslack.Server, contacts string, opt app.Options) (*testClock, func()) {
	t.Helper()
	clock, tick, _ := startLadderEnv(t, fs, contacts, nil, opt)
	return clock, tick
}

// startLadderEnv is startLadder with more environment, returning the bot.
func startLadderEnv(t *testing.T, fs *fakeslack.Server, contacts string, env map[string]string, opt app.Options) (*testClock, func(), *apptest.Bot) {
	t.Helper()
	path := t.TempDir() + "/contacts.yml"
	if err := os.WriteFile(path, []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
	opt.Now = clock.Now
	// The ladder's clock runs for an hour without updates; the update
	// reminders that would bring are tested on their own.
	all := map[string]string{"CONTACTS_FILE": path, "SLACK_CHANNEL_ID": "CINC", "UPDATE_REMINDER": "off"}
	for k, v := range env {
		all[k] = v
	}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: all, Options: opt})
	return clock, func() {
		t.Helper()
		if _, err := bot.Engine.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}, bot
}
