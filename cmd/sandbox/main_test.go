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
		"[PagerDuty trigger INC-1]",
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
