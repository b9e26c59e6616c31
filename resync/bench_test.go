package resync_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// BenchmarkResync20000Users: 20,000 users, a fake Clerk enforcing 1000
// requests/10 s, a fake app taking 5 ms per delivery, concurrency 16. The
// bound is max(listing bound, 20,000 × 5 ms / 16 = 6.25 s); the run must
// finish within 1.2 × that, with peak heap growth under 32 MB.
func BenchmarkResync20000Users(b *testing.B) {
	// The fake Clerk, the fake app and the bot share this process. On a
	// 2-core machine, 2 Ps add ~1 ms of wake-up latency to every loopback
	// round trip, which the fakes cause as much as the bot; 8 Ps measure
	// the bot rather than the shared scheduler. BENCHMARKS.md gives both.
	if procs := benchProcs(); procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	}
	for range b.N {
		w := newWorld(b, 20000)
		w.clerk.SetBudget(1000, 10*time.Second)
		w.app.SetDelay(time.Duration(benchDelayMS) * time.Millisecond)
		rep := &reports{}
		r := w.runner(b, redistest.Prefix(), rep, 16)
		ctx := context.Background()
		if _, err := r.Start(ctx, resync.Job{}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > peak.Load() {
						peak.Store(m.HeapAlloc)
					}
				}
			}
		})
		start := time.Now()
		r.Resume(ctx)
		j := waitDone(b, rep)
		wall := time.Since(start)
		close(stop)
		wg.Wait()
		growth := int64(peak.Load()) - int64(base)
		listRequests := 20000/500 + 1
		listBound := time.Duration(float64(listRequests)/1000*10) * time.Second
		bound := max(listBound, 20000*5*time.Millisecond/16)
		fmt.Printf("resync of 20000 users (concurrency 16, app 5 ms, Clerk 1000/10s, GOMAXPROCS %d): wall %v, bound %v, ratio %.2f; peak heap growth %.1f MB; delivered %d, failed %d\n",
			runtime.GOMAXPROCS(0), wall.Round(time.Millisecond), bound, wall.Seconds()/bound.Seconds(), float64(growth)/(1<<20), j.Delivered, j.Failed)
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-bound")
		b.ReportMetric(float64(growth)/(1<<20), "heap-growth-MB")
		if j.Status != resync.Done || j.Delivered != 20000 || w.app.Users() != 20000 {
			b.Fatalf("job %+v, app holds %d", j, w.app.Users())
		}
		if wall > bound*12/10 {
			b.Fatalf("took %v, over 1.2 × %v", wall, bound)
		}
		if growth > 32<<20 {
			b.Fatalf("heap grew %d MB", growth>>20)
		}
	}
}

var benchDelayMS = 5

// benchProcs is GOMAXPROCS for the resync benchmark: RESYNC_BENCH_PROCS,
// default 8 (0 keeps the runtime's choice).
func benchProcs() int {
	if v := os.Getenv("RESYNC_BENCH_PROCS"); v != "" {
		n, _ := strconv.Atoi(v)
		return n
	}
	return 8
}
