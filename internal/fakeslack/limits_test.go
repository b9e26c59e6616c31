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

// users.lookupByEmail is Tier 3 (about 50 a minute, burst 20), not Tier 4:
// the 21st lookup in a burst is answered 429.
func TestFakeSlackLookupByEmailIsTier3(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.SetEmail("U1", "a@example.com")
	api := slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL()))
	var rl *slack.RateLimitedError
	for i := range 21 {
		_, err := api.GetUserByEmailContext(context.Background(), "a@example.com")
		if errors.As(err, &rl) {
			if i < 20 {
				t.Fatalf("429 after %d lookups, want a burst of 20", i)
			}
			return
		}
		if err != nil {
			t.Fatalf("lookup %d: %v", i+1, err)
		}
	}
	t.Fatal("21 lookups in a burst were all answered: Tier 4's limits, want Tier 3's")
}
