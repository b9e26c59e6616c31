package app_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

const phoneContacts = `contacts:
  on_call:
    - {name: Alice, slack_id: U1, phone: "+15550000001"}
    - {name: Dan, slack_id: U4, phone: "+15550000004"}
  leads:
    - {name: Bob, slack_id: U2, phone: "+15550000002"}
  escalation:
    - {level: 1, contact: on_call, time: 0-15 min, via: [slack, sms]}
    - {level: 2, contact: Bob, time: 15+ min, via: [slack, call, pagerduty]}
policy: {repeat_every: 1h, repeat_times: 0}
`

type pagingHarness struct {
	slack  *fakeslack.Server
	twilio *fakepaging.Twilio
	pd     *fakepaging.PagerDuty
	clock  *testClock
	tick   func()
	bot    *apptest.Bot
}

func startPaging(t *testing.T, contacts string, extra ...map[string]string) *pagingHarness {
	t.Helper()
	h := &pagingHarness{slack: fakeslack.New(), twilio: fakepaging.NewTwilio(), pd: fakepaging.NewPagerDuty(),
		clock: &testClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}}
	t.Cleanup(h.slack.Close)
	t.Cleanup(h.twilio.Close)
	t.Cleanup(h.pd.Close)
	checkSpec(t, "PagerDuty", h.pd.SpecErrors)
	checkSpec(t, "Twilio", h.twilio.SpecErrors)
	for id, name := range map[string]string{"U1": "alice", "U2": "bob", "U4": "dan"} {
		h.slack.AddUser(id, name)
	}
	path := t.TempDir() + "/contacts.yml"
	if err := os.WriteFile(path, []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CONTACTS_FILE": path, "SLACK_CHANNEL_ID": "CINC", "UPDATE_REMINDER": "off",
		"TWILIO_ACCOUNT_SID": h.twilio.SID, "TWILIO_AUTH_TOKEN": h.twilio.Token, "TWILIO_FROM": h.twilio.From, "TWILIO_API_URL": h.twilio.URL(),
		"PAGERDUTY_ROUTING_KEY": h.pd.Key, "PAGERDUTY_EVENTS_URL": h.pd.URL(),
	}
	for _, m := range extra {
		for k, v := range m {
			env[k] = v
		}
	}
	h.twilio.SetClock(h.clock.Now)
	bot := apptest.Start(t, apptest.Spec{Slack: h.slack, Prefix: redistest.Prefix(), Env: env, Options: app.Options{Manual: app.Loops{Engine: true, Sweep: true}, Now: h.clock.Now}})
	h.bot = bot
	t.Cleanup(func() {
		if t.Failed() {
			logs := bot.Logs.String()
			t.Logf("bot logs (last 4000 bytes):\n%s", logs[max(0, len(logs)-4000):])
		}
	})
	h.tick = func() {
		t.Helper()
		if _, err := bot.Engine.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *pagingHarness) sent(kind, to string) int {
	n := 0
	for _, s := range h.twilio.Sent() {
		if s.Kind == kind && s.To == to {
			n++
		}
	}
	return n
}

// Level 1 pages by Slack and SMS, level 2 by Slack, a call and PagerDuty:
// exactly those go out, on time; an ack acknowledges in PagerDuty and
// stops the rest; resolving resolves it there.
func TestLadderPagesPhonesAndPagerDuty(t *testing.T) {
	t.Parallel()
	h := startPaging(t, phoneContacts)
	s := h.slack
	s.Command(t, "U1", "C1", "contacts")
	s.ExpectEphemeral(t, "U1", "1. on_call · 0-15 min · <@U1>, <@U4> · by Slack, SMS", "2. Bob · 15+ min · <@U2> · by Slack, call, PagerDuty")
	s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*") // the ladder has started
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1", "<@U1> (Slack, SMS)", "<@U4> (Slack, SMS)"}})
	if h.sent("sms", "+15550000001") != 1 || h.sent("sms", "+15550000004") != 1 || len(h.twilio.Sent()) != 2 || len(h.pd.Events()) != 0 {
		t.Fatalf("level 1 sent %+v and %d PagerDuty events", h.twilio.Sent(), len(h.pd.Events()))
	}
	sms := h.twilio.Sent()[0].Body
	if !strings.Contains(sms, "INC-1 P1 outage: Sign-in failing") || !strings.Contains(sms, "Reply ACK to acknowledge INC-1, ESC to escalate.") ||
		strings.Contains(sms, "clerk-incident-bot do") || len([]rune(sms)) > 320 {
		t.Fatalf("SMS %q", sms)
	}
	h.clock.Add(14 * time.Minute)
	h.tick()
	if len(h.twilio.Sent()) != 2 {
		t.Fatal("level 2 paged before its time")
	}
	h.clock.Add(time.Minute)
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2", "<@U2> (Slack, call), PagerDuty"}})
	if h.sent("call", "+15550000002") != 1 || len(h.twilio.Sent()) != 3 {
		t.Fatalf("level 2 sent %+v", h.twilio.Sent())
	}
	if call := h.twilio.Sent()[2].Body; strings.Count(call, "<Say>") != 2 || !strings.Contains(call, "Text ACK to 1 5 5 5 0 0 0 0 0 0 0 to acknowledge INC-1, ESC to escalate.") {
		t.Fatalf("call TwiML %q", call)
	}
	ev := h.pd.Events()
	if len(ev) != 1 || ev[0].Action != "trigger" || !strings.HasPrefix(ev[0].DedupKey, "INC-1@") || ev[0].Severity != "critical" || ev[0].Source != "clerk-incident-bot" ||
		!strings.Contains(ev[0].Link, "slack.com/archives/CINC/p") {
		t.Fatalf("PagerDuty %+v", ev)
	}
	s.Command(t, "U2", "C1", "ack")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"acknowledged INC-1"}})
	h.clock.Add(2 * time.Hour)
	h.tick()
	if ev := h.pd.Events(); len(ev) != 2 || ev[1].Action != "acknowledge" || ev[1].DedupKey != ev[0].DedupKey {
		t.Fatalf("after ack %+v", ev)
	}
	if len(h.twilio.Sent()) != 3 {
		t.Fatal("paged after the ack")
	}
	s.Command(t, "U2", "C1", "resolve fixed")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"resolved INC-1"}})
	waitFor(t, func() bool { ev := h.pd.Events(); return len(ev) == 3 && ev[2].Action == "resolve" })
}

