package app_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// pdContacts trigger PagerDuty at level 1; level 2 (Bob) follows at 15 min.
const pdContacts = `contacts:
  on_call:
    - {name: Alice, slack_id: U1}
  leads:
    - {name: Bob, slack_id: U2, phone: "+15550000002"}
  escalation:
    - {level: 1, contact: on_call, time: 0-15 min, via: [slack, pagerduty]}
    - {level: 2, contact: Bob, time: 15+ min, via: [slack, sms]}
policy: {repeat_every: 1h, repeat_times: 0}
`

// pdHarness is one test's fakes, clock and replicas, each replica's
// engine and PagerDuty read-back driven by the test.
type pdHarness struct {
	slack  *fakeslack.Server
	pd     *fakepaging.PagerDuty
	twilio *fakepaging.Twilio
	clock  *testClock
	prefix string
	env    map[string]string
	bots   []*apptest.Bot
}

func newPDHarness(t *testing.T, token string) *pdHarness {
	t.Helper()
	h := &pdHarness{slack: fakeslack.New(), pd: fakepaging.NewPagerDuty(), twilio: fakepaging.NewTwilio(),
		clock: &testClock{t: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)}, prefix: redistest.Prefix()}
	t.Cleanup(h.slack.Close)
	t.Cleanup(h.pd.Close)
	t.Cleanup(h.twilio.Close)
	h.pd.SetClock(h.clock.Now)
	h.slack.AddUser("U1", "alice")
	h.slack.AddUser("U2", "bob")
	path := t.TempDir() + "/contacts.yml"
	if err := os.WriteFile(path, []byte(pdContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	if token == "" {
		token = h.pd.APIToken
	}
	h.env = map[string]string{"CONTACTS_FILE": path, "SLACK_CHANNEL_ID": "CINC", "UPDATE_REMINDER": "off",
		"PAGERDUTY_ROUTING_KEY": h.pd.Key, "PAGERDUTY_EVENTS_URL": h.pd.URL(),
		"PAGERDUTY_API_TOKEN": token, "PAGERDUTY_API_URL": h.pd.APIURL(),
		"TWILIO_ACCOUNT_SID": h.twilio.SID, "TWILIO_AUTH_TOKEN": h.twilio.Token, "TWILIO_FROM": h.twilio.From, "TWILIO_API_URL": h.twilio.URL()}
	return h
}

// start adds a replica over the same Slack, Redis prefix and clock.
func (h *pdHarness) start(t *testing.T) *apptest.Bot {
	t.Helper()
	bot := apptest.Start(t, apptest.Spec{Slack: h.slack, Prefix: h.prefix, Env: h.env,
		Options: app.Options{Manual: app.Loops{Engine: true, PagerDuty: true}, Now: h.clock.Now}})
	if bot.PagerDuty == nil {
		t.Fatal("PAGERDUTY_API_TOKEN is set but the bot does not read PagerDuty back")
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs := bot.Logs.String()
			t.Logf("bot logs (last 4000 bytes):\n%s", logs[max(0, len(logs)-4000):])
		}
	})
	h.bots = append(h.bots, bot)
	return bot
}

