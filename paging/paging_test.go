package paging_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
)

// Twilio's refusals become sentences with the right code: a wrong or
// unverified number never changes on retry, a 429 may.
func TestTwilioErrorsAreSentences(t *testing.T) {
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	c := paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		code int
		want string
		kind apperr.Code
	}{
		{21211, "not valid (21211)", apperr.Invalid},
		{21608, "unverified number from a trial account (21608)", apperr.Invalid},
		{20429, "rate limiting", apperr.UnavailableRemote},
	} {
		tw.Refuse("+15550000009", tc.code)
		err := c.SMS(ctx, "+15550000009", "hello")
		if err == nil || !strings.Contains(apperr.MessageOf(err), tc.want) || apperr.CodeOf(err) != tc.kind {
			t.Errorf("code %d: %v (%s)", tc.code, err, apperr.CodeOf(err))
		}
	}
	bad := paging.NewTwilio(tw.URL(), tw.SID, "wrong-token", tw.From, nil)
	if _, err := bad.Call(ctx, "+15550000001", "hello"); err == nil || !strings.Contains(apperr.MessageOf(err), "20003") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("bad credentials: %v", err)
	}
	if _, err := c.Call(ctx, "+15550000001", "INC-1 <P1> & more"); err != nil {
		t.Fatal(err)
	}
	if s := tw.Sent(); len(s) != 1 || s[0].Kind != "call" || !strings.Contains(s[0].Body, "INC-1 &lt;P1&gt; &amp; more") {
		t.Fatalf("call %+v", s)
	}
}

// PagerDuty: a 5xx is retried, a 400 is a sentence that will not change.
func TestPagerDutyRetriesServerErrorsAndExplainsBadEvents(t *testing.T) {
	pd := fakepaging.NewPagerDuty()
	defer pd.Close()
	c := paging.NewPagerDuty(pd.URL(), pd.Key, nil)
	ctx := context.Background()
	pd.Fail(2)
	if err := c.Trigger(ctx, "INC-1", "Sign-in failing", "critical", ""); err != nil {
		t.Fatal(err)
	}
	if ev := pd.Events(); len(ev) != 1 || ev[0].Action != "trigger" {
		t.Fatalf("events %+v", ev)
	}
	wrong := paging.NewPagerDuty(pd.URL(), "not-the-key", nil)
	err := wrong.Acknowledge(ctx, "INC-1")
	if err == nil || apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), "refused the event (400)") || strings.Contains(err.Error(), "not-the-key") {
		t.Fatalf("400: %v", err)
	}
}

// A call's From must be a phone number: with a Messaging Service SID
// Twilio refuses every call (21212), so calls take TWILIO_CALLER_ID.
// An invalid number to call is 21217.
func TestTwilioCallsComeFromAPhoneNumber(t *testing.T) {
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	ctx := context.Background()
	mg := "MG0123456789abcdef0123456789abcdef"
	c := paging.NewTwilio(tw.URL(), tw.SID, tw.Token, mg, nil)
	_, err := c.Call(ctx, "+15550000001", "hello")
	if err == nil || apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), "21212") || !strings.Contains(apperr.MessageOf(err), "TWILIO_CALLER_ID") {
		t.Fatalf("call from a Messaging Service: %v", err)
	}
	if err := c.SMS(ctx, "+15550000001", "hello"); err != nil {
		t.Fatalf("SMS through the Messaging Service: %v", err)
	}
	c = paging.NewTwilio(tw.URL(), tw.SID, tw.Token, mg, nil).WithCallerID("+15550000099")
	sid, err := c.Call(ctx, "+15550000001", "hello")
	if err != nil || !strings.HasPrefix(sid, "CA") {
		t.Fatalf("call with a caller ID: %q %v", sid, err)
	}
	if s := tw.Sent(); len(s) != 2 || s[1].Kind != "call" || s[1].From != "+15550000099" || s[0].From != mg {
		t.Fatalf("sent %+v", s)
	}
	if _, err := c.Call(ctx, "5550000001", "hello"); err == nil || !strings.Contains(apperr.MessageOf(err), "21217") || apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("invalid number: %v", err)
	}
}

// A 201 only means queued: the call's status is read back afterwards.
func TestTwilioCallStatusIsReadBack(t *testing.T) {
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	ctx := context.Background()
	c := paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, nil)
	tw.ScriptCall("+15550000002", "queued", "ringing", "no-answer")
	sid, err := c.Call(ctx, "+15550000002", "hello")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"queued", "ringing", "no-answer", "no-answer"} {
		if got, by, err := c.CallStatus(ctx, sid); err != nil || got != want || by != "" {
			t.Fatalf("status %q %q %v, want %q", got, by, err, want)
		}
	}
	// Calls ask for answering-machine detection: a voicemail pickup is
	// completed like an answer, told apart by answered_by.
	tw.ScriptCall("+15550000003", "ringing", "in-progress", "completed:machine_end_beep")
	sid, err = c.Call(ctx, "+15550000003", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if r := tw.Requests(); r[len(r)-1].Form.Get("MachineDetection") != "Enable" {
		t.Fatalf("call asked %v", r[len(r)-1].Form)
	}
	for _, want := range []string{"ringing/", "in-progress/", "completed/machine_end_beep"} {
		if got, by, err := c.CallStatus(ctx, sid); err != nil || got+"/"+by != want {
			t.Fatalf("status %q %q %v, want %q", got, by, err, want)
		}
	}
	if _, _, err := c.CallStatus(ctx, "CA00000000000000000000000000000999"); err == nil || apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "20404") {
		t.Fatalf("unknown call: %v", err)
	}
}

// PagerDuty's 429: its limit (about 120 events a minute per key) counts
// the last 60 s, so the event is not retried at once but handed back with
// the 30 s PagerDuty suggests between retries.
func TestPagerDutyRateLimitWaitsThirtySeconds(t *testing.T) {
	pd := fakepaging.NewPagerDuty()
	defer pd.Close()
	c := paging.NewPagerDuty(pd.URL(), pd.Key, nil)
	ctx := context.Background()
	pd.RateLimit(1)
	err := c.Trigger(ctx, "INC-1", "Sign-in failing", "critical", "")
	var later interface{ RetryAfter() time.Duration }
	if err == nil || !errors.As(err, &later) || later.RetryAfter() != 30*time.Second ||
		apperr.CodeOf(err) != apperr.UnavailableRemote || !strings.Contains(apperr.MessageOf(err), "retrying in 30 s") || strings.Contains(err.Error(), pd.Key) {
		t.Fatalf("429: %v", err)
	}
	if ev := pd.Events(); len(ev) != 0 {
		t.Fatalf("retried at once: %+v", ev)
	}
	if err := c.Trigger(ctx, "INC-1", "Sign-in failing", "critical", ""); err != nil {
		t.Fatal(err)
	}
}
