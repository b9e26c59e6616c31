// Package tally counts what one request costs: Redis round trips (a
// go-redis hook) and Slack Web API calls, carried in its context. The
// listener logs the counts with every command, and the busy-incident
// benchmark reads them from there.
package tally

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Counts is one request's tally.
type Counts struct {
	redis atomic.Int64
	slack atomic.Int64
}

// RedisTrips is the number of round trips to Redis so far.
func (c *Counts) RedisTrips() int64 { return c.redis.Load() }

// SlackCalls is the number of Slack Web API calls so far (each attempt).
func (c *Counts) SlackCalls() int64 { return c.slack.Load() }

type key struct{}

// With starts a tally for the request ctx carries.
func With(ctx context.Context) (context.Context, *Counts) {
	c := &Counts{}
	return context.WithValue(ctx, key{}, c), c
}

func from(ctx context.Context) *Counts {
	c, _ := ctx.Value(key{}).(*Counts)
	return c
}

// Slack counts one Slack call against the request ctx carries, if any.
func Slack(ctx context.Context) {
	if c := from(ctx); c != nil {
		c.slack.Add(1)
	}
}

// Hook counts every command and pipeline (one round trip each) against
// the request in its context.
func Hook() redis.Hook { return hook{} }

type hook struct{}

func (hook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if c := from(ctx); c != nil {
			c.redis.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if c := from(ctx); c != nil {
			c.redis.Add(1)
		}
		return next(ctx, cmds)
	}
}
