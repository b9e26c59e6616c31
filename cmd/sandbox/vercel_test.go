package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// The sandbox shows the app's half: deploys, env check and a rollback
// approved by a second person.
func TestSandboxVercel(t *testing.T) {
	in := strings.NewReader(strings.Join([]string{
		"/clerk-incident open outage P1 Sign-in failing",
		"/clerk-incident deploys",
		"/clerk-incident env check",
		"/clerk-incident rollback previous",
		"as bob",
		"click Approve",
		"quit",
	}, "\n") + "\n")
	out := &lockedBuffer{}
	if err := run(context.Background(), []string{"sandbox"}, func(string) string { return "" }, in, out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"A production deploy landed 12 min before INC-1 opened",
		"`dpl_9x8y7z` READY · `a1b2c3d` Change middleware matcher",
		"is a development key (sk_test_) in production",
		"Approval needed: rollback",
		"Approved by @bob",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("sandbox output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}
