package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// The sandbox answers a page from PagerDuty's app: `pagerduty ack`
// acknowledges there, and the bot reads it back and says so.
func TestSandboxAcknowledgeInPagerDuty(t *testing.T) {
	in, typed := io.Pipe()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"sandbox"}, func(string) string { return "" }, in, out, io.Discard)
	}()
	typeLine := func(line, want string) {
		t.Helper()
		if _, err := io.WriteString(typed, line+"\n"); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), want); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after %q the sandbox never said %q:\n%s", line, want, out.String())
			}
		}
	}
	typeLine("/clerk-incident open outage P1 Sign-in failing", "== INC-1 · Sign-in failing ==")
	typeLine("pagerduty ack INC-1", "PagerDuty has no open incident for INC-1")
	typeLine("/clerk-incident escalate", "[PagerDuty trigger INC-1@")
	typeLine("pagerduty ack INC-1", "INC-1 acknowledged in PagerDuty as Nora Oncall")
	typeLine("", "Acknowledged in PagerDuty by Nora Oncall")
	typeLine("pagerduty nonsense", "say pagerduty ack INC-n [name]")
	_, _ = io.WriteString(typed, "quit\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "[PagerDuty acknowledge INC-1@") {
		t.Fatalf("the ack made in PagerDuty was sent back to it:\n%s", out.String())
	}
}
