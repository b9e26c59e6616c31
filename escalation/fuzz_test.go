package escalation_test

import (
	"os"
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
			return
		}
		for _, l := range c.Levels {
			if len(l.People) == 0 {
				t.Fatalf("level %d loaded with nobody", l.Level)
			}
		}
	})
}
