package clerkops_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2/user"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// Three replicas share one budget in Redis: together they stay under it,
// so Clerk never answers 429 (three local budgets would triple it).
func TestReplicasShareOneBudget(t *testing.T) {
	fc := fakeclerk.New()
	t.Cleanup(fc.Close)
	fc.SetBudget(40, time.Second)
	for range 3 {
		fc.AddUser("U", "", 0)
	}
	rdb, _ := redistest.Client(t)
	prefix := redistest.Prefix()
	var wg sync.WaitGroup
	start := time.Now()
	for range 3 {
		c := clerkops.New(clerkops.Config{SecretKey: fc.Key, APIURL: fc.URL(), Budget: 40, Window: time.Second, Redis: rdb, Prefix: prefix}, nil)
		for range 4 {
			wg.Go(func() {
				for range 8 {
					if err := c.SampleUsers(context.Background()); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	for _, call := range fc.Calls() {
		if call.Status == 429 {
			t.Fatalf("Clerk answered 429: the replicas spent more than one budget")
		}
	}
	// 96 requests at 40/s take at least about 1.4 s after the first burst.
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Fatalf("96 requests in %v: the budget was not kept", elapsed)
	}
}

// The default budget leaves the production app at least half of the
// instance's limit.
func TestDefaultBudgetIsHalfTheInstanceLimit(t *testing.T) {
	for key, want := range map[string]int{"sk_live_x": 500, "sk_test_x": 50} {
		if n, w := clerkops.EffectiveBudget(clerkops.Config{SecretKey: key}); n != want || w != 10*time.Second {
			t.Errorf("%s: %d per %v, want %d per 10s", key, n, w, want)
		}
	}
	if n, _ := clerkops.EffectiveBudget(clerkops.Config{SecretKey: "sk_live_x", Budget: 800, Window: 10 * time.Second}); n != 800 {
		t.Errorf("CLERK_RATE_LIMIT not honoured: %d", n)
	}
}

// A Retry-After is waited out in full; one over 60 s is told, not cut short.
func TestRetryAfterHonouredInFull(t *testing.T) {
	fc := fakeclerk.New()
	t.Cleanup(fc.Close)
	fc.AddUser("U", "", 0)
	c := clerkops.New(clerkops.Config{SecretKey: fc.Key, APIURL: fc.URL(), Budget: 100, Window: time.Second}, nil)
	fc.Fail("GET", "/users", 429, 1, 1)
	start := time.Now()
	if err := c.SampleUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("Retry-After: 1 was cut short to %v", waited)
	}
	fc.Fail("GET", "/users", 429, 1, 120)
	start = time.Now()
	_, err := c.ListUsers(context.Background(), &user.ListParams{})
	err = clerkops.Explain(err, "list users")
	if apperr.CodeOf(err) != apperr.ClerkRateLimited || !strings.Contains(err.Error(), "wait 2m0s") {
		t.Fatalf("a 120 s Retry-After gave %v", err)
	}
	var ra *clerkops.RetryAfterError
	if !errors.As(err, &ra) || time.Since(start) > 5*time.Second {
		t.Fatalf("not told at once: %v after %v", err, time.Since(start))
	}
}
