package incident_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestDefaultRunbookHasTheRunbooksProcedures(t *testing.T) {
	rb := runbook(t)
	out := rb.Spec(incident.Outage).Checklist
	if out.Title != "Auth Outage Response" {
		t.Fatalf("title %q", out.Title)
	}
	var ids []string
	for _, s := range out.Flat() {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, ","); got != "1,2,3,4,4a,4b,4c,5,5a,5b,5c,6,7" {
		t.Fatalf("outage steps %s", got)
	}
	if rb.Spec(incident.Security).Checklist.Title != "Security Breach Response" ||
		rb.Spec(incident.Webhook).Checklist.Title != "Data Sync Recovery" ||
		len(rb.Spec(incident.Performance).Checklist.Steps) == 0 {
		t.Fatal("missing procedures")
	}
}

func TestRunbookErrorsNameTheLine(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"syntax", "categories:\n  outage: [\n", "line"},
		{"unknown key", "categories:\n  outage:\n    name: x\n    stesp: []\n", "line 4: unknown key \"stesp\""},
		{"unknown category", "categories:\n  billing:\n    name: x\n", "line 2: unknown category \"billing\""},
		{"missing category", validExcept("performance"), "category \"performance\" is missing"},
		{"step without id", strings.Replace(validExcept(""), "id: \"s1\"", "id: \"\"", 1), "step has no id"},
		{"duplicate step", strings.Replace(validExcept(""), "id: \"s2\"", "id: \"s1\"", 1), "step id \"s1\" already used on line"},
		// Ticks find a step with strings.EqualFold, under which "ſ" (long s)
		// is "s": both IDs would make one step untickable. FuzzRunbook found it.
		{"duplicate step under case folding", strings.Replace(strings.Replace(validExcept(""), "id: \"s1\"", "id: \"ſ\"", 1), "id: \"s2\"", "id: \"S\"", 1), "step id \"S\" already used on line"},
		{"empty", "", "file is empty"},
		{"too many steps for one Slack message", strings.Replace(validExcept(""), "      steps:\n", "      steps:\n"+manySteps(47), 1),
			"line 5: category \"outage\": checklist has 49 steps; at most 48 fit one Slack message"},
		{"update template placeholder", strings.Replace(validExcept(""), "    name: N\n", "    name: N\n    updates:\n      investigating: \"{title} affects {users}\"\n", 1),
			"line 5: category \"outage\": updates.investigating: unknown placeholder near \"{users}\""},
		{"update template status", strings.Replace(validExcept(""), "    name: N\n", "    name: N\n    updates:\n      fixed: \"{title}\"\n", 1),
			"line 5: category \"outage\": updates: \"fixed\" is not a status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := incident.LoadRunbook("custom.yml", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "custom.yml") {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	if _, err := incident.LoadRunbook("ok.yml", []byte(validExcept(""))); err != nil {
		t.Fatalf("valid file: %v", err)
	}
}

func manySteps(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "        - id: \"x%d\"\n          text: step\n", i)
	}
	return b.String()
}

func validExcept(skip string) string {
	var b strings.Builder
	b.WriteString("categories:\n")
	for _, c := range incident.Categories {
		if string(c) == skip {
			continue
		}
		b.WriteString("  " + string(c) + ":\n    name: N\n    checklist:\n      title: T\n      steps:\n" +
			"        - id: \"s1\"\n          text: one\n        - id: \"s2\"\n          text: two\n")
	}
	return b.String()
}

func TestReportGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 3, 2, 0, 0, time.UTC)
	alice := incident.Person{ID: "U1", Name: "alice"}
	inc := &incident.Incident{
		ID: "INC-7", Title: "Sign-in failing", Category: incident.Outage, Severity: incident.P1,
		Status: incident.Resolved, OpenedBy: alice, OpenedAt: t0, AckedBy: &alice,
		ResolvedAt: t0.Add(95 * time.Minute), Impact: "About 1,200 users could not sign in",
		RootCause: "Clerk session API outage", Resolution: "Waited for Clerk; bypass was not needed",
		Timeline: []incident.Entry{
			{At: t0, Actor: alice, Text: "Incident opened: Sign-in failing (outage, P1)"},
			{At: t0.Add(3 * time.Minute), Actor: alice, Text: "Acknowledged; now leading the response"},
			{At: t0.Add(95 * time.Minute), Actor: alice, Text: "Resolution confirmed"},
		},
	}
	md, missing := incident.Report(inc, t0.Add(2*time.Hour))
	if strings.Join(missing, ",") != "prevention,lessons" {
		t.Fatalf("missing = %v", missing)
	}
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		_ = os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if md != string(want) {
		t.Fatalf("report differs from %s (run with -update to accept):\n%s", golden, md)
	}
	if incident.FormatDuration(95*time.Minute) != "1 hour 35 minutes" {
		t.Fatal(incident.FormatDuration(95 * time.Minute))
	}
}

func TestParseID(t *testing.T) {
	for in, want := range map[string]string{"INC-3": "INC-3", "inc-12": "INC-12", "INC-0": "", "INC-": "", "3": "", "INC-3x": ""} {
		got, ok := incident.ParseID(in)
		if got != want || ok != (want != "") {
			t.Errorf("ParseID(%q) = %q %v", in, got, ok)
		}
	}
}

// The card's "Check your endpoint" shows APP_HEALTH_URL, not the example.
func TestRunbookShowsTheAppsHealthURL(t *testing.T) {
	rb, err := incident.LoadRunbook("embedded", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rb.WithHealthURL("https://auth.acme.io/health").Spec(incident.Outage).ImmediateActions, "\n")
	if !strings.Contains(got, "curl -I https://auth.acme.io/health") || strings.Contains(got, "yourapp.com") {
		t.Fatalf("immediate actions:\n%s", got)
	}
	if orig := strings.Join(rb.Spec(incident.Outage).ImmediateActions, "\n"); !strings.Contains(orig, "yourapp.com") {
		t.Fatal("the loaded runbook was changed in place")
	}
}
