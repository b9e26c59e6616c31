package handlers

import (
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// internalID is an action_id-like word: inc_resolve, chk_tick, page_ack.
// (Emoji codes such as :no_entry: are taken out first.)
var internalID = regexp.MustCompile(`[a-z]+_[a-z_]+`)

var emoji = regexp.MustCompile(`:[a-z_]+:`)

// TestButtonRefusalsSpeakToPeople: an outsider clicking any button is
// told the action as they saw it, and who may act by name or @handle:
// no action_id and no raw user group ID. The handles are read once.
func TestButtonRefusalsSpeakToPeople(t *testing.T) {
	rdb, _ := redistest.Client(t)
	prefix := redistest.Prefix()
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.Unlimited()
	fs.AddUser("U1", "alice")
	fs.AddUser("U3", "carol")
	fs.SetGroup("SONCALL", "U2")
	fs.SetGroupHandle("SONCALL", "oncall")
	out := bot.NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	log := logrus.New()
	log.SetOutput(io.Discard)
	rb, err := incident.LoadRunbook("embedded", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	stores := incident.NewStores(rdb, prefix, time.Now)
	store := stores.Incidents
	pub := publish.New(publish.Deps{Store: publish.Stores{Incidents: store, Stale: stores.Outbox, Renders: stores.Outbox, Lines: stores.Outbox, Locks: stores.Markers}, Slack: out, Lookups: publish.Lookups{Groups: out}, Runbook: rb, Channel: "C1", Log: log, Now: time.Now})
	auth := NewAuthorizer([]string{"U1", "SONCALL"}, out, time.Minute, time.Now)
	h := wire(wiring{stores: stores, out: out, pub: pub, rb: rb, auth: auth, log: log,
		approvals: approval.NewStore(rdb, prefix, 10*time.Minute, time.Now), bypass: bypass.NewStore(rdb, prefix, time.Now)})
	ctx := context.Background()
	h.Command(ctx, bot.Command{Text: "open outage P1 Sign-in failing", UserID: "U1", ChannelID: "C1"})
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")

	var ids []string
	for id := range Buttons() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		b := Buttons()[id]
		if b.Label == "" || internalID.MatchString(b.Label) {
			t.Errorf("%s: label %q is not what a person saw", id, b.Label)
		}
		if b.Who == commands.Anyone {
			continue
		}
		h.Action(ctx, bot.Action{ActionID: id, Value: "INC-1", UserID: "U3", ChannelID: "C1"})
		m := fs.ExpectEphemeral(t, "U3", ":no_entry: Only")
		text := emoji.ReplaceAllString(m.Render(), "")
		if !strings.Contains(text, " may "+b.Label+" (") {
			t.Errorf("%s: the refusal does not name the action as %q:\n%s", id, b.Label, text)
		}
		if strings.Contains(text, id) || internalID.MatchString(text) {
			t.Errorf("%s: the refusal shows an internal action ID:\n%s", id, text)
		}
		if strings.Contains(text, "SONCALL") || strings.Contains(text, "subteam") || !strings.Contains(text, "@oncall") || !strings.Contains(text, "<@U1>") {
			t.Errorf("%s: the refusal does not name the responders as <@U1> and @oncall:\n%s", id, text)
		}
	}
	if n := fs.Calls("usergroups.list"); n != 1 {
		t.Errorf("usergroups.list called %d times; the handles are cached", n)
	}
}

// A group whose handle Slack does not give is named as a group, never by
// its raw ID.
func TestNamedWithoutAHandle(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.SetGroupHandle("SONCALL", "oncall")
	out := bot.NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	got := NewAuthorizer([]string{"SONCALL", "SSECRET", "U1"}, out, time.Minute, time.Now).Named(context.Background())
	if got != "<@U1>, @oncall, a Slack user group" {
		t.Fatalf("Named = %q", got)
	}
}