func tickEngine(t *testing.T, bot *apptest.Bot) {
	t.Helper()
	if _, err := bot.Engine.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func pollPD(t *testing.T, bot *apptest.Bot) bool {
	t.Helper()
	polled, err := bot.PagerDuty.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return polled
}

// said counts the times Slack shows text (thread lines may be merged).
func said(fs *fakeslack.Server, text string) int {
	n := 0
	for _, m := range fs.Messages() {
		n += strings.Count(m.Render(), text)
	}
	return n
}

// open opens INC-1 and pages level 1 (Slack and PagerDuty).
func (h *pdHarness) open(t *testing.T, bot *apptest.Bot) (card, dm *fakeslack.Message) {
	t.Helper()
	s := h.slack
	s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card = s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tickEngine(t, bot)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1", "PagerDuty"}})
	dm = s.ExpectMessage(t, "DU1", "INC-1")
	if ev := h.pd.Events(); len(ev) != 1 || ev[0].Action != "trigger" || !strings.HasPrefix(ev[0].DedupKey, "INC-1@") {
		t.Fatalf("PagerDuty events %+v", ev)
	}
	return card, dm
}

// Nora acknowledges in PagerDuty's app: the next read-back acknowledges
// INC-1 here by her name (card, thread, page DM), the ladder stops before
// level 2, and no acknowledge event goes back to PagerDuty. Resolving
// here still resolves it there.
func TestAckInPagerDutyStopsTheLadder(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	bot := h.start(t)
	s := h.slack
	card, dm := h.open(t, bot)

	h.clock.Add(time.Minute)
	if !pollPD(t, bot) {
		t.Fatal("the first poll did not run")
	}
	if said(s, "Acknowledged in PagerDuty") != 0 {
		t.Fatal("acknowledged before anyone did")
	}
	if !h.pd.Acknowledge(h.pd.KeyFor("INC-1"), "PNORA01", "Nora Oncall") {
		t.Fatal("PagerDuty has no open incident for INC-1")
	}
	h.clock.Add(5 * time.Second)
	if pollPD(t, bot) {
		t.Fatal("polled again before PAGERDUTY_POLL (15s) passed")
	}
	h.clock.Add(10 * time.Second)
	if !pollPD(t, bot) {
		t.Fatal("did not poll after PAGERDUTY_POLL")
	}
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged in PagerDuty by Nora Oncall", "escalation has stopped"}})
	s.ExpectUpdated(t, card, "Nora Oncall (PagerDuty)", "stopped: acknowledged in PagerDuty by Nora Oncall")
	s.ExpectUpdated(t, dm, "Acknowledged in PagerDuty by Nora Oncall")
	noAckButton(t, s, dm)

	// Level 2 was due at 15 min: nobody more is paged.
	h.clock.Add(20 * time.Minute)
	tickEngine(t, bot)
	h.clock.Add(15 * time.Second)
	pollPD(t, bot)
	for _, m := range s.Messages() {
		if m.Channel == "DU2" || strings.Contains(m.Render(), "Paged level 2") {
			t.Fatalf("level 2 was paged after the ack in PagerDuty: %s", m.Render())
		}
	}
	if len(h.twilio.Sent()) != 0 {
		t.Fatalf("level 2's SMS went: %+v", h.twilio.Sent())
	}
	if ev := h.pd.Events(); len(ev) != 1 {
		t.Fatalf("an event went back to PagerDuty after its own ack: %+v", ev)
	}
	if n := said(s, "Acknowledged in PagerDuty by Nora Oncall:"); n != 1 {
		t.Fatalf("the ack was said %d times", n)
	}
	// `status` shows who leads; resolving here is still ours to do, and
	// resolves PagerDuty's incident.
	s.Command(t, "U1", "C1", "resolve INC-1 fixed")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"resolved INC-1"}})
	waitFor(t, func() bool { ev := h.pd.Events(); return len(ev) == 2 && ev[1].Action == "resolve" })
	// Resolved here: PagerDuty is not read for INC-1 any more.
	reads := len(h.pd.APIRequests())
	h.clock.Add(time.Minute)
	pollPD(t, bot)
	if got := len(h.pd.APIRequests()); got != reads {
		t.Fatalf("INC-1 was read from PagerDuty after it was resolved here (%d requests, %d before)", got, reads)
	}
}

