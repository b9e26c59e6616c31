package publish_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// The guard raises the alarm before a crashed loop turns again: with
// Slack answering every chat.postMessage 429 (Retry-After 30), a dozen
// crashed loops must still restart at once, and each notice reaches the
// channel once Slack answers again.
func TestAlarmDoesNotHoldACrashedLoopOnSlack(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	rdb, prefix := redistest.Client(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	st := incident.NewStores(rdb, prefix, time.Now)
	ps := publish.Stores{Incidents: st.Incidents, Stale: st.Outbox, Renders: st.Outbox, Lines: st.Outbox, Locks: st.Markers}
	sl := bot.NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, redisx.NewPacer(rdb, prefix))
	pub := publish.New(publish.Deps{Store: ps, Slack: sl, Channel: "CINC", Log: log})
	g := guard.New(log, pub.Alarm, nil)
	fs.ThrottleMethod("chat.postMessage", 30*time.Second)

	jobs := []string{"sweep", "escalation engine", "status poller", "socket listener", "socket mode client", "http",
		"approval expiry", "bypass tick", "approval outbox", "card catch-up", "slack handler", "resync worker"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	returned := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		for _, job := range jobs {
			turns := 0
			g.Loop(ctx, job, func(context.Context) {
				if turns++; turns == 1 {
					panic("injected failure in " + job)
				}
			})
		}
		returned <- time.Since(start)
	}()
	select {
	case d := <-returned:
		if d > 2*time.Second {
			t.Fatalf("%d crashed loops took %v to turn again while Slack answered 429", len(jobs), d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a crashed loop waited on Slack before turning again")
	}
	if n := fs.Calls("chat.postMessage"); n != 0 {
		t.Fatalf("the alarm called Slack %d times itself; the line poster posts", n)
	}

	fs.UnthrottleMethod("chat.postMessage")
	go pub.Cards.RunRenderer(ctx)
	for _, job := range jobs {
		fs.ExpectWithin(t, 40*time.Second, fakeslack.Match{Channel: "CINC", Contains: []string{"The bot's " + job + " hit an internal error and carried on"}})
	}
	// Each notice is its own message in the channel, outside any thread.
	for _, m := range fs.Messages() {
		if m.Channel == "CINC" && m.ThreadTS != "" {
			t.Errorf("a notice went to a thread: %q", m.Text)
		}
	}
}
