package clerkops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
)

// RequestBudget is what the transport waits on before each request.
type RequestBudget interface {
	Wait(ctx context.Context) error
	// Pause holds every request until t (a 429's Retry-After).
	Pause(t time.Time)
}

// SharedLimiter keeps the requests of every replica under one budget
// kept in Redis (GCRA, go-redis/redis_rate): Clerk's limit is per
// instance, so three replicas must not spend three budgets. A 429 pauses
// every replica. When Redis does not answer, each replica falls back to
// its own share so Clerk actions still work during a Redis outage.
type SharedLimiter struct {
	lim      *redis_rate.Limiter
	rdb      redis.UniversalClient
	key      string
	pauseKey string
	limit    redis_rate.Limit
	local    *Limiter
	sleep    func(ctx context.Context, d time.Duration) error
}

// NewSharedLimiter allows n requests per window across every replica that
// shares the prefix.
func NewSharedLimiter(rdb redis.UniversalClient, prefix string, n int, window time.Duration) *SharedLimiter {
	// GCRA lets a burst through and then the steady rate; a burst of b
	// plus n-b per window never puts more than n in any window, whether
	// Clerk counts in fixed or sliding windows.
	burst := max(1, n*2/100)
	return &SharedLimiter{lim: redis_rate.NewLimiter(rdb), rdb: rdb, key: prefix + "clerk:budget", pauseKey: prefix + "clerk:pause",
		limit: redis_rate.Limit{Rate: max(1, n-burst), Burst: burst, Period: window}, local: NewLimiter(max(1, n-burst), window), sleep: backoff.Sleep}
}

// Wait blocks until a request may be sent.
func (s *SharedLimiter) Wait(ctx context.Context) error {
	for {
		if until, err := s.rdb.Get(ctx, s.pauseKey).Int64(); err == nil {
			if wait := time.Until(time.UnixMilli(until)); wait > 0 {
				if err := s.sleep(ctx, wait); err != nil {
					return err
				}
				continue
			}
		}
		res, err := s.lim.Allow(ctx, s.key, s.limit)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, redis.Nil) {
				return fmt.Errorf("clerk budget: %w", err)
			}
			return s.local.Wait(ctx) // Redis is down: this replica's own share
		}
		if res.Allowed > 0 {
			return nil
		}
		if err := s.sleep(ctx, max(res.RetryAfter, time.Millisecond)); err != nil {
			return err
		}
	}
}

// Pause holds every replica's requests until t.
func (s *SharedLimiter) Pause(t time.Time) {
	s.local.Pause(t)
	ttl := time.Until(t)
	if ttl <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.rdb.Set(ctx, s.pauseKey, strconv.FormatInt(t.UnixMilli(), 10), ttl).Err()
}
