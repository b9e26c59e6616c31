package handlers

import (
	"encoding/json"
	"testing"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// FuzzParse: no command text makes the parser panic, and what it accepts
// is a known subcommand.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "open outage P1 Sign-in failing", "note INC-3 a\nb", "resolve INC-", "lockout user_1 a@b.c -- why", "ß", "INC-99999999999999999999", "bypass on 30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if err == nil {
			if _, ok := lookupSub(p.Sub.Name); !ok {
				t.Fatalf("unknown subcommand %q accepted", p.Sub.Name)
			}
			if p.ID != "" {
				if _, ok := incident.ParseID(p.ID); !ok {
					t.Fatalf("bad ID %q", p.ID)
				}
			}
		}
		_, _ = clerkops.ParseRefs(text)
		_ = approval.ValidID(text)
	})
}

// FuzzSlackPayload: an interaction payload of any shape decodes or fails
// cleanly, and the button values the handlers parse never panic.
func FuzzSlackPayload(f *testing.F) {
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U2"},"container":{"message_ts":"1.2","channel_id":"C1"},"actions":[{"action_id":"chk_tick","block_id":"chk:INC-1:4a","value":"INC-1|4a|1"}]}`))
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"open_force","value":"outage|P1|x"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var cb slack.InteractionCallback
		if json.Unmarshal(raw, &cb) != nil {
			return
		}
		for _, a := range cb.ActionCallback.BlockActions {
			if a == nil {
				continue
			}
			_, _ = incident.ParseID(a.Value)
			_ = approval.ValidID(a.Value)
			_, _ = incident.ParseCategory(a.Value)
		}
	})
}
