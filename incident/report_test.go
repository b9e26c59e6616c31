package incident_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// One person recorded first with a handle and later with a display name is
// one name throughout; two people who share a name are told apart by their
// Slack IDs; a CLI operator is tagged (CLI); components keep their names.
func TestReportNamesEachPersonOneWay(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	handle := incident.Person{ID: "U1", Name: "alice"}
	alice := incident.Person{ID: "U1", Name: "Alice Smith"}
	alex1 := incident.Person{ID: "U5", Name: "Alex"}
	alex2 := incident.Person{ID: "U6", Name: "Alex"}
	op := incident.Person{ID: "cli:dana", Name: "dana"}
	inc := &incident.Incident{ID: "INC-3", Title: "T", Category: incident.Outage, Severity: incident.P1, Status: incident.Investigating,
		OpenedBy: handle, OpenedAt: t0, AckedBy: &alex1, Comms: &alice,
		Timeline: []incident.Entry{
			{At: t0, Actor: handle, Text: "opened"},
			{At: t0.Add(time.Minute), Actor: alex1, Text: "acked"},
			{At: t0.Add(2 * time.Minute), Actor: alex2, Text: "note from the other Alex"},
			{At: t0.Add(3 * time.Minute), Actor: op, Text: "from a shell"},
			{At: t0.Add(4 * time.Minute), Actor: incident.Person{Name: "escalation"}, Text: "paged"},
			{At: t0.Add(5 * time.Minute), Actor: alice, Text: "later"},
		}}
	md, _ := incident.Report(inc, t0.Add(time.Hour))
	for _, want := range []string{
		"- **Opened by:** Alice Smith (U1)\n",
		"- **Led by:** Alex (U5)\n",
		"- **Comms:** Alice Smith (U1)\n",
		"- 03:00 - opened (Alice Smith)\n",
		"- 03:01 - acked (Alex (U5))\n",
		"- 03:02 - note from the other Alex (Alex (U6))\n",
		"- 03:03 - from a shell (dana (CLI))\n",
		"- 03:04 - paged (escalation)\n",
		"- 03:05 - later (Alice Smith)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "(alice)") || strings.Contains(md, "alice (U1)") {
		t.Errorf("the handle survived next to the display name:\n%s", md)
	}
}

// Follow-ups fill Prevention: done ones ticked and said done, exported ones
// with their issue; with follow-ups Prevention is no longer missing.
func TestReportListsFollowupsAndTheirIssues(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	inc := &incident.Incident{ID: "INC-3", Title: "T", Category: incident.Outage, Severity: incident.P1, Status: incident.Resolved, OpenedAt: t0, ResolvedAt: t0.Add(time.Hour)}
	md, missing := incident.Report(inc, t0.Add(2*time.Hour),
		incident.Followup{N: 1, Text: "Alert on\nsign-in errors", Export: &incident.Export{State: incident.ExportCreated, Number: 7, URL: "https://github.com/acme/incidents/issues/7"}},
		incident.Followup{N: 2, Text: "Rotate the secret", Done: true, Export: &incident.Export{State: incident.ExportCreating}})
	for _, want := range []string{
		"- [ ] Follow-up 1: Alert on sign-in errors - issue #7: https://github.com/acme/incidents/issues/7\n",
		"- [x] Follow-up 2 (done): Rotate the secret\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, m := range missing {
		if m == "prevention" {
			t.Errorf("prevention said missing with follow-ups: %v", missing)
		}
	}
}
