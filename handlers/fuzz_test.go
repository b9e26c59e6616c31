package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// FuzzParse: no command text makes the parser panic, and what it accepts
// is a known subcommand.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "open outage P1 Sign-in failing", "note INC-3 a\nb", "resolve INC-", "lockout user_1 a@b.c -- why", "ß", "INC-99999999999999999999", "bypass on 30m", "webhook INC-3 check", "bypass INC-2 on 30m x", "revoke a\nINC-2\nb"} {
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
			// The "say which one" example parses back to the same command
			// on the incident it names.
			if ex := p.WithID("INC-2"); !p.Sub.NoID && !slices.Contains(p.Sub.NoIDVerbs, p.Verb) && !strings.HasSuffix(ex, "…") {
				back, err := Parse(strings.TrimPrefix(ex, "/clerk-incident "))
				if err != nil || back.ID != "INC-2" || back.Sub.Name != p.Sub.Name || strings.Join(back.Args[min(1, len(back.Args)):], " ") != strings.Join(p.Args[min(1, len(p.Args)):], " ") {
					t.Fatalf("%q: example %q parses to %+v, %v", text, ex, back, err)
				}
			}
		}
		// A refusal says which: an unknown word (named, as typed) or a
		// misused subcommand with a problem and its usage line.
		var ue *commands.UsageError
		var unk *commands.UnknownError
		switch {
		case err == nil:
		case errors.As(err, &ue):
			if strings.TrimSpace(ue.Problem) == "" || !strings.HasPrefix(ue.Usage, "/clerk-incident ") {
				t.Fatalf("%q: usage error %+v", text, ue)
			}
		case errors.As(err, &unk):
			if unk.Word == "" || !strings.Contains(text, unk.Word) {
				t.Fatalf("%q: unknown-subcommand error names %q", text, unk.Word)
			}
		default:
			t.Fatalf("%q: untyped error %v", text, err)
		}
		_, _ = account.ParseRefs(text)
		_ = approval.ValidID(text)
	})
}

// FuzzSlackPayload: a click of any shape, with any action_id and value,
// goes through the real click handler against a real store and a fake
// Slack: it never panics, never opens or changes an incident it should
// not, and always answers the user.
func FuzzSlackPayload(f *testing.F) {
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U2"},"container":{"message_ts":"1.2","channel_id":"C1"},"actions":[{"action_id":"chk_tick","block_id":"chk:INC-1:4a","value":"INC-1|4a|1"}]}`))
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"open_force","block_id":"b","value":"outage|P1|x"}]}`))
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"approval_approve","block_id":"b","value":"apr-aaaaaaaaaaaa"}]}`))
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"inc_resolve","block_id":"b","value":"INC-99999999999999999999"}]}`))
	f.Add([]byte(`{}`))
	// Seeds carry a block_id: without one slack-go reads an action as an
	// attachment action, which the bot never receives.
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"no_such_button","block_id":"b","value":"INC-1"}]}`))
	// Every button the bot knows, with values of each shape it uses, so
	// the fuzz starts from clicks that reach each handler.
	for id := range Buttons() {
		for _, v := range []string{"", "INC-1", "INC-1|4a|1", "INC-1|x", "apr-aaaaaaaaaaaa", "outage|P1|x", "INC-2"} {
			raw, _ := json.Marshal(map[string]any{"type": "block_actions", "actions": []map[string]string{{"action_id": id, "block_id": "chk:" + v, "value": v}}})
			f.Add(raw)
		}
	}
	env := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var cb slack.InteractionCallback
		if json.Unmarshal(raw, &cb) != nil {
			return
		}
		for _, a := range cb.ActionCallback.BlockActions {
			if a == nil || len(a.Value) > 2000 {
				continue
			}
			before := env.answers()
			// U3 is not a responder: nothing it clicks may change state.
			env.h.Action(context.Background(), bot.Action{ActionID: a.ActionID, BlockID: a.BlockID, Value: a.Value, UserID: "U3",
				ChannelID: "C1", MessageTS: cb.Container.MessageTs})
			inc, err := env.store.Get(context.Background(), env.id)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Version != env.version || !inc.Open() {
				t.Fatalf("a non-responder's click %q=%q changed %s", a.ActionID, a.Value, env.id)
			}
			if open, _ := env.store.ListOpen(context.Background()); len(open) != 1 {
				t.Fatalf("a non-responder's click %q=%q opened an incident", a.ActionID, a.Value)
			}
			if env.answers() == before {
				t.Fatalf("a non-responder's click %q=%q got no answer", a.ActionID, a.Value)
			}
		}
	})
}

type fuzzEnv struct {
	fs      *fakeslack.Server
	h       *Handlers
	store   *incident.Store
	id      string
	version int
}

// newFuzzEnv wires the handlers as the program does, over a real Redis
// and the fake Slack, with one open incident.
func newFuzzEnv(tb testing.TB) *fuzzEnv {
	rdb, _ := redistest.Client(tb)
	prefix := redistest.Prefix()
	fs := fakeslack.New()
	tb.Cleanup(fs.Close)
	// Tens of thousands of clicks a minute test what a payload can do, not
	// Slack's pace: under its limits each would wait out a 429.
	fs.Unlimited()
	for id, name := range map[string]string{"U1": "alice", "U3": "carol"} {
		fs.AddUser(id, name)
	}
	out := bot.NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	log := logrus.New()
	log.SetOutput(io.Discard)
	rb, err := incident.LoadRunbook("embedded", incident.DefaultRunbook())
	if err != nil {
		tb.Fatal(err)
	}
	stores := incident.NewStores(rdb, prefix, time.Now)
	store := stores.Incidents
	pub := publish.New(publish.Deps{Store: publish.Stores{Incidents: store, Stale: stores.Outbox, Renders: stores.Outbox, Lines: stores.Outbox, Locks: stores.Markers}, Slack: out, Lookups: publish.Lookups{Groups: out}, Runbook: rb, Channel: "C1", Log: log, Now: time.Now})
	ticks := usecase.NewTicks(store, rb, nil, log)
	approvals := approval.NewStore(rdb, prefix, 10*time.Minute, time.Now)
	bp := bypass.NewStore(rdb, prefix, time.Now)
	auth := NewAuthorizer([]string{"U1"}, out, time.Minute, time.Now)
	h := wire(wiring{stores: stores, out: out, pub: pub, rb: rb, auth: auth, log: log, approvals: approvals, bypass: bp,
		executor: approval.NewExecutor(approvals, store, map[string]approval.Doer{approval.BypassOn: usecase.BypassOn{Bypass: bp, Pub: ticks, Now: time.Now, Log: log}},
			usecase.NewWork(usecase.WorkDeps{Store: store, Approvals: usecase.NewApprovalNews(ticks, pub.Approvals, nil), Log: log}), nil, log),
		audit: audit.New(rdb, prefix, log, time.Now)})
	h.Command(context.Background(), bot.Command{Text: "open outage P1 Fuzzed", UserID: "U1", ChannelID: "C1"})
	open, err := store.ListOpen(context.Background())
	if err != nil || len(open) != 1 {
		tb.Fatalf("open: %v %d", err, len(open))
	}
	return &fuzzEnv{fs: fs, h: h, store: store, id: open[0].ID, version: open[0].Version}
}

// answers counts what U3 has been told: its ephemeral replies (the fuzz
// clicks carry no response_url) and modals opened for it.
func (e *fuzzEnv) answers() int {
	n := e.fs.Calls("views.open") + e.fs.Calls("views.push")
	for _, m := range e.fs.Messages() {
		if m.Ephemeral && m.User == "U3" {
			n++
		}
	}
	return n
}
