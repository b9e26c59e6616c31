package incident_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// The README's table of the steps actions tick is the code's table:
// every row of AutoSteps with the runbook step it ticks, nothing else.
func TestREADMEListsExactlyTheStepsActionsTick(t *testing.T) {
	rb := runbook(t)
	var want strings.Builder
	want.WriteString("| Action | Ticks |\n|---|---|\n")
	for _, a := range incident.AutoSteps() {
		var steps []string
		for _, c := range incident.Categories {
			for _, st := range rb.Spec(c).Checklist.Flat() {
				if strings.HasPrefix(strings.ToLower(st.Text), strings.ToLower(a.Step)) {
					steps = append(steps, fmt.Sprintf("%s %s: %s", c, st.ID, st.Text))
				}
			}
		}
		if len(steps) == 0 {
			t.Errorf("%s ticks %q, which no category of the runbook has", a.Action, a.Step)
		}
		fmt.Fprintf(&want, "| %s | %s |\n", a.Action, strings.Join(steps, "; "))
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- auto-ticks: incident.AutoSteps -->\n", "<!-- /auto-ticks -->"
	_, rest, ok := strings.Cut(string(readme), start)
	got, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md has no %q … %q block; put this table in it:\n%s", start, end, want.String())
	}
	if got != want.String() {
		t.Fatalf("README.md's table of auto-ticked steps is not the code's; it should read:\n%s\nit reads:\n%s", want.String(), got)
	}
}

// An action may tick only a step of that table.
func TestAutoTickRefusesAStepOutsideTheTable(t *testing.T) {
	rb := runbook(t)
	inc := &incident.Incident{Category: incident.Outage, Checklist: map[string]incident.Tick{}}
	if _, err := incident.AutoTick(rb, incident.Person{ID: "U1"}, "Check application logs", "grep")(inc, time.Now()); err == nil || len(inc.Checklist) != 0 {
		t.Fatalf("ticked a step outside AutoSteps: %v %v", err, inc.Checklist)
	}
	if _, err := incident.AutoTick(rb, incident.Person{ID: "U1"}, incident.StepConfirmOutage, "test")(inc, time.Now()); err != nil || inc.Checklist["1"].By.ID != "U1" {
		t.Fatalf("%v %v", err, inc.Checklist)
	}
}