// Resolved in PagerDuty while INC-1 is acknowledged here: said once in
// the thread, INC-1 stays open (the commander resolves it), and further
// polls neither repeat it nor read PagerDuty for INC-1 again.
func TestResolvedInPagerDutyIsSaidOnce(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	bot := h.start(t)
	s := h.slack
	card, _ := h.open(t, bot)
	s.Command(t, "U1", "C1", "ack INC-1")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"acknowledged INC-1"}})
	waitFor(t, func() bool { ev := h.pd.Events(); return len(ev) == 2 && ev[1].Action == "acknowledge" })
	h.clock.Add(time.Minute)
	pollPD(t, bot)
	if !h.pd.Resolve(h.pd.KeyFor("INC-1"), "PNORA01", "Nora Oncall") {
		t.Fatal("PagerDuty has no open incident for INC-1")
	}
	for range 4 {
		h.clock.Add(15 * time.Second)
		pollPD(t, bot)
	}
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Resolved in PagerDuty by Nora Oncall", "INC-1 stays open here", "<@U1>'s call"}})
	reads := len(h.pd.APIRequests())
	for range 3 {
		h.clock.Add(15 * time.Second)
		pollPD(t, bot)
	}
	if n := said(s, "Resolved in PagerDuty"); n != 1 {
		t.Fatalf("the resolve was said %d times", n)
	}
	if got := len(h.pd.APIRequests()); got != reads {
		t.Fatalf("INC-1 was read again after PagerDuty resolved it: %d requests, %d before", got, reads)
	}
	s.Command(t, "U1", "C1", "status INC-1")
	s.ExpectEphemeral(t, "U1", "INC-1")
	for _, m := range s.Messages() {
		if m.TS == card.TS && strings.Contains(m.Render(), "Resolved") && !strings.Contains(m.Render(), "Investigating") {
			t.Fatalf("INC-1 was resolved here by PagerDuty: %s", m.Render())
		}
	}
}

// A REST API key PagerDuty rejects is said once in the channel (at
// start-up), logged without the key, and polls go on without repeating
// it; the ladder still pages.
func TestRefusedPagerDutyKeyIsSaidOnce(t *testing.T) {
	t.Parallel()
	const badKey = "u+WrongRESTkey987654321"
	h := newPDHarness(t, badKey)
	bot := h.start(t)
	s := h.slack
	s.Expect(t, fakeslack.Match{Channel: "CINC", Contains: []string{"PagerDuty rejected PAGERDUTY_API_TOKEN (401", "not read here until PAGERDUTY_API_TOKEN is fixed"}})
	h.open(t, bot)
	for range 3 {
		h.clock.Add(11 * time.Minute) // the refused key is tried every 10 minutes
		pollPD(t, bot)
	}
	if n := said(s, "rejected PAGERDUTY_API_TOKEN"); n != 1 {
		t.Fatalf("the refusal was said %d times", n)
	}
	var tries int
	for _, r := range h.pd.APIRequests() {
		if r.Authorized {
			t.Fatalf("request authorized with a wrong key: %+v", r)
		}
		tries++
	}
	if tries < 3 {
		t.Fatalf("the key was tried %d times", tries)
	}
	logs := bot.Logs.String()
	if !strings.Contains(logs, "PagerDuty rejected PAGERDUTY_API_TOKEN (401") || strings.Contains(logs, badKey) {
		t.Fatalf("logs should say the refusal without the key:\n%s", logs)
	}
	// The key is fixed and the bot restarted: it reads PagerDuty at once,
	// not ten minutes later, and says nothing more about the old key.
	bot.Stop()
	h.env["PAGERDUTY_API_TOKEN"] = h.pd.APIToken
	fixed := h.start(t)
	waitFor(t, func() bool { return strings.Contains(fixed.Logs.String(), "answers PAGERDUTY_API_TOKEN again") })
	h.pd.Acknowledge(h.pd.KeyFor("INC-1"), "PNORA01", "Nora Oncall")
	if !pollPD(t, fixed) {
		t.Fatal("the fixed key waits for the refused key's retry")
	}
	s.Expect(t, fakeslack.Match{Channel: "CINC", Contains: []string{"Acknowledged in PagerDuty by Nora Oncall"}})
	if n := said(s, "rejected PAGERDUTY_API_TOKEN"); n != 1 {
		t.Fatalf("the refusal was said %d times", n)
	}
}

// A 403 (a key without access to incidents) is said too, in its words.
func TestPagerDutyKeyWithoutAccessIsSaid(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	h.env["PAGERDUTY_API_TOKEN"] = h.pd.NoAccessToken
	h.start(t)
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Contains: []string{"refused PAGERDUTY_API_TOKEN access to incidents (403"}})
}