// Twilio refusing one person's number (21211): that SMS is reported in
// the thread, everyone else is paged, and the next level follows on time.
func TestAnInvalidNumberDoesNotHoldTheLadder(t *testing.T) {
	h := startPaging(t, phoneContacts)
	h.twilio.Refuse("+15550000004", 21211)
	s := h.slack
	s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*") // the ladder has started
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1", "<@U1> (Slack, SMS)", "<@U4> (Slack)",
		"Could not reach <@U4>: SMS: Twilio says the phone number is not valid (21211)"}})
	s.Expect(t, fakeslack.Match{Channel: "DU4", Contains: []string{"INC-1"}})
	if h.sent("sms", "+15550000001") != 1 {
		t.Fatal("Alice's SMS did not go")
	}
	h.clock.Add(15 * time.Minute)
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2", "<@U2> (Slack, call), PagerDuty"}})
}

// A placeholder phone on an SMS level stops start-up, naming the file,
// the line and the person.
func TestPlaceholderPhoneOnAnSMSLevelFailsStartUp(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	path := t.TempDir() + "/contacts.yml"
	src := strings.Replace(phoneContacts, `phone: "+15550000004"`, `phone: "+1-xxx-xxx-xxxx"`, 1)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": fs.BotToken, "SLACK_APP_TOKEN": fs.AppToken, "SLACK_API_URL": fs.APIURL(),
		"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": redistest.Prefix(), "HTTP_ADDR": "127.0.0.1:0", "STATUS_POLL_SCHEDULE": "off",
		"CONTACTS_FILE": path, "TWILIO_ACCOUNT_SID": tw.SID, "TWILIO_AUTH_TOKEN": tw.Token, "TWILIO_FROM": tw.From, "PAGERDUTY_ROUTING_KEY": "k"}
	cfg, err := app.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = app.Run(ctx, cfg, app.Options{Stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "Dan") ||
		!strings.Contains(err.Error(), "placeholder") {
		t.Fatalf("err = %v", err)
	}
	// A level asking for SMS without Twilio settings says which to set.
	delete(env, "TWILIO_ACCOUNT_SID")
	delete(env, "TWILIO_AUTH_TOKEN")
	delete(env, "TWILIO_FROM")
	if err := os.WriteFile(path, []byte(phoneContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _ = app.Load(func(k string) string { return env[k] })
	err = app.Run(ctx, cfg, app.Options{Stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM") {
		t.Fatalf("err = %v", err)
	}
}

const messagingService = "MG0123456789abcdef0123456789abcdef"

// A Messaging Service SID only sends messages: Twilio refuses every call
// from it (21212). A call level with TWILIO_FROM=MG… and no
// TWILIO_CALLER_ID stops start-up, listed with the other problems; a
// caller ID that is not a number is refused too.
func TestCallsFromAMessagingServiceFailStartUp(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	path := t.TempDir() + "/contacts.yml"
	if err := os.WriteFile(path, []byte(phoneContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": fs.BotToken, "SLACK_APP_TOKEN": fs.AppToken, "SLACK_API_URL": fs.APIURL(),
		"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": redistest.Prefix(), "HTTP_ADDR": "127.0.0.1:0", "STATUS_POLL_SCHEDULE": "off",
		"CONTACTS_FILE": path, "TWILIO_ACCOUNT_SID": tw.SID, "TWILIO_AUTH_TOKEN": tw.Token, "TWILIO_FROM": messagingService}
	cfg, err := app.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = app.Run(ctx, cfg, app.Options{Stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "level(s) [2] page by call") || !strings.Contains(err.Error(), "set TWILIO_CALLER_ID") ||
		!strings.Contains(err.Error(), "set PAGERDUTY_ROUTING_KEY") || strings.Contains(err.Error(), tw.Token) {
		t.Fatalf("err = %v", err)
	}
	env["TWILIO_CALLER_ID"] = messagingService
	if _, err := app.Load(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "TWILIO_CALLER_ID") || !strings.Contains(err.Error(), "E.164") {
		t.Fatalf("caller ID not a number: %v", err)
	}
	// The numbers replies are read from must be numbers too.
	env["TWILIO_CALLER_ID"] = "+15550000099"
	env["TWILIO_REPLY_NUMBERS"] = "+15550000098, 555-0100"
	env["TWILIO_REPLY_POLL"] = "500ms"
	_, err = app.Load(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), `TWILIO_REPLY_NUMBERS: "555-0100" is not a phone number in E.164 form`) || !strings.Contains(err.Error(), "TWILIO_REPLY_POLL must be at least 1s") {
		t.Fatalf("reply settings: %v", err)
	}
	env["TWILIO_REPLY_NUMBERS"], env["TWILIO_REPLY_POLL"] = "+15550000098,+15550000097", "off"
	if cfg, err := app.Load(func(k string) string { return env[k] }); err != nil || len(cfg.TwilioReplyNumbers) != 2 || cfg.TwilioReplyPoll != 0 {
		t.Fatalf("reply settings: %+v %v", cfg.TwilioReplyNumbers, err)
	}
}

// With TWILIO_FROM a Messaging Service, SMS go through it and calls come
// from TWILIO_CALLER_ID. Twilio's 201 only queues a call: its status is
// read afterwards, and a call nobody answered is said once in the thread.
func TestUnansweredCallIsSaidInTheThread(t *testing.T) {
	t.Parallel()
	h := startPaging(t, phoneContacts, map[string]string{"TWILIO_FROM": messagingService, "TWILIO_CALLER_ID": "+15550000099"})
	h.twilio.ScriptCall("+15550000002", "ringing", "no-answer")
	s := h.slack
	s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	h.tick()
	h.clock.Add(15 * time.Minute)
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2", "<@U2> (Slack, call), PagerDuty"}})
	sent := h.twilio.Sent()
	if len(sent) != 3 || sent[0].From != messagingService || sent[2].Kind != "call" || sent[2].From != "+15550000099" {
		t.Fatalf("sent %+v", sent)
	}
	// Without TWILIO_REPLY_NUMBERS the numbers replies come to are
	// unknown: replies are off, said once at start-up, and texts say to
	// acknowledge in Slack.
	if logs := h.bot.Logs.String(); strings.Count(logs, "SMS replies are off") != 1 || !strings.Contains(logs, "TWILIO_REPLY_NUMBERS") {
		t.Fatalf("start-up said:\n%s", logs)
	}
	if !strings.Contains(sent[0].Body, "Acknowledge INC-1 in Slack") || strings.Contains(sent[0].Body, "Reply ACK") {
		t.Fatalf("SMS %q", sent[0].Body)
	}
	h.tick() // nothing is read at once
	if n := h.twilio.CallReads(); n != 0 {
		t.Fatalf("read the call %d times at once", n)
	}
	h.clock.Add(10 * time.Second)
	h.tick()
	if n := h.twilio.CallReads(); n != 1 {
		t.Fatalf("call read %d times; want 1 (ringing)", n)
	}
	h.clock.Add(10 * time.Second)
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"<@U2> did not pick up: no answer"}})
	for range 3 {
		h.clock.Add(time.Minute)
		h.tick()
	}
	if n := h.twilio.CallReads(); n != 2 {
		t.Fatalf("call read %d times after it ended; want 2", n)
	}
	said := 0
	for _, m := range s.Messages() {
		said += strings.Count(m.Text, "did not pick up")
	}
	if said != 1 {
		t.Fatalf("said %d times", said)
	}
}

// PagerDuty's 429: the trigger is tried again 30 s later, as PagerDuty
// suggests, not at once (its limit counts the last 60 s); the people are
// paged meanwhile and the thread line follows once PagerDuty took it.
func TestPagerDutyRateLimitIsRetriedThirtySecondsLater(t *testing.T) {
	h := startPaging(t, phoneContacts)
	s := h.slack
	s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	h.tick()
	h.pd.RateLimit(1)
	h.clock.Add(15 * time.Minute)
	h.tick()
	if ev := h.pd.Events(); len(ev) != 0 || h.sent("call", "+15550000002") != 1 {
		t.Fatalf("after a 429: PagerDuty %+v, calls %d", ev, h.sent("call", "+15550000002"))
	}
	h.clock.Add(29 * time.Second)
	h.tick()
	if ev := h.pd.Events(); len(ev) != 0 {
		t.Fatalf("retried before 30 s: %+v", ev)
	}
	h.clock.Add(time.Second)
	h.tick()
	if ev := h.pd.Events(); len(ev) != 1 || ev[0].Action != "trigger" || h.sent("call", "+15550000002") != 1 {
		t.Fatalf("after 30 s: PagerDuty %+v, calls %d", ev, h.sent("call", "+15550000002"))
	}
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2", "<@U2> (Slack, call), PagerDuty"}})
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
