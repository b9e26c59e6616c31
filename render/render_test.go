package render

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, m bot.Msg) {
	t.Helper()
	got, err := json.MarshalIndent(map[string]any{"text": m.Text, "blocks": m.Blocks}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./handlers -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s (run with -update to accept):\n%s", name, path, got)
	}
	var blocks []map[string]any
	raw, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatalf("%s blocks are not a JSON array: %v", name, err)
	}
	if len(blocks) > 50 {
		t.Errorf("%s has %d blocks; Slack allows 50", name, len(blocks))
	}
}

func fixture() (*incident.Incident, *incident.Runbook, time.Time) {
	rb, err := incident.LoadRunbook("runbook.yml", incident.DefaultRunbook())
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2026, 11, 25, 3, 2, 0, 0, time.UTC)
	alice := incident.Person{ID: "U1", Name: "alice"}
	bob := incident.Person{ID: "U2", Name: "bob"}
	inc := &incident.Incident{
		ID: "INC-7", Title: "Sign-in failing", Category: incident.Outage, Severity: incident.P1,
		Status: incident.Investigating, OpenedBy: alice, OpenedAt: t0, Channel: "C1", CardTS: "1.1",
		Checklist: map[string]incident.Tick{"1": {By: bob, At: t0.Add(4 * time.Minute)}, "4a": {By: alice, At: t0.Add(9 * time.Minute)}},
		Timeline: []incident.Entry{
			{At: t0, Actor: alice, Text: "Incident opened: Sign-in failing (outage, P1)"},
			{At: t0.Add(4 * time.Minute), Actor: bob, Text: "Checklist 1 done: Confirm outage"},
		},
	}
	return inc, rb, t0.Add(20 * time.Minute)
}

func TestCardGolden(t *testing.T) {
	inc, rb, now := fixture()
	golden(t, "card_open", Card(inc, rb.Spec(inc.Category), nil, now))
	acked := *inc
	acked.AckedBy = &incident.Person{ID: "U2", Name: "bob"}
	acked.Impact = "About 1,200 users cannot sign in"
	golden(t, "card_acked", Card(&acked, rb.Spec(inc.Category), nil, now))
	resolved := acked
	resolved.Status = incident.Resolved
	resolved.ResolvedAt = now
	golden(t, "card_resolved", Card(&resolved, rb.Spec(inc.Category), nil, now))
}

func TestChecklistGolden(t *testing.T) {
	inc, rb, _ := fixture()
	golden(t, "checklist_outage", ChecklistMsg(inc, rb.Spec(inc.Category)))
}

func TestListAndStatusGolden(t *testing.T) {
	inc, rb, now := fixture()
	golden(t, "status", StatusMsg(inc, rb.Spec(inc.Category), nil, now))
	golden(t, "list_empty", ListMsg(nil, nil, now))
	golden(t, "list", ListMsg([]*incident.Incident{inc}, nil, now))
	golden(t, "duplicate", DuplicateMsg(inc, incident.Outage, incident.P1, "Sign-in failing again", now))
}

func TestLongTitleIsTruncatedToSlackLimits(t *testing.T) {
	inc, rb, now := fixture()
	long := *inc
	long.Title = string(make([]rune, 400))
	m := Card(&long, rb.Spec(inc.Category), nil, now)
	raw, err := json.Marshal(m.Blocks[0])
	if err != nil {
		t.Fatal(err)
	}
	var header struct{ Text struct{ Text string } }
	if err := json.Unmarshal(raw, &header); err != nil {
		t.Fatalf("header block %s: %v", raw, err)
	}
	if n := len([]rune(header.Text.Text)); n > 150 {
		t.Fatalf("header is %d characters", n)
	}
}

// The timeline keeps who and what, not Slack markup: the report is read
// outside Slack. The plain forms are made from the same data as the Slack
// text, never by stripping it.
func TestTimelineFormsAreMadePlain(t *testing.T) {
	rs := []probe.DiagnoseResult{
		{Target: probe.DiagnoseTarget{Name: "Clerk API", Threshold: 500 * time.Millisecond, Hint: "check Clerk's status"}, P50: 900 * time.Millisecond, Max: 2 * time.Second},
		{Target: probe.DiagnoseTarget{Name: "JWKS", Threshold: time.Second}, P50: 80 * time.Millisecond, Max: 90 * time.Millisecond, Errors: 1, LastErr: "timeout"},
	}
	check := resync.CheckResult{Signed: resync.Attempt{Status: 204, Latency: 40 * time.Millisecond}, Unsigned: resync.Attempt{Status: 200}, Finding: true}
	for _, c := range []struct{ slack, plain string }{
		{DiagnoseText(rs, 5), DiagnosePlain(rs, 5)},
		{WebhookCheckText(check), WebhookCheckPlain(check)},
	} {
		if strings.ContainsAny(c.plain, "*`<>\n") || strings.Contains(c.plain, ":x:") || strings.Contains(c.plain, ":warning:") {
			t.Errorf("plain form has markup: %q", c.plain)
		}
		for _, l := range strings.Split(c.slack, "\n")[1:] {
			words := strings.NewReplacer("*", "").Replace(l[strings.Index(l, " ")+1:])
			if !strings.Contains(c.plain, words) {
				t.Errorf("plain form %q lacks %q", c.plain, words)
			}
		}
	}
	if !strings.Contains(WebhookCheckText(check), ":rotating_light: *Security finding:* a request") {
		t.Errorf("the finding is not marked in Slack: %q", WebhookCheckText(check))
	}
}