// PagerDuty's 429 is waited out: no read before its ratelimit-reset (30 s)
// and the doubled interval, then the ack is read and followed.
func TestPagerDutyRateLimitIsWaitedOut(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	bot := h.start(t)
	card, _ := h.open(t, bot)
	h.pd.Acknowledge(h.pd.KeyFor("INC-1"), "PNORA01", "Nora Oncall")
	h.pd.RateLimitAPI(1)
	h.clock.Add(time.Minute)
	pollPD(t, bot)
	before := len(h.pd.APIRequests())
	h.clock.Add(20 * time.Second)
	if pollPD(t, bot) || len(h.pd.APIRequests()) != before {
		t.Fatal("read PagerDuty again within its ratelimit-reset")
	}
	h.clock.Add(15 * time.Second)
	if !pollPD(t, bot) {
		t.Fatal("never read PagerDuty again after the 429")
	}
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged in PagerDuty by Nora Oncall"}})
	if !strings.Contains(bot.Logs.String(), "waiting it out") {
		t.Fatal("the 429 was not logged")
	}
}

// Two replicas poll at once, again and again: PagerDuty is read once per
// interval, and the ack and the resolve are each said exactly once.
func TestPagerDutyReadBackIsExactlyOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	a := h.start(t)
	b := h.start(t)
	card, _ := h.open(t, a)
	h.pd.Acknowledge(h.pd.KeyFor("INC-1"), "PNORA01", "Nora Oncall")
	var polls sync.Map
	round := func(r int) {
		var wg sync.WaitGroup
		for i, bot := range []*apptest.Bot{a, b, a, b} {
			wg.Go(func() {
				if ok, err := bot.PagerDuty.Tick(context.Background()); err == nil && ok {
					if _, dup := polls.LoadOrStore(r, i); dup {
						t.Errorf("round %d polled twice", r)
					}
				}
			})
		}
		wg.Wait()
	}
	for r := range 4 {
		h.clock.Add(15 * time.Second)
		round(r)
		if r == 1 {
			h.pd.Resolve(h.pd.KeyFor("INC-1"), "PNORA01", "Nora Oncall")
		}
	}
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged in PagerDuty by Nora Oncall"}})
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Resolved in PagerDuty by Nora Oncall"}})
	tickEngine(t, b)
	if n := said(h.slack, "Acknowledged in PagerDuty by Nora Oncall:"); n != 1 {
		t.Fatalf("the ack was said %d times", n)
	}
	if n := said(h.slack, "Resolved in PagerDuty"); n != 1 {
		t.Fatalf("the resolve was said %d times", n)
	}
	if ev := h.pd.Events(); len(ev) != 1 {
		t.Fatalf("events sent back to PagerDuty: %+v", ev)
	}
}

// Someone resolves in PagerDuty without acknowledging: someone is on it,
// so INC-1 is acknowledged here by them (their name shown as text, never
// a mention) and the ladder stops; the resolve is said once.
func TestResolvedInPagerDutyBeforeAnAckAcknowledges(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	bot := h.start(t)
	card, _ := h.open(t, bot)
	h.pd.Resolve(h.pd.KeyFor("INC-1"), "PEVE001", "Eve <!channel>")
	h.clock.Add(time.Minute)
	pollPD(t, bot)
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged in PagerDuty by Eve &lt;!channel&gt;"}})
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Resolved in PagerDuty by Eve &lt;!channel&gt;", "INC-1 stays open here"}})
	h.clock.Add(20 * time.Minute)
	tickEngine(t, bot)
	if len(h.twilio.Sent()) != 0 || said(h.slack, "Paged level 2") != 0 {
		t.Fatal("level 2 was paged after the incident was resolved in PagerDuty")
	}
}

