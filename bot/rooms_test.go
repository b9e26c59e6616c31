package bot

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// Channel creation, invites and archive through slack-go against the fake
// Slack, with Slack's errors: name rules, name_taken, restricted_action;
// invites with force add the good IDs and report each refused one;
// archive twice is fine; posting to an archived channel is is_archived.
func TestChannelsCreateInviteArchiveAsSlackAnswers(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	fs.RemoveUser("UGONE", "user_not_found")
	s := NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	ctx := context.Background()

	for name, code := range map[string]string{"": "invalid_name_required", "Inc-1": "invalid_name_punctuation", "inc-1-ü": "invalid_name_specials",
		strings.Repeat("a", 81): "invalid_name_maxlength"} {
		if _, err := s.CreateChannel(ctx, name, false); SlackCode(err) != code {
			t.Errorf("create %q: %v, want %s", name, err, code)
		}
	}
	id, err := s.CreateChannel(ctx, "inc-1-x", false)
	if err != nil || id == "" {
		t.Fatalf("create: %q %v", id, err)
	}
	if _, err := s.CreateChannel(ctx, "inc-1-x", false); SlackCode(err) != "name_taken" {
		t.Fatalf("second create: %v", err)
	}

	failed, err := s.Invite(ctx, id, []string{"U1", "UBOT", "UGONE", "U2"})
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	want := []InviteFailure{{User: "UBOT", Error: "cant_invite_self"}, {User: "UGONE", Error: "user_not_found"}}
	if !slices.Equal(failed, want) {
		t.Fatalf("failures %+v, want %+v", failed, want)
	}
	if failed, err := s.Invite(ctx, id, []string{"U1"}); err != nil || len(failed) != 1 || failed[0].Error != "already_in_channel" {
		t.Fatalf("invite again: %+v %v", failed, err)
	}
	members := fs.Channels()[0].Members
	if !slices.Equal(members, []string{"UBOT", "U1", "U2"}) {
		t.Fatalf("members %v", members)
	}

	if err := s.Archive(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Archive(ctx, id); err != nil {
		t.Fatalf("already_archived is done: %v", err)
	}
	if _, err := s.Post(ctx, id, "", Msg{Text: "hello"}); SlackCode(err) != "is_archived" {
		t.Fatalf("post to archived: %v", err)
	}
	if _, err := s.Invite(ctx, id, []string{"U3"}); SlackCode(err) != "is_archived" {
		t.Fatalf("invite to archived: %v", err)
	}
	if err := s.Archive(ctx, "CNOPE"); SlackCode(err) != "channel_not_found" {
		t.Fatalf("archive unknown: %v", err)
	}

	fs.RestrictChannelCreation(true)
	if _, err := s.CreateChannel(ctx, "inc-2-y", false); SlackCode(err) != "restricted_action" {
		t.Fatalf("restricted: %v", err)
	}
	fs.SetScopes("chat:write")
	if _, err := s.CreateChannel(ctx, "inc-3-z", true); SlackCode(err) != "missing_scope" {
		t.Fatalf("private without groups:write: %v", err)
	}
}

func TestMissingScopes(t *testing.T) {
	if got := MissingScopes("commands,chat:write, channels:manage", "channels:manage", "groups:write"); !slices.Equal(got, []string{"groups:write"}) {
		t.Fatalf("got %v", got)
	}
}
