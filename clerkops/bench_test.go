package clerkops_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

// BenchmarkRevoke1000Users revokes 2 active sessions of each of 1,000
// users against a fake Clerk enforcing 1000 requests per 10 s: 3,000
// requests, so the limit alone bounds it at 30 s at a steady rate. The
// budget is set explicitly (the default leaves the app half) and kept by
// the shared Redis limiter, as in production.
func BenchmarkRevoke1000Users(b *testing.B) {
	revokeBench(b, "", 115, nil)
}

// BenchmarkRevoke1000UsersSlack429 is the same revoke reporting progress
// in the incident thread (as `/clerk-incident revoke` does) while Slack
// answers every chat.update with 429 and Retry-After 30: the progress
// message must not hold the workers, so Clerk's budget alone bounds it.
func BenchmarkRevoke1000UsersSlack429(b *testing.B) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	log := logrus.New()
	log.SetOutput(io.Discard)
	out := bot.NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	pub := publish.New(publish.Deps{Slack: out, Log: log})
	inc := &incident.Incident{ID: "INC-1", Channel: "CINC", CardTS: "1.000001"}
	revokeBench(b, ", every chat.update 429 Retry-After 30", 105, func() (func(done, failed int), func()) {
		pm := pub.Progress.StartProgress(context.Background(), inc, "Revoking the sessions of 1000 users", 1000)
		fs.ThrottleMethod("chat.update", 30*time.Second)
		return pm.Update, func() {
			start := time.Now()
			pm.Finish(context.Background())
			fmt.Printf("progress Finish returned after %v; chat.update calls refused: %d\n", time.Since(start).Round(time.Millisecond), fs.Calls("chat.update"))
		}
	})
}

// revokeBench runs the revoke; progress, if set, gives the per-user
// callback and what to do when the work is done.
func revokeBench(b *testing.B, what string, maxPercent int, progress func() (func(done, failed int), func())) {
	rdb, _ := redistest.Client(b)
	for range b.N {
		fc := fakeclerk.New()
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = fc.AddUser("U", fmt.Sprintf("u%d@example.com", i), 2).ID
		}
		fc.SetBudget(1000, 10*time.Second)
		c := clerkops.New(clerkops.Config{SecretKey: "sk_live_fake", APIURL: fc.URL(), Budget: 1000, Window: 10 * time.Second,
			Redis: rdb, Prefix: redistest.Prefix()}, nil)
		fc.Key = "sk_live_fake"
		var update func(done, failed int)
		finish := func() {}
		if progress != nil {
			update, finish = progress()
		}
		start := time.Now()
		res := c.RevokeMany(context.Background(), ids, 8, false, update)
		wall := time.Since(start)
		finish()
		failed := 0
		for _, r := range res {
			if r.Err != nil || r.Revoked != 2 {
				failed++
			}
		}
		left := fc.ActiveSessions("")
		throttled := 0
		for _, call := range fc.Calls() {
			if call.Status == 429 {
				throttled++
			}
		}
		fc.Close()
		bound := 30 * time.Second
		fmt.Printf("revoked 2 sessions of 1000 users (3000 requests at 1000/10s%s): wall %v, bound %v, ratio %.3f; failed %d, sessions left active %d, 429s %d\n",
			what, wall.Round(time.Millisecond), bound, wall.Seconds()/bound.Seconds(), failed, left, throttled)
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-bound")
		if failed > 0 || left > 0 {
			b.Fatalf("%d users failed, %d sessions left", failed, left)
		}
		if wall > bound*time.Duration(maxPercent)/100 {
			b.Fatalf("took %v, over %d%% of %v", wall, maxPercent, bound)
		}
	}
}
