package redisx

import (
	"context"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
)

// Pacer spends calls of rate limits kept in Redis (GCRA), so every
// replica shares one budget: Slack limits the app per workspace, not per
// process.
type Pacer struct {
	lim    *redis_rate.Limiter
	prefix string
}

// NewPacer keeps its budgets under prefix.
func NewPacer(rdb redis.UniversalClient, prefix string) *Pacer {
	return &Pacer{lim: redis_rate.NewLimiter(rdb), prefix: prefix + "pace:"}
}

// Wait blocks until one more call under key fits rate calls per period
// after a burst. When Redis does not answer it lets the call go: the
// remote's own 429 is the fallback, and a Redis outage must not silence
// the bot.
func (p *Pacer) Wait(ctx context.Context, key string, rate int, period time.Duration, burst int) error {
	l := redis_rate.Limit{Rate: rate, Period: period, Burst: burst}
	for {
		res, err := p.lim.Allow(ctx, p.prefix+key, l)
		if err != nil {
			return ctx.Err()
		}
		if res.Allowed > 0 {
			return nil
		}
		if err := backoff.Sleep(ctx, max(res.RetryAfter, time.Millisecond)); err != nil {
			return err
		}
	}
}

// Allow spends one call under key if it fits, without waiting: ok is
// false (with how long until one fits) when the budget is spent. When
// Redis does not answer it allows, as Wait does.
func (p *Pacer) Allow(ctx context.Context, key string, rate int, period time.Duration, burst int) (ok bool, retryAfter time.Duration) {
	res, err := p.lim.Allow(ctx, p.prefix+key, redis_rate.Limit{Rate: rate, Period: period, Burst: burst})
	if err != nil {
		return true, 0
	}
	return res.Allowed > 0, res.RetryAfter
}
