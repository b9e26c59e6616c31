package publish_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/rooms"
)

func channelsOver(t *testing.T) (*publish.Channels, *fakeslack.Server) {
	t.Helper()
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.Unlimited()
	return publish.NewChannels(bot.NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)), fs
}

// Slack's codes stay in publish: a taken name moves on to the next
// suffix, a refusal comes back with the reason people read, and an
// archive that will never work is rooms.ErrArchiveRefused.
func TestChannelsReadSlacksCodes(t *testing.T) {
	ch, fs := channelsOver(t)
	fs.AddChannel("CTAKEN1", "inc-1-login")
	fs.AddChannel("CTAKEN2", "inc-1-login-2")
	id, used, err := ch.Create(t.Context(), "inc-1-login", false)
	if err != nil || used != "inc-1-login-3" || id == "" {
		t.Fatalf("Create = %q %q %v, want inc-1-login-3", id, used, err)
	}

	// Those already in the channel (and the bot itself) are no failure;
	// someone Slack does not know is, with Slack's reason.
	failed, err := ch.Invite(t.Context(), id, []string{"UBOT", "U1", "Xnobody"})
	if err != nil || len(failed) != 1 || failed[0].User != "Xnobody" || failed[0].Why != "user_not_found" {
		t.Fatalf("Invite = %+v %v", failed, err)
	}
	if failed, err := ch.Invite(t.Context(), id, []string{"U1"}); err != nil || len(failed) != 0 {
		t.Fatalf("inviting again = %+v %v", failed, err)
	}

	fs.RestrictChannelCreation(true)
	_, used, err = ch.Create(t.Context(), "inc-2-db", false)
	rf, ok := errors.AsType[*rooms.Refusal](err)
	if !ok || used != "inc-2-db" || !strings.HasPrefix(rf.Reason, "restricted_action: ") || bot.SlackCode(err) != "restricted_action" {
		t.Fatalf("restricted create = %q %v", used, err)
	}

	if err := ch.Archive(t.Context(), "CTAKEN1"); !errors.Is(err, rooms.ErrArchiveRefused) { // the bot is not in it
		t.Fatalf("archive without the bot = %v", err)
	}
	if err := ch.Archive(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := ch.Archive(t.Context(), id); err != nil {
		t.Fatalf("archived twice = %v, want done", err)
	}
}

// Every name in the suffix range taken: the reason says so.
func TestChannelsAllNamesTaken(t *testing.T) {
	ch, fs := channelsOver(t)
	fs.AddChannel("CT1", "inc-3-x")
	for k := 2; k <= 20; k++ {
		fs.AddChannel("CT"+string(rune('A'+k)), rooms.WithSuffix("inc-3-x", k))
	}
	_, used, err := ch.Create(t.Context(), "inc-3-x", false)
	rf, ok := errors.AsType[*rooms.Refusal](err)
	if !ok || used != "inc-3-x-20" || rf.Reason != "name_taken: 20 names with suffixes were taken" {
		t.Fatalf("Create = %q %v", used, err)
	}
}
