// Package redisx holds the Redis idioms every store here shares: an
// optimistic transaction with one retry policy, a JSON value updated under
// WATCH, a "done once" marker, and a lease held by an owner.
package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
)

// MaxAttempts bounds optimistic retries: 20 writers racing on one key need
// about 20 rounds; the jitter lets one through each round.
const MaxAttempts = 200

// Retry is the one retry policy of every optimistic transaction: try
// runs until it reports done or fails; when another writer won the race
// (done false, no error) it runs again after a short jittered pause, at
// most MaxAttempts times, and then fails with apperr.Conflict naming what.
// Transact uses it for WATCH/MULTI; a compare-and-set script uses it
// directly (incident.Store.UpdateThen).
func Retry(ctx context.Context, what func() string, try func() (done bool, err error)) error {
	for attempt := range MaxAttempts {
		done, err := try()
		if done || err != nil {
			return err
		}
		if err := backoff.Sleep(ctx, backoff.Delay(attempt%10, 100*time.Microsecond, 10*time.Millisecond)); err != nil {
			return err
		}
	}
	return apperr.Wrap(apperr.Conflict, fmt.Sprintf("%s kept changing under us after %d attempts", what(), MaxAttempts), redis.TxFailedErr)
}

// Transact runs fn under WATCH on keys and retries it by Retry's policy
// when another writer won the race. Any other error (including one fn
// returns) ends it at once.
func Transact(ctx context.Context, rdb redis.UniversalClient, fn func(tx *redis.Tx) error, keys ...string) error {
	return Retry(ctx, func() string { return fmt.Sprint(keys) }, func() (bool, error) {
		err := rdb.Watch(ctx, fn, keys...)
		if errors.Is(err, redis.TxFailedErr) {
			return false, nil
		}
		return true, err
	})
}

// Once sets a "done once" marker: it reports whether key was not set yet
// (this caller is the first within ttl; 0 keeps it for good). Replicas
// share the marker, so a notice, a page or a report goes out once.
func Once(ctx context.Context, rdb redis.UniversalClient, key string, ttl time.Duration) (first bool, err error) {
	return rdb.SetNX(ctx, key, 1, ttl).Result()
}

// UpdateJSON reads key as JSON into a T, lets fn change it and writes it
// back in one transaction, together with whatever write adds to the same
// MULTI. A missing key gives fn the zero T, unless missing is non-nil,
// which is then returned. It returns the value as written.
func UpdateJSON[T any](ctx context.Context, rdb redis.UniversalClient, key string, missing error,
	fn func(v *T) error, write func(p redis.Pipeliner, raw []byte, v *T)) (*T, error) {
	var out *T
	err := Transact(ctx, rdb, func(tx *redis.Tx) error {
		var v T
		raw, err := tx.Get(ctx, key).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			if missing != nil {
				return missing
			}
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("decode %s: %w", key, err)
			}
		}
		if err := fn(&v); err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			write(p, b, &v)
			return nil
		})
		out = &v
		return err
	}, key)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Lease is a key that one owner holds for a while: a poller's turn, a
// running job, the carrying out of an approved request.
type Lease struct {
	rdb   redis.UniversalClient
	key   string
	owner string
}

// NewLease names the key and the owner (this process).
func NewLease(rdb redis.UniversalClient, key, owner string) *Lease {
	return &Lease{rdb: rdb, key: key, owner: owner}
}

var (
	keepScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`)
	renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)
)

// Take acquires the lease only if nobody (this owner included) holds it.
func (l *Lease) Take(ctx context.Context, ttl time.Duration) (bool, error) {
	return l.rdb.SetNX(ctx, l.key, l.owner, ttl).Result()
}

// Keep acquires the lease or extends it when this owner holds it already.
func (l *Lease) Keep(ctx context.Context, ttl time.Duration) (bool, error) {
	n, err := keepScript.Run(ctx, l.rdb, []string{l.key}, l.owner, ttl.Milliseconds()).Int()
	return n == 1, err
}

// Renew extends the lease only while this owner still holds it.
func (l *Lease) Renew(ctx context.Context, ttl time.Duration) (bool, error) {
	n, err := renewScript.Run(ctx, l.rdb, []string{l.key}, l.owner, ttl.Milliseconds()).Int()
	return n == 1, err
}

// Release gives the lease back if this owner holds it.
func (l *Lease) Release(ctx context.Context) error {
	return releaseScript.Run(ctx, l.rdb, []string{l.key}, l.owner).Err()
}

// Hold renews the lease every ttl/3 until ctx ends, and calls lost once
// if another owner took it (or it expired) in between.
func (l *Lease) Hold(ctx context.Context, ttl time.Duration, lost func()) {
	t := time.NewTicker(max(ttl/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := l.Renew(ctx, ttl)
			if err == nil && !ok {
				if lost != nil {
					lost()
				}
				return
			}
		}
	}
}
