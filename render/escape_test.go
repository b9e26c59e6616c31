package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

const hostile = "<https://evil.example|Open the runbook> <@U2> approved <!channel> & more"

// blockText is every mrkdwn text of a message's blocks, as Slack gets it.
func blockText(t *testing.T, m bot.Msg) string {
	t.Helper()
	raw, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []struct {
		Text     *struct{ Text string }  `json:"text"`
		Elements []struct{ Text string } `json:"elements"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, bl := range blocks {
		if bl.Text != nil {
			b.WriteString(bl.Text.Text + "\n")
		}
		for _, e := range bl.Elements {
			b.WriteString(e.Text + "\n")
		}
	}
	return b.String()
}

// noControl fails if s holds a live Slack link, mention or broadcast.
func noControl(t *testing.T, what, s string) {
	t.Helper()
	for _, bad := range []string{"<https://", "<@U2>", "<!channel>", "& more"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s holds %q live:\n%s", what, bad, s)
		}
	}
	if !strings.Contains(s, "&lt;https://evil.example|Open the runbook&gt; &lt;@U2&gt; approved &lt;!channel&gt; &amp; more") {
		t.Errorf("%s does not show the text escaped:\n%s", what, s)
	}
}

// A refused outsider's command shows in `audit` as text: no link, no
// mention, no broadcast; refusals sit in a section below real entries.
func TestAuditMsgShowsTypedTextAsText(t *testing.T) {
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	m := AuditMsg([]audit.Entry{
		{At: at.Add(time.Minute), Actor: "U9", Name: "mallory", Action: "note", Detail: "note INC-1 " + hostile, Incident: "INC-1", Outcome: "refused: not a responder"},
		{At: at, Actor: "U1", Name: "alice", Action: "note", Detail: "note INC-1 " + hostile, Incident: "INC-1", Outcome: "ok"},
	}, "")
	text := blockText(t, m)
	noControl(t, "audit", strings.ReplaceAll(text, "<@U9>", "")) // the actor's own mention is the bot's
	if len(m.Blocks) != 2 || !strings.Contains(text, "*Refused*") || strings.Index(text, "<@U1>") > strings.Index(text, "<@U9>") {
		t.Errorf("refusals are not below the real entries:\n%s", text)
	}
}

// The fallback text of a customer announcement (what notifications show)
// is escaped like its blocks.
func TestAnnouncementFallbackIsEscaped(t *testing.T) {
	m := AnnouncementMsg("INC-1", hostile)
	noControl(t, "fallback text", m.Text)
	noControl(t, "blocks", blockText(t, m))
}

// A cell starting with a tab or a carriage return is guarded like = + - @.
func TestAffectedCSVGuardsFormulaCells(t *testing.T) {
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	csv := AffectedCSV([]incident.AffectedUser{
		{ID: "user_1", Email: "\t=cmd|' /C calc'!A0", Name: "\r=1+1", Deeds: []incident.Deed{{What: "revoked", At: at, By: incident.Person{Name: "@SUM(1)"}}}},
		{ID: "user_2", Email: "=HYPERLINK(\"x\")", Name: "+1", Deeds: nil},
		{ID: "user_3", Email: "-2", Name: "ok name"},
	})
	lines := strings.Split(csv, "\r\n")
	for _, want := range []string{
		`user_1,'	=cmd|' /C calc'!A0,"'` + "\r" + `=1+1",revoked at 2026-11-25T03:00:00Z by @SUM(1)`,
		`user_2,"'=HYPERLINK(""x"")",'+1,`,
		`user_3,'-2,ok name,`,
	} {
		if !strings.Contains(csv, want) {
			t.Errorf("CSV lacks %q:\n%q", want, lines)
		}
	}
}

// An outcome can carry what was typed (a failure names the bad
// argument): it shows as text too.
func TestAuditMsgShowsTypedTextInAnOutcomeAsText(t *testing.T) {
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	m := AuditMsg([]audit.Entry{
		{At: at, Actor: "U1", Name: "alice", Action: "severity", Detail: "severity", Incident: "INC-1", Outcome: "failed: " + hostile},
	}, "INC-1")
	noControl(t, "audit", blockText(t, m))
}
