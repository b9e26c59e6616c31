package bot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

// Slack takes at most 1000 users a conversations.invite: a channel for a
// bigger group is filled in calls of 1000, and each refusal still named.
func TestInviteSendsAtMostAThousandUsersACall(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	fs.RemoveUser("U02400", "user_not_found")
	s := NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	ctx := context.Background()
	id, err := s.CreateChannel(ctx, "inc-9-big", false)
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for i := range 2500 {
		users = append(users, fmt.Sprintf("U%05d", i))
	}
	failed, err := s.Invite(ctx, id, users)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0] != (InviteFailure{User: "U02400", Error: "user_not_found"}) {
		t.Errorf("failed %v", failed)
	}
	if n := fs.Calls("conversations.invite"); n != 3 {
		t.Errorf("%d invite calls, want 3", n)
	}
	var ch fakeslack.Channel
	for _, c := range fs.Channels() {
		if c.ID == id {
			ch = c
		}
	}
	if len(ch.Members) != 1+2499 || !slices.Contains(ch.Members, "U02499") {
		t.Errorf("%d members", len(ch.Members))
	}
}

// An ephemeral reply needs the bot in the channel: where it is not (or the
// channel is hidden from it), the person gets the reply as a DM instead.
func TestReplyFallsBackToADirectMessageWhereTheBotIsNotInTheChannel(t *testing.T) {
	for _, problem := range []string{"not_in_channel", "channel_not_found"} {
		t.Run(problem, func(t *testing.T) {
			fs := fakeslack.New()
			defer fs.Close()
			fs.Unlimited()
			fs.SetChannel("CPRIV", problem)
			s := NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
			if err := s.Reply(context.Background(), ReplyTo{Channel: "CPRIV", User: "U1"}, Msg{Text: "Only you can see this."}); err != nil {
				t.Fatal(err)
			}
			var got []fakeslack.Message
			for _, m := range fs.Messages() {
				if strings.Contains(m.Text, "Only you can see this.") {
					got = append(got, m)
				}
			}
			if len(got) != 1 || got[0].Channel != "DU1" || got[0].Ephemeral {
				t.Fatalf("reply landed as %+v", got)
			}
		})
	}
}

// Every Web API call bot.Slack makes names a method and arguments Slack's
// own method descriptions define (internal/speccheck/testdata), and a
// planted call outside them fails.
func TestCallsMatchSlacksWebAPIDescription(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	fs.AddUser("U1", "alice")
	fs.SetEmail("U1", "alice@example.com")
	fs.SetGroup("S1", "U1")
	fs.SetGroupHandle("S1", "@oncall")
	fs.SetChannel("CGONE", "not_in_channel")
	s := NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	ctx := context.Background()
	ts, err := s.Post(ctx, "C1", "", Msg{Text: "card", Blocks: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "card", false, false), nil, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { _, err := s.Post(ctx, "C1", ts, Msg{Text: "line", Broadcast: true}); return err },
		func() error { return s.Update(ctx, "C1", ts, Msg{Text: "card v2"}) },
		func() error { return s.Reply(ctx, ReplyTo{Channel: "C1", User: "U1"}, Msg{Text: "only you"}) },
		func() error { return s.Reply(ctx, ReplyTo{Channel: "CGONE", User: "U1"}, Msg{Text: "only you, by DM"}) },
		func() error { return s.Upload(ctx, "C1", ts, "report.md", "Report", "# INC-1", "the report") },
		func() error { _, err := s.GroupMembers(ctx, "S1"); return err },
		func() error { _, err := s.GroupHandles(ctx); return err },
		func() error { _, err := s.OpenDM(ctx, "U1"); return err },
		func() error { _, err := s.LookupEmail(ctx, "alice@example.com"); return err },
		func() error { _, err := s.AuthTest(ctx); return err },
		func() error { return s.CheckUser(ctx, "U1") },
		func() error { _, err := s.DisplayName(ctx, "U1"); return err },
		func() error { return s.CheckChannel(ctx, "C1") },
		func() error {
			id, err := s.CreateChannel(ctx, "inc-1-spec", true)
			if err != nil {
				return err
			}
			if _, err := s.Invite(ctx, id, []string{"U1"}); err != nil {
				return err
			}
			return s.Archive(ctx, id)
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	spec := speccheck.MustLoad(speccheck.Slack)
	speccheck.Verify(t, spec, fs.SpecRequests(), "POST /chat.postMessage", "POST /chat.update", "POST /chat.postEphemeral",
		"POST /conversations.create", "POST /conversations.invite", "POST /conversations.archive", "POST /conversations.open",
		"GET /users.info", "GET /usergroups.users.list", "GET /usergroups.list", "GET /users.lookupByEmail", "GET /auth.test",
		"GET /conversations.info", "POST /files.getUploadURLExternal", "POST /files.completeUploadExternal")
	if errs := fs.SpecErrors(); len(errs) != 0 {
		t.Errorf("SpecErrors: %v", errs)
	}
	resp, err := http.PostForm(fs.APIURL()+"chat.postMessage", url.Values{"token": {fs.BotToken}, "channel": {"C1"}, "text": {"x"}, "thread": {ts}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if errs := fs.SpecErrors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "POST /api/chat.postMessage") || !strings.Contains(errs[0].Error(), `"thread"`) {
		t.Fatalf("the planted call: %v", errs)
	}
}