// A PagerDuty incident with our key from before INC-1 opened (a Redis
// that forgot its incident numbers) is someone else's: its ack and
// resolve are not taken for INC-1's.
func TestOldPagerDutyIncidentWithOurKeyIsIgnored(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	h.pd.OpenIncident("INC-1", "triggered", h.clock.Now().Add(-72*time.Hour))
	h.pd.Resolve(h.pd.KeyFor("INC-1"), "POLD001", "Old Timer")
	bot := h.start(t)
	card, _ := h.open(t, bot)
	h.clock.Add(time.Minute)
	pollPD(t, bot)
	h.pd.Acknowledge(h.pd.KeyFor("INC-1"), "PNORA01", "Nora Oncall")
	h.clock.Add(15 * time.Second)
	pollPD(t, bot)
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged in PagerDuty by Nora Oncall"}})
	if n := said(h.slack, "Old Timer"); n != 0 {
		t.Fatalf("the old incident was taken for INC-1's (%d mentions)", n)
	}
}

// The read-back loop runs on its own (not driven by the test) and panics
// once: the guard logs it, says it once, and the loop carries on to read
// the ack.
func TestPagerDutyReadBackLoopSurvivesAPanic(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	p := &panicOnce{seen: map[string]bool{}}
	bot := apptest.Start(t, apptest.Spec{Slack: h.slack, Prefix: h.prefix, Env: h.env, Options: app.Options{
		Manual: app.Loops{Engine: true}, Now: h.clock.Now,
		PanicHook: func(job string) {
			if job == "PagerDuty read-back" || job == "PagerDuty key check" {
				p.hook(job)
			}
		}}})
	card, _ := h.open(t, bot)
	if !p.saw("PagerDuty read-back") {
		t.Fatal("the read-back loop never ran")
	}
	h.pd.Acknowledge(h.pd.KeyFor("INC-1"), "PNORA01", "Nora Oncall")
	h.clock.Add(time.Minute)
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged in PagerDuty by Nora Oncall"}})
	if !strings.Contains(bot.Logs.String(), "injected failure in PagerDuty read-back") {
		t.Fatal("the panic was not logged")
	}
}

// PAGERDUTY_API_TOKEN without a routing key, a poll below 5 s and a bad
// URL are said at start-up, all at once, without the key.
func TestPagerDutyAPIConfigIsChecked(t *testing.T) {
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "PAGERDUTY_API_TOKEN": "u+secretRESTkey",
		"PAGERDUTY_POLL": "1s", "PAGERDUTY_API_URL": "api.pagerduty.com"}
	_, err := app.Load(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("Load accepted it")
	}
	for _, want := range []string{"set PAGERDUTY_ROUTING_KEY too", `PAGERDUTY_POLL "1s" must be at least 5s`, "PAGERDUTY_API_URL must be an http(s) URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "u+secretRESTkey") {
		t.Fatalf("the error shows the key: %v", err)
	}
	env["PAGERDUTY_ROUTING_KEY"], env["PAGERDUTY_POLL"], env["PAGERDUTY_API_URL"] = "k", "", ""
	cfg, err := app.Load(func(k string) string { return env[k] })
	if err != nil || cfg.PagerDutyPoll != 15*time.Second || cfg.PagerDutyAPIURL != "https://api.pagerduty.com" {
		t.Fatalf("defaults: %v %v %q", err, cfg.PagerDutyPoll, cfg.PagerDutyAPIURL)
	}
}

// A refusal is forgotten as soon as PagerDuty answers again, even with no
// incident watched: access lifted while nothing was open clears it, so
// losing access a second time is said a second time.
func TestPagerDutyRefusalFixedWhileNothingIsWatchedIsSaidAgain(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	bot := h.start(t)
	s := h.slack
	h.open(t, bot)
	h.pd.DenyAccess(true)
	h.clock.Add(time.Minute)
	pollPD(t, bot)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Contains: []string{"refused PAGERDUTY_API_TOKEN access to incidents (403"}})
	s.Command(t, "U1", "C1", "resolve INC-1 fixed")
	s.ExpectMessage(t, "CINC", "Resolved")
	h.pd.DenyAccess(false) // fixed in PagerDuty, nothing watched any more
	h.clock.Add(11 * time.Minute)
	pollPD(t, bot)
	waitFor(t, func() bool { return strings.Contains(bot.Logs.String(), "answers PAGERDUTY_API_TOKEN again") })
	h.pd.DenyAccess(true) // and broken again
	s.Command(t, "U1", "C1", "open outage P1 Checkout failing")
	s.ExpectMessage(t, "CINC", "INC-2 · Checkout failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-2*")
	tickEngine(t, bot)
	h.clock.Add(time.Minute)
	pollPD(t, bot)
	waitFor(t, func() bool { return said(s, "refused PAGERDUTY_API_TOKEN access to incidents (403") == 2 })
}

