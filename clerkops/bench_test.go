package clerkops_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// BenchmarkRevoke1000Users revokes 2 active sessions of each of 1,000
// users against a fake Clerk enforcing 1000 requests per 10 s: 3,000
// requests, so the limit alone bounds it at 30 s at a steady rate. The
// budget is set explicitly (the default leaves the app half) and kept by
// the shared Redis limiter, as in production.
func BenchmarkRevoke1000Users(b *testing.B) {
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
		start := time.Now()
		res := c.RevokeMany(context.Background(), ids, 8, false, nil)
		wall := time.Since(start)
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
		fmt.Printf("revoked 2 sessions of 1000 users (3000 requests at 1000/10s): wall %v, bound %v, ratio %.2f; failed %d, sessions left active %d, 429s %d\n",
			wall.Round(time.Millisecond), bound, wall.Seconds()/bound.Seconds(), failed, left, throttled)
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-bound")
		if failed > 0 || left > 0 {
			b.Fatalf("%d users failed, %d sessions left", failed, left)
		}
		if wall > bound*115/100 {
			b.Fatalf("took %v, over 1.15 × %v", wall, bound)
		}
	}
}
