package app_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/handlers"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

const hostile = "<!channel> <https://evil.example|Open the runbook>"

// freeText is every command that takes free text, with how to type the
// hostile text into it (lockout and bypass: an approval's reason).
var freeText = map[string][]string{
	"open":       {"open outage " + hostile},
	"note":       {"note INC-1 " + hostile},
	"impact":     {"impact INC-1 " + hostile},
	"mitigated":  {"mitigated INC-1 " + hostile},
	"rootcause":  {"rootcause INC-1 " + hostile},
	"prevention": {"prevention INC-1 " + hostile},
	"lessons":    {"lessons INC-1 " + hostile},
	"lockout":    {"lockout INC-1 abe@example.com -- " + hostile}, // Abe is in Clerk
	"bypass":     {"bypass on 30m " + hostile, "bypass extend 15m " + hostile},
	"resolve":    {"resolve INC-1 " + hostile},
	"webhooks":   {"webhooks pause INC-1 " + hostile},
	"followup":   {"followup add INC-1 " + hostile, "followup list INC-1"},
}

// typedElsewhere are free-text commands whose hostile pass needs a fake of
// their own, by the test that types into them.
var typedElsewhere = map[string]string{"rollback": "TestHostileRollbackReasonIsInert",
	"protect": "TestHostileReasonsOfProcedureTwoAreInert", "block": "TestHostileReasonsOfProcedureTwoAreInert", "rotate": "TestHostileReasonsOfProcedureTwoAreInert"}

// The list above covers every Sub whose usage takes free text.
func TestHostilePassCoversEveryFreeTextCommand(t *testing.T) {
	freeRe := regexp.MustCompile(`(text|title|reason|resolution)…`)
	for _, s := range handlers.Subcommands() {
		if freeRe.MatchString(s.Usage) {
			if _, ok := freeText[s.Name]; !ok && typedElsewhere[s.Name] == "" {
				t.Errorf("%s takes free text (%s) but the hostile pass does not type into it", s.Name, s.Usage)
			}
		}
	}
}

// Typed into every command that takes free text, a broadcast and a
// disguised link show as text in every message the bot posts: blocks and
// fallback text, approval requests and their decided messages included.
func TestHostileTextIsInertEverywhere(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U3"})
	s := h.slack
	h.clerk.AddUser("Abe", "abe@example.com", 0)
	h.open(t, freeText["open"][0])
	names := make([]string, 0, len(freeText))
	for name := range freeText {
		names = append(names, name)
	}
	slices.Sort(names)
	// resolve last: the approvals need an open incident.
	names = slices.DeleteFunc(names, func(n string) bool { return n == "open" || n == "resolve" })
	for _, name := range append(names, "resolve") {
		for _, text := range freeText[name] {
			s.Command(t, "U1", "C1", text)
			if name == "lockout" || strings.HasPrefix(text, "bypass on") || strings.HasPrefix(text, "bypass extend") {
				req := s.Expect(t, fakeslack.Match{Channel: "CINC", Contains: []string{"Approval needed", "evil.example"}})
				inert(t, *req) // the request (its reason) is replaced by the decision below
				s.ExpectEphemeral(t, "U1", "Approval requested")
				s.Click(t, "U3", req, "Approve")
				s.ExpectUpdated(t, req, "Approved by <@U3>")
				// Carried out after the click: wait for it before the next command.
				done := map[string]string{"lockout": "Lockout", "bypass on": "bypass is ON", "bypass extend": "bypass extended"}
				key := name
				if name == "bypass" {
					key = strings.Join(strings.Fields(text)[:2], " ")
				}
				s.Expect(t, fakeslack.Match{Channel: "CINC", Contains: []string{done[key]}})
				continue
			}
			s.ExpectEphemeral(t, "U1")
		}
	}
	msgs := s.Messages()
	if len(msgs) < 10 {
		t.Fatalf("only %d messages posted", len(msgs))
	}
	for _, m := range msgs {
		inert(t, m)
	}
}

// inert fails if m (blocks or fallback text) holds a live broadcast or
// disguised link.
func inert(t *testing.T, m fakeslack.Message) {
	t.Helper()
	// Only mrkdwn is parsed by Slack; plain_text (headers, buttons) shows
	// its text as typed.
	var blocks any
	if err := json.Unmarshal(m.Blocks, &blocks); len(m.Blocks) > 0 && err != nil {
		t.Fatalf("message %s blocks: %v", m.TS, err)
	}
	var mrkdwn strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "mrkdwn" {
				text, _ := v["text"].(string)
				mrkdwn.WriteString(text + "\n")
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(blocks)
	for _, part := range []struct{ what, text string }{{"text", m.Text}, {"blocks", mrkdwn.String()}} {
		for _, bad := range []string{"<!channel>", "<https://evil.example|"} {
			if strings.Contains(part.text, bad) {
				t.Errorf("message %s %s holds %q live:\n%s", m.TS, part.what, bad, part.text)
			}
		}
	}
}

// A word the bot cannot use is echoed back in its reply ("%q is not a
// severity"): typed as a broadcast or a disguised link, it shows as text.
func TestHostileWordsEchoedInRefusalsAreInert(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_CHANNEL_ID": "CINC"}})
	s := h.Slack
	s.Unlimited()
	s.Command(t, "U1", "C1", "open outage Sign-in failing")
	s.ExpectMessage(t, "CINC", "INC-1")
	s.ExpectEphemeral(t, "U1", "Opened")
	for _, word := range []string{"<!channel>", "<https://evil.example|runbook>"} {
		for _, cmd := range []string{"open %s", "severity INC-1 %s", "milestone INC-1 %s 10:00", "bypass %s", "bypass extend %s",
			"webhooks %s", "affected INC-1 %s", "followup %s", "followup done INC-1 %s", "resync --since %s", "resync %s", "role comms %s"} {
			s.Command(t, "U1", "C1", fmt.Sprintf(cmd, word))
			reply := s.ExpectEphemeral(t, "U1")
			inert(t, *reply)
		}
	}
	// With two incidents open, "say which one" repeats the command typed.
	s.Command(t, "U1", "C1", "open webhook Sync broken")
	s.ExpectMessage(t, "CINC", "INC-2")
	s.ExpectEphemeral(t, "U1", "Opened")
	s.Command(t, "U1", "C1", "note <!channel> look")
	inert(t, *s.ExpectEphemeral(t, "U1", "Say which one"))
}
