package clerkops_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// Two replicas spend one budget of n per window as fast as it lets them,
// for one full window: at most n requests go out in it, burst included
// (a budget of n steady plus the burst would send n+burst-1).
func TestSharedBudgetCountsAFullWindow(t *testing.T) {
	const n, window = 300, 3 * time.Second // burst 6, one request every ~10 ms after it
	rdb, _ := redistest.Client(t)
	prefix := redistest.Prefix()
	replicas := []*clerkops.SharedLimiter{clerkops.NewSharedLimiter(rdb, prefix, n, window), clerkops.NewSharedLimiter(rdb, prefix, n, window)}
	// Every time is taken after Wait returned, and the window starts before
	// the first Wait: the count is never more than what was really let
	// through within one window, so a correct budget cannot fail here.
	start := time.Now()
	end := start.Add(window)
	var mu sync.Mutex
	sent := 0
	var wg sync.WaitGroup
	for _, l := range replicas {
		wg.Go(func() {
			for {
				if err := l.Wait(context.Background()); err != nil {
					t.Error(err)
					return
				}
				if !time.Now().Before(end) {
					return
				}
				mu.Lock()
				sent++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if sent > n {
		t.Fatalf("%d requests within one %v window on a budget of %d", sent, window, n)
	}
	if sent < n/2 { // the loop must have spent the budget for the count to mean anything
		t.Fatalf("only %d of %d requests in a window: the budget is not spent", sent, n)
	}
}
