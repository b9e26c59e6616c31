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
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// A bulk revoke reports each user through Update from its workers: with
// Slack answering every chat.update 429 (Retry-After 30), Update must
// return at once, and the latest count shows once Slack answers again.
func TestProgressUpdateDoesNotWaitOnSlack(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	log := logrus.New()
	log.SetOutput(io.Discard)
	pub := publish.New(publish.Deps{Slack: bot.NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil), Log: log})
	inc := &incident.Incident{ID: "INC-1", Channel: "CINC", CardTS: "1.000001"}
	pm := pub.Progress.StartProgress(context.Background(), inc, "Revoking", 100)
	msg := fs.ExpectMessage(t, "CINC", "Revoking: 0/100 done")
	fs.ThrottleMethod("chat.update", 30*time.Second)

	returned := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		for i := 1; i <= 50; i++ {
			pm.Update(i, 0)
			if i == 1 {
				// Let the poster start its (refused) chat.update.
				for fs.Calls("chat.update") == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}
		returned <- time.Since(start)
	}()
	select {
	case d := <-returned:
		if d > time.Second {
			t.Fatalf("50 updates took %v while Slack answered 429", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Update waited on Slack's 429")
	}
	fs.UnthrottleMethod("chat.update")
	pm.Update(100, 2)
	finished := make(chan struct{})
	go func() { pm.Finish(context.Background()); close(finished) }()
	fs.ExpectUpdated(t, msg, "Revoking: 100/100 done, 2 failed, in")
	<-finished
}
