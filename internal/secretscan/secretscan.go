// Package secretscan checks what a test's bot logged for secrets: tokens,
// keys, signing secrets and Slack response URLs must never reach a log.
package secretscan

import (
	"bytes"
	"regexp"
	"sync"
	"testing"
)

var secret = regexp.MustCompile(`xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk_(live|test)_[A-Za-z0-9]+|whsec_[A-Za-z0-9+/=]+|/response/[0-9]+|redis://[^@\s"]*:[^@\s"]*@|svix\.com/login#key=|svixOneTimeSecret|faketwiliotoken|fakeroutingkey|fake-statuspage-key|fake-vercel-token`)

// Buffer collects log output from the bot's goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (bu *Buffer) Write(p []byte) (int, error) {
	bu.mu.Lock()
	defer bu.mu.Unlock()
	return bu.b.Write(p)
}

// String returns everything written so far.
func (bu *Buffer) String() string {
	bu.mu.Lock()
	defer bu.mu.Unlock()
	return bu.b.String()
}

// Find returns the first secret-shaped value in logs, or "".
func Find(logs string) string { return secret.FindString(logs) }

// Check fails the test if anything secret-shaped was logged.
func Check(t testing.TB, logs string) {
	t.Helper()
	if m := Find(logs); m != "" {
		t.Errorf("the bot logged a secret-shaped value (%.12s…)", m)
	}
}

// Logs returns a buffer whose content is checked when the test ends.
func Logs(t testing.TB) *Buffer {
	b := &Buffer{}
	t.Cleanup(func() { Check(t, b.String()) })
	return b
}
