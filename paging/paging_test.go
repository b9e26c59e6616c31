package paging_test

import (
	"context"
	"strings"
	"testing"

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
	if err := bad.Call(ctx, "+15550000001", "hello"); err == nil || !strings.Contains(apperr.MessageOf(err), "20003") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("bad credentials: %v", err)
	}
	if err := c.Call(ctx, "+15550000001", "INC-1 <P1> & more"); err != nil {
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
