package webhookpause_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
)

type notes struct {
	mu    sync.Mutex
	after []time.Duration
}

func (n *notes) WebhooksStillPaused(ctx context.Context, st webhookpause.State, d time.Duration) {
	n.mu.Lock()
	n.after = append(n.after, d)
	n.mu.Unlock()
}

func TestPauseResumeSharedAndRemindedOnceEveryHalfHour(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a := webhookpause.NewStore(rdb, prefix, "msg_resync_", clock)
	b := webhookpause.NewStore(rdb, prefix, "msg_resync_", clock)
	ctx := context.Background()

	if st, err := b.Get(ctx); err != nil || st.Paused || st.ResyncIDPrefix != "msg_resync_" {
		t.Fatalf("before: %+v %v", st, err)
	}
	if _, err := a.Pause(ctx, "U1", "resync after outage", "INC-1"); err != nil {
		t.Fatal(err)
	}
	st, err := b.Get(ctx)
	if err != nil || !st.Paused || st.By != "U1" || st.Incident != "INC-1" || !st.Since.Equal(now) {
		t.Fatalf("other replica sees %+v %v", st, err)
	}
	raw, _ := json.Marshal(st)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	for _, k := range []string{"paused", "since", "by", "reason", "incident", "resync_id_prefix"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, raw)
		}
	}
	if cur, err := b.Pause(ctx, "U2", "again", ""); !errors.Is(err, webhookpause.ErrAlreadyPaused) || cur.By != "U1" {
		t.Fatalf("second pause: %+v %v", cur, err)
	}

	n := &notes{}
	tick := func() {
		for _, s := range []*webhookpause.Store{a, b, a} {
			if err := s.Tick(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	tick()
	advance(29 * time.Minute)
	tick()
	advance(time.Minute)
	tick()
	advance(10 * time.Minute)
	tick()
	advance(20 * time.Minute)
	tick()
	if len(n.after) != 2 || n.after[0] != 30*time.Minute || n.after[1] != time.Hour {
		t.Fatalf("reminders %v, want one at 30m and one at 1h", n.after)
	}

	was, err := b.Resume(ctx)
	if err != nil || was.Reason != "resync after outage" || was.Paused {
		t.Fatalf("resume: %+v %v", was, err)
	}
	if st, _ := a.Get(ctx); st.Paused {
		t.Fatal("still paused after resume")
	}
	if _, err := a.Resume(ctx); !errors.Is(err, webhookpause.ErrNotPaused) {
		t.Fatalf("second resume: %v", err)
	}
	advance(time.Hour)
	tick()
	if len(n.after) != 2 {
		t.Fatalf("reminded after resume: %v", n.after)
	}
}
