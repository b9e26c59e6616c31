package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

const (
	alicePhone = "+15550000001"
	danPhone   = "+15550000004"
	bobPhone   = "+15550000002"
)

// poll lets TWILIO_REPLY_POLL (10 s) pass and runs the sweep, which
// reads the replies.
func (h *pagingHarness) poll(t *testing.T) {
	t.Helper()
	h.clock.Add(10 * time.Second)
	h.bot.Sweep(context.Background())
}

// texts are the SMS the bot sent to a number that contain part.
func (h *pagingHarness) texts(to, part string) int {
	n := 0
	for _, s := range h.twilio.Sent() {
		if s.Kind == "sms" && s.To == to && strings.Contains(s.Body, part) {
			n++
		}
	}
	return n
}

// waitTexts waits until n texts to a number contain part (answers go
// out in the background).
func (h *pagingHarness) waitTexts(t *testing.T, to, part string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); h.texts(to, part) != n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d texts to %s with %q, want %d: %+v", h.texts(to, part), to, part, n, h.twilio.Sent())
		}
	}
}

func (h *pagingHarness) openAndPage(t *testing.T) *fakeslack.Message {
	t.Helper()
	s := h.slack
	s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := s.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1", "<@U1> (Slack, SMS)"}})
	return card
}

// The paged on-call engineer answers the text with "Ack": the incident is
// acknowledged as them, by SMS, on the card, in the thread and in the
// page DM, the ladder stops as after a Slack ack (no call to the lead,
// no PagerDuty), and they get a confirmation. A stranger's "ack" before
// it changed nothing and was not answered; a late "1" from the other
// on-call engineer is told who has it. Each reply is acted on once.
func TestSMSAckFromAPagedPhoneStopsTheLadder(t *testing.T) {
	t.Parallel()
	h := startPaging(t, phoneContacts)
	s := h.slack
	card := h.openAndPage(t)
	h.clock.Add(20 * time.Second)
	h.twilio.Reply("+15559990000", h.twilio.From, "ack INC-1 private words")
	h.poll(t)
	if n := h.texts("+15559990000", ""); n != 0 {
		t.Fatalf("answered a stranger %d times", n)
	}
	if logs := h.bot.Logs.String(); !strings.Contains(logs, "not in contacts.yml") || strings.Contains(logs, "private words") || strings.Contains(logs, "+15559990000") {
		t.Fatalf("stranger's reply logged as:\n%s", logs)
	}
	h.clock.Add(20 * time.Second)
	h.twilio.Reply(alicePhone, h.twilio.From, "Ack")
	h.poll(t)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged by Alice by SMS", "INC-1"}})
	s.ExpectUpdated(t, card, "Acknowledged by Alice by SMS")
	s.Expect(t, fakeslack.Match{Channel: "DU1", Contains: []string{"Acknowledged by Alice by SMS"}})
	h.waitTexts(t, alicePhone, "Acknowledged INC-1: you are leading it", 1)
	h.clock.Add(15 * time.Minute)
	h.tick()
	if h.sent("call", bobPhone) != 0 || len(h.pd.Events()) != 0 {
		t.Fatalf("paged level 2 after the SMS ack: %+v, PagerDuty %+v", h.twilio.Sent(), h.pd.Events())
	}
	h.twilio.Reply(danPhone, h.twilio.From, "1")
	h.poll(t)
	h.waitTexts(t, danPhone, "INC-1 was already acknowledged by Alice. Nothing changed.", 1)
	h.poll(t)
	time.Sleep(100 * time.Millisecond) // an answer to a second reading would go out now
	if n := h.texts(danPhone, "INC-1 was already acknowledged by Alice. Nothing changed."); n != 1 {
		t.Fatalf("Dan told %d times: %+v", n, h.twilio.Sent())
	}
	if n := h.texts(alicePhone, "Acknowledged INC-1"); n != 1 {
		t.Fatalf("Alice's reply acted on %d times", n)
	}
	_, body := scrape(t, h.bot.HTTPAddr, "")
	for _, want := range []string{`clerk_incident_sms_replies_total{outcome="stranger"} 1`, `clerk_incident_sms_replies_total{outcome="ack"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// "esc" pages the next level now, bounded as /clerk-incident escalate
// is: a second one within a minute is refused and pages nobody. Words
// the bot does not know get one short help text (one a minute), and an
// incident not paged to this phone is not acted on.
func TestSMSEscalateIsBoundedAndOtherWordsGetHelp(t *testing.T) {
	t.Parallel()
	h := startPaging(t, phoneContacts)
	s := h.slack
	card := h.openAndPage(t)
	h.twilio.Reply(danPhone, h.twilio.From, "who is this?")
	h.twilio.Reply(danPhone, h.twilio.From, "hello")
	h.poll(t)
	h.waitTexts(t, danPhone, "Reply ACK to acknowledge INC-1, ESC to escalate", 2) // the page and one help text
	h.twilio.Reply(danPhone, h.twilio.From, "ack INC-7")
	h.poll(t)
	h.waitTexts(t, danPhone, "INC-7 was not paged to this phone", 1)
	if n := h.texts(danPhone, "Reply ACK to acknowledge INC-1, ESC to escalate"); n != 2 {
		t.Fatalf("a second help text within a minute: %+v", h.twilio.Sent())
	}
	h.twilio.Reply(danPhone, h.twilio.From, "ESC")
	h.poll(t)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Dan asked by SMS to escalate INC-1: paging level 2 (Bob) now"}})
	h.tick()
	h.waitTexts(t, danPhone, "Paging level 2 (Bob) of INC-1 now.", 1)
	if h.sent("call", bobPhone) != 1 {
		t.Fatalf("after esc: %+v", h.twilio.Sent())
	}
	h.clock.Add(10 * time.Second)
	h.twilio.Reply(danPhone, h.twilio.From, "esc INC-1")
	h.poll(t)
	h.tick()
	h.waitTexts(t, danPhone, "Level 2 (Bob) of INC-1 was paged by a manual escalation at 03:00:30 UTC; the next is possible at 03:01:30 UTC. Nothing changed.", 1)
	if h.sent("call", bobPhone) != 1 {
		t.Fatalf("second esc: %+v", h.twilio.Sent())
	}
}

// A lead's phone that goes to voicemail is not an answer: the call asked
// for answering-machine detection, its status is read every 10 s while it
// rings, and "did not pick up: voicemail" is said once, within 30 s of
// the call ending.
func TestVoicemailIsNotAnAnswer(t *testing.T) {
	t.Parallel()
	h := startPaging(t, phoneContacts)
	s := h.slack
	h.twilio.ScriptCall(bobPhone, "ringing", "ringing", "in-progress", "completed:machine_end_beep")
	card := h.openAndPage(t)
	h.clock.Add(15 * time.Minute)
	h.tick()
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2", "<@U2> (Slack, call)"}})
	asked := false
	for _, r := range h.twilio.Requests() {
		asked = asked || (strings.HasSuffix(r.Path, "/Calls.json") && r.Form.Get("MachineDetection") == "Enable")
	}
	if !asked {
		t.Fatal("the call did not ask for answering-machine detection")
	}
	for i := range 4 {
		h.clock.Add(10 * time.Second)
		h.tick()
		if n := h.twilio.CallReads(); n != i+1 {
			t.Fatalf("after %d s the call was read %d times", 10*(i+1), n)
		}
	}
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"<@U2> did not pick up: voicemail"}})
	for range 5 {
		h.clock.Add(10 * time.Second)
		h.tick()
	}
	said := 0
	for _, m := range s.Messages() {
		said += strings.Count(m.Text, "did not pick up")
	}
	if said != 1 || h.twilio.CallReads() != 4 {
		t.Fatalf("said %d times, %d reads", said, h.twilio.CallReads())
	}
}

// With a Messaging Service as TWILIO_FROM, replies are read from the
// numbers TWILIO_REPLY_NUMBERS names, and answered through the service.
func TestSMSRepliesThroughAMessagingService(t *testing.T) {
	t.Parallel()
	h := startPaging(t, phoneContacts, map[string]string{"TWILIO_FROM": messagingService, "TWILIO_CALLER_ID": "+15550000099",
		"TWILIO_REPLY_NUMBERS": "+15550000098"})
	card := h.openAndPage(t)
	if !strings.Contains(h.twilio.Sent()[0].Body, "Reply ACK to acknowledge INC-1") {
		t.Fatalf("SMS %q", h.twilio.Sent()[0].Body)
	}
	h.twilio.Reply(alicePhone, "+15550000098", "ack INC-1")
	h.poll(t)
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Acknowledged by Alice by SMS"}})
	h.waitTexts(t, alicePhone, "Acknowledged INC-1", 1)
	for _, s := range h.twilio.Sent() {
		if s.To == alicePhone && strings.Contains(s.Body, "Acknowledged INC-1") && s.From != messagingService {
			t.Fatalf("answered from %s, not the service", s.From)
		}
	}
}
