package fakeslack_test

import (
	"context"
	"errors"
	"testing"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// By default a channel takes a burst of 4 posts, then 429 with
// Retry-After, as Slack does; another channel has its own allowance.
func TestFakeSlackEnforcesPostMessagePerChannel(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	api := slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL()))
	post := func(ch string) error {
		_, _, err := api.PostMessageContext(context.Background(), ch, slack.MsgOptionText("x", false))
		return err
	}
	for i := range 4 {
		if err := post("C1"); err != nil {
			t.Fatalf("post %d: %v", i+1, err)
		}
	}
	var rl *slack.RateLimitedError
	if err := post("C1"); !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("fifth post in a burst: %v, want 429 with Retry-After", err)
	}
	if err := post("C2"); err != nil {
		t.Fatalf("another channel: %v", err)
	}
	if fs.Throttled() != 1 {
		t.Fatalf("throttled %d", fs.Throttled())
	}
}