// Staging and prod share one PagerDuty service, each with its own Redis
// (or prefix) and each with an INC-1: their dedup_keys differ (INC-1@
// the install's ID), so neither re-triggers, acknowledges or reads back
// the other's; Nora's ack of prod's INC-1 acknowledges prod's alone.
func TestTwoInstallsSharingPagerDutyKeepTheirIncidentsApart(t *testing.T) {
	t.Parallel()
	prod := newPDHarness(t, "")
	staging := newPDHarness(t, "")
	staging.pd = prod.pd
	for _, k := range []string{"PAGERDUTY_ROUTING_KEY", "PAGERDUTY_EVENTS_URL", "PAGERDUTY_API_TOKEN", "PAGERDUTY_API_URL"} {
		staging.env[k] = prod.env[k]
	}
	staging.pd.SetClock(staging.clock.Now)
	a := prod.start(t)
	prod.open(t, a)
	b := staging.start(t)
	staging.slack.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	staging.slack.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	tickEngine(t, b)
	ev := prod.pd.Events()
	if len(ev) != 2 || ev[0].DedupKey == ev[1].DedupKey || !strings.HasPrefix(ev[1].DedupKey, "INC-1@") {
		t.Fatalf("two installs' INC-1 triggered %+v", ev)
	}
	prod.pd.Acknowledge(ev[0].DedupKey, "PNORA01", "Nora Oncall")
	for _, h := range []*pdHarness{prod, staging} {
		h.clock.Add(time.Minute)
		pollPD(t, h.bots[0])
	}
	prod.slack.Expect(t, fakeslack.Match{Channel: "CINC", Contains: []string{"Acknowledged in PagerDuty by Nora Oncall"}})
	if n := said(staging.slack, "Acknowledged in PagerDuty"); n != 0 {
		t.Fatal("staging's INC-1 took prod's ack")
	}
}

// An incident open when the bot is upgraded was triggered under the bare
// INC-n: it keeps that key, so the read-back still finds its PagerDuty
// incident and the resolve here resolves it there.
func TestIncidentTriggeredBeforeTheUpgradeKeepsItsBareKey(t *testing.T) {
	t.Parallel()
	h := newPDHarness(t, "")
	bot := h.start(t)
	s := h.slack
	s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	// What the release before left: PagerDuty triggered with INC-1, the
	// trigger marker, the read-back's watch entry.
	rdb, _ := redistest.Client(t)
	ctx := context.Background()
	h.pd.OpenIncident("INC-1", "triggered", h.clock.Now())
	rdb.Set(ctx, h.prefix+"escalation:INC-1:pagerduty", 1, time.Hour)
	rdb.ZAdd(ctx, h.prefix+"escalation:pagerduty:watch", redis.Z{Score: float64(h.clock.Now().UnixMilli()), Member: "INC-1"})
	h.pd.Acknowledge("INC-1", "PNORA01", "Nora Oncall")
	h.clock.Add(time.Minute)
	pollPD(t, bot)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged in PagerDuty by Nora Oncall"}})
	s.Command(t, "U1", "C1", "resolve INC-1 fixed")
	waitFor(t, func() bool {
		ev := h.pd.Events()
		return len(ev) > 0 && ev[len(ev)-1].Action == "resolve" && ev[len(ev)-1].DedupKey == "INC-1"
	})
}
