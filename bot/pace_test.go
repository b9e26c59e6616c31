package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// spentPacer is a shared budget another replica has spent: it never lets
// a call go while ctx lives.
type spentPacer struct{}

func (spentPacer) Wait(ctx context.Context, _ string, _ int, _ time.Duration, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}

// A person's request waits on the shared pace, or on a 429's Retry-After,
// at most its bound and then fails with ErrBusy; background work (no
// bound) keeps waiting.
func TestPaceWaitIsBoundedForInteractiveCalls(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	api := slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL()))

	paced := bot.NewSlack(api, nil, spentPacer{})
	start := time.Now()
	err := paced.Update(bot.WithPaceBound(context.Background(), 100*time.Millisecond), "C1", "1.000001", bot.Msg{Text: "x"})
	if !errors.Is(err, bot.ErrBusy) || time.Since(start) > 2*time.Second {
		t.Fatalf("after %v: %v, want ErrBusy at once", time.Since(start), err)
	}
	bg, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := paced.Update(bg, "C1", "1.000001", bot.Msg{Text: "x"}); errors.Is(err, bot.ErrBusy) {
		t.Fatal("background work gave up as busy instead of waiting")
	}

	ts, err := bot.NewSlack(api, nil, nil).Post(context.Background(), "C1", "", bot.Msg{Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	fs.ThrottleMethod("chat.update", 30*time.Second)
	start = time.Now()
	err = bot.NewSlack(api, nil, nil).Update(bot.WithPaceBound(context.Background(), 3*time.Second), "C1", ts, bot.Msg{Text: "x"})
	if !errors.Is(err, bot.ErrBusy) || time.Since(start) > 2*time.Second {
		t.Fatalf("after %v: %v, want ErrBusy without sleeping Retry-After 30", time.Since(start), err)
	}
}
