package bypass_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

type notes struct {
	mu                 sync.Mutex
	reminders, expired int
}

func (n *notes) BypassReminder(ctx context.Context, st bypass.State) {
	n.mu.Lock()
	n.reminders++
	n.mu.Unlock()
}
func (n *notes) BypassExpired(ctx context.Context, st bypass.State) {
	n.mu.Lock()
	n.expired++
	n.mu.Unlock()
}

func TestBypassLifecycleAnnouncedOnceAcrossReplicas(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	replicas := []*bypass.Store{bypass.NewStore(rdb, prefix, clock), bypass.NewStore(rdb, prefix, clock), bypass.NewStore(rdb, prefix, clock)}
	ctx := context.Background()
	st := bypass.State{ExpiresAt: now.Add(30 * time.Minute), Incident: "INC-1", Reason: "Clerk down", RequestedBy: "U1", ApprovedBy: "U2"}
	if err := replicas[0].On(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, err := replicas[1].Get(ctx)
	if err != nil || !got.Enabled || got.Incident != "INC-1" {
		t.Fatalf("%+v %v", got, err)
	}
	// Apps reading Redis see the same JSON under the documented key, with a TTL.
	raw, _ := rdb.Get(ctx, replicas[0].Key()).Bytes()
	var pub map[string]any
	if err := json.Unmarshal(raw, &pub); err != nil {
		t.Fatalf("published %q: %v", raw, err)
	}
	if pub["enabled"] != true || pub["expires_at"] != "2026-11-25T03:30:00Z" {
		t.Fatalf("published %s", raw)
	}
	if ttl := rdb.TTL(ctx, replicas[0].Key()).Val(); ttl <= 0 || ttl > 30*time.Minute {
		t.Fatalf("ttl %v", ttl)
	}
	n := &notes{}
	tickAll := func() {
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Go(func() {
				if err := r.Tick(ctx, n); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	tickAll()
	advance(25 * time.Minute)
	tickAll()
	tickAll()
	advance(5 * time.Minute)
	tickAll()
	tickAll()
	if n.reminders != 1 || n.expired != 1 {
		t.Fatalf("reminders %d, expired %d", n.reminders, n.expired)
	}
	if got, _ := replicas[2].Get(ctx); got.Enabled {
		t.Fatal("still enabled after expiry")
	}
	if rdb.Exists(ctx, replicas[0].Key()).Val() != 0 {
		t.Fatal("public key left behind")
	}
	// Off when nothing is on says so.
	if _, found, err := replicas[0].Off(ctx); err != nil || found {
		t.Fatalf("off: %v %v", found, err)
	}
}

// Apps read Get; when the sweep's Tick is late (Redis slow, every replica
// restarting) the bypass must still end at its deadline, not at the Tick.
func TestGetEndsAtTheDeadlineWithoutTick(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	s := bypass.NewStore(rdb, prefix, func() time.Time { return now })
	ctx := context.Background()
	if err := s.On(ctx, bypass.State{ExpiresAt: now.Add(30 * time.Minute), Incident: "INC-1", Reason: "Clerk down"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(30*time.Minute - time.Second)
	if got, err := s.Get(ctx); err != nil || !got.Enabled {
		t.Fatalf("a second before the deadline: %+v %v", got, err)
	}
	now = now.Add(time.Second)
	if got, err := s.Get(ctx); err != nil || got.Enabled {
		t.Fatalf("served past its deadline (no Tick yet): %+v %v", got, err)
	}
}
