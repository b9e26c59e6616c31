package redisx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// The first caller wins the marker; later ones (any replica) see it set,
// and asking again neither resets its TTL nor lengthens it.
func TestOnceFirstTrueThenFalseAndTTLKept(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	key := prefix + "marker"
	first, err := redisx.Once(ctx, rdb, key, time.Minute)
	if err != nil || !first {
		t.Fatalf("first: %v %v", first, err)
	}
	again, err := redisx.Once(ctx, rdb, key, time.Hour)
	if err != nil || again {
		t.Fatalf("second: %v %v", again, err)
	}
	ttl, err := rdb.PTTL(ctx, key).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %v (%v): the marker must keep its first TTL", ttl, err)
	}
	// 0 keeps it for good, as the poller's warnings need.
	forever := prefix + "forever"
	if first, err := redisx.Once(ctx, rdb, forever, 0); err != nil || !first {
		t.Fatalf("no-TTL first: %v %v", first, err)
	}
	if ttl, _ := rdb.TTL(ctx, forever).Result(); ttl != -1 {
		t.Fatalf("no-TTL marker has ttl %v", ttl)
	}
}

// Retry stops at the first done or error, and a race lost every time ends
// in a Conflict after MaxAttempts tries.
func TestRetryPolicy(t *testing.T) {
	ctx := context.Background()
	n := 0
	err := redisx.Retry(ctx, func() string { return "k" }, func() (bool, error) { n++; return n == 3, nil })
	if err != nil || n != 3 {
		t.Fatalf("done on the third try: n=%d err=%v", n, err)
	}
	boom := errors.New("boom")
	n = 0
	if err := redisx.Retry(ctx, func() string { return "k" }, func() (bool, error) { n++; return false, boom }); !errors.Is(err, boom) || n != 1 {
		t.Fatalf("an error ends it at once: n=%d err=%v", n, err)
	}
	n = 0
	err = redisx.Retry(ctx, func() string { return "INC-9" }, func() (bool, error) { n++; return false, nil })
	if n != redisx.MaxAttempts || apperr.CodeOf(err) != apperr.Conflict || !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("always contended: n=%d err=%v (code %v)", n, err, apperr.CodeOf(err))
	}
}
