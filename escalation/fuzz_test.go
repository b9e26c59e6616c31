package escalation_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
)

// FuzzContacts: any file loads or fails with an error, never a panic; a
// loaded ladder has levels that each reach someone.
func FuzzContacts(f *testing.F) {
	for _, p := range []string{"../contacts.yml", "testdata/runbook-contacts.yml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("contacts:\n  escalation:\n    - {level: 1, contact: x, time: 1h+}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 8192 {
			return // files this big are not what the loaders meet
		}
		c, err := escalation.LoadContacts("fuzz.yml", src)
		if err != nil {
			// The operator must learn which file and what is wrong.
			if msg := err.Error(); !strings.HasPrefix(msg, "fuzz.yml: ") || len(strings.TrimSpace(strings.TrimPrefix(msg, "fuzz.yml: "))) == 0 {
				t.Fatalf("error %q does not name the file and the problem", msg)
			}
			return
		}
		checkLadder(t, c)
	})
}

// checkLadder asserts what the escalation engine relies on in a loaded
// file: levels 1..n back to back from 0, only the last open-ended, each
// reaching someone in Slack by known channels, phones where it calls or
// texts, and a sane repeat policy.
func checkLadder(t *testing.T, c *escalation.Contacts) {
	t.Helper()
	if len(c.Levels) == 0 {
		t.Fatal("a ladder with no levels loaded")
	}
	for i, l := range c.Levels {
		if l.Level != i+1 {
			t.Fatalf("level in position %d is numbered %d", i+1, l.Level)
		}
		if i == 0 && l.Start != 0 {
			t.Fatalf("level 1 starts at %s", l.Start)
		}
		if i > 0 && (c.Levels[i-1].Open || l.Start != c.Levels[i-1].End) {
			t.Fatalf("level %d starts at %s after level %d (%q)", l.Level, l.Start, i, c.Levels[i-1].Time)
		}
		if l.Start < 0 || (!l.Open && l.End <= l.Start) {
			t.Fatalf("level %d has window %s..%s (%q)", l.Level, l.Start, l.End, l.Time)
		}
		if len(l.People) == 0 {
			t.Fatalf("level %d loaded with nobody", l.Level)
		}
		if len(l.Via) == 0 {
			t.Fatalf("level %d pages by no channel", l.Level)
		}
		for _, v := range l.Via {
			if !slices.Contains([]string{escalation.ViaSlack, escalation.ViaSMS, escalation.ViaCall, escalation.ViaPagerDuty}, v) {
				t.Fatalf("level %d pages by unknown channel %q", l.Level, v)
			}
		}
		phones := slices.Contains(l.Via, escalation.ViaSMS) || slices.Contains(l.Via, escalation.ViaCall)
		for _, p := range l.People {
			if !p.HasSlack() {
				t.Fatalf("level %d pages %q, who has no Slack identity", l.Level, p.Name)
			}
			if phones && !strings.HasPrefix(p.SlackID, "S") && !escalation.IsE164(strings.TrimSpace(p.Phone)) {
				t.Fatalf("level %d texts or calls %q at %q", l.Level, p.Name, p.Phone)
			}
		}
	}
	if c.Policy.RepeatEvery <= 0 || c.Policy.RepeatTimes < 0 || c.Policy.RepeatTimes > 100 {
		t.Fatalf("policy %+v loaded", c.Policy)
	}
}
