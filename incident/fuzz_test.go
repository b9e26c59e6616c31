package incident_test

import (
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// FuzzRunbook: any runbook file loads or fails with an error naming the file.
func FuzzRunbook(f *testing.F) {
	f.Add(incident.DefaultRunbook())
	f.Add([]byte("categories:\n  outage: {}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 8192 {
			return // files this big are not what the loaders meet
		}
		rb, err := incident.LoadRunbook("fuzz.yml", src)
		if err != nil {
			return
		}
		for _, c := range incident.Categories {
			if rb.Spec(c) == nil {
				t.Fatalf("category %s missing from a loaded runbook", c)
			}
		}
	})
}
