package incident_test

import (
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// FuzzRunbook: any runbook file loads or fails with an error naming the
// file; a loaded runbook has what the checklist message and ticks rely on.
func FuzzRunbook(f *testing.F) {
	f.Add(incident.DefaultRunbook())
	f.Add([]byte("categories:\n  outage: {}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 8192 {
			return // files this big are not what the loaders meet
		}
		rb, err := incident.LoadRunbook("fuzz.yml", src)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "fuzz.yml: ") || strings.TrimSpace(strings.TrimPrefix(msg, "fuzz.yml: ")) == "" {
				t.Fatalf("error %q does not name the file and the problem", msg)
			}
			return
		}
		for _, c := range incident.Categories {
			spec := rb.Spec(c)
			if spec == nil {
				t.Fatalf("category %s missing from a loaded runbook", c)
			}
			checkSpec(t, c, spec)
		}
	})
}

// checkSpec asserts a loaded category: named, a titled checklist of at
// most MaxSteps steps, two levels deep at most, each step with text and an
// ID that finds that step and no other (ticks and block IDs carry it).
func checkSpec(t *testing.T, c incident.Category, spec *incident.CategorySpec) {
	t.Helper()
	if strings.TrimSpace(spec.Name) == "" || strings.TrimSpace(spec.Checklist.Title) == "" {
		t.Fatalf("%s loaded without a name or checklist title", c)
	}
	flat := spec.Checklist.Flat()
	if len(flat) == 0 || len(flat) > incident.MaxSteps {
		t.Fatalf("%s loaded with %d steps (1..%d allowed)", c, len(flat), incident.MaxSteps)
	}
	for _, st := range flat {
		if st.Depth > 1 {
			t.Fatalf("%s step %q is nested %d deep", c, st.ID, st.Depth)
		}
		if strings.TrimSpace(st.ID) == "" || strings.ContainsAny(st.ID, "|:") || strings.TrimSpace(st.Text) == "" {
			t.Fatalf("%s step %q (%q) loaded", c, st.ID, st.Text)
		}
		if got, ok := spec.Checklist.Step(st.ID); !ok || got.ID != st.ID {
			t.Fatalf("%s step ID %q finds %q: IDs are not unique", c, st.ID, got.ID)
		}
	}
	for status := range spec.Updates {
		switch incident.Status(status) {
		case incident.Investigating, incident.Mitigated, incident.Resolved:
		default:
			t.Fatalf("%s has updates for unknown status %q", c, status)
		}
	}
}
