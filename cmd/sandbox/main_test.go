package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A newcomer's first session, typed line by line.
func TestSandboxSession(t *testing.T) {
	in := strings.NewReader(strings.Join([]string{
		"/clerk-incident open outage P1 Sign-in failing",
		"click Acknowledge",
		"click 1",
		"/clerk-incident escalate",
		"as dan", // a guest on no ladder: carol (U3) is, as the CTO, and may act on INC-1
		"/clerk-incident resolve",
		"as U2",
		"/clerk-incident resolve Clerk recovered",
		"/clerk-incident postmortem",
		"click 99",
		"bogus",
		"quit",
	}, "\n") + "\n")
	out := &lockedBuffer{}
	getenv := func(string) string { return "" }
	if err := run(context.Background(), []string{"sandbox"}, getenv, in, out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"== INC-1 · Sign-in failing ==",
		"[#incidents (thread)] clerk-incident bot:",
		"buttons → 1:Acknowledge  2:Checklist  3:Resolve",
		"*Lead* @alice",
		"✅ *1.* ~Confirm outage",
		"[Twilio sms to +15550100002]",
		"INC-1 P1 outage: Sign-in failing",
		"[PagerDuty trigger INC-1@",
		"[only visible to U4] clerk-incident bot:",
		"Only incident responders may use `resolve`",
		"@bob resolved INC-1",
		"[file uploaded to #incidents thread] inc-1-postmortem.md",
		"# Incident Report: Sign-in failing",
		"the last message has buttons 1 to",
		"unknown: type help",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("sandbox output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}

// dan, a guest in the channel, asks for personal data: refused whether
// SLACK_RESPONDERS leaves him out (the sandbox's SONCALL group) or names
// him; bob, a member, gets the same at once.
func TestSandboxGuestGetsNoPersonalData(t *testing.T) {
	for _, responders := range []string{"", "U1,U2,U4"} {
		t.Run("SLACK_RESPONDERS="+responders, func(t *testing.T) {
			in := strings.NewReader(strings.Join([]string{
				"/clerk-incident open security Account takeover",
				"as dan",
				"/clerk-incident user eve@example.com",
				"/clerk-incident affected export",
				"/clerk-incident contacts",
				"as bob",
				"/clerk-incident user eve@example.com",
				"quit",
			}, "\n") + "\n")
			out := &lockedBuffer{}
			getenv := func(k string) string {
				if k == "SLACK_RESPONDERS" {
					return responders
				}
				return ""
			}
			if err := run(context.Background(), []string{"sandbox"}, getenv, in, out, io.Discard); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			// dan's answers run from the first one he was shown to bob's.
			_, dan, _ := strings.Cut(got, "[only visible to U4]")
			dan, bob, _ := strings.Cut(dan, "[only visible to U2]")
			if strings.Contains(dan, "eve@example.com") || strings.Contains(dan, "Berlin") || strings.Contains(dan, "+1555") {
				t.Errorf("dan saw personal data:\n%s", got)
			}
			if responders != "" && strings.Count(got, "which Slack guests of this workspace never get") != 3 {
				t.Errorf("dan was not told three times why:\n%s", got)
			}
			if responders == "" && !strings.Contains(got, "Only incident responders may use `user`") {
				t.Errorf("dan is no responder here:\n%s", got)
			}
			if !strings.Contains(bob, "eve@example.com") {
				t.Errorf("bob, a member, was not answered:\n%s", got)
			}
		})
	}
}
