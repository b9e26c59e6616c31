package alerts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// keep is how long an alert's firing is remembered: longer than any
// Alertmanager repeat_interval, so a repeat is never taken twice.
const keep = 30 * 24 * time.Hour

// taking is how long a claimed firing waits for its incident before
// another replica (or Alertmanager's retry) may take it.
const taking = 2 * time.Minute

// Store keeps, per firing (fingerprint and start), that it was taken in
// and the incident it went to.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewStore keeps its keys under prefix + "alerts:".
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix + "alerts:"}
}

// Claim takes a firing for this request; false when another request (a
// retry, a repeat, another replica) has it or took it already.
func (s *Store) Claim(ctx context.Context, a Alert) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.prefix+"fired:"+a.Key(), "taking", taking).Result()
	if err != nil {
		return false, fmt.Errorf("claim alert %s: %w", a.Fingerprint, err)
	}
	return ok, nil
}

// Taken records the incident a claimed firing went to; a later resolved
// notification of the same alert finds it there.
func (s *Store) Taken(ctx context.Context, a Alert, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.prefix+"fired:"+a.Key(), id, keep)
		p.Set(ctx, s.prefix+"incident:"+a.Fingerprint, id, keep)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record alert %s: %w", a.Fingerprint, err)
	}
	return nil
}

// Release gives a claimed firing back when its incident could not be
// opened, so Alertmanager's retry takes it.
func (s *Store) Release(ctx context.Context, a Alert) {
	k := s.prefix + "fired:" + a.Key()
	if v, err := s.rdb.Get(ctx, k).Result(); err == nil && v == "taking" {
		s.rdb.Del(ctx, k)
	}
}

// Resolved claims the resolved notification of an alert once and returns
// the incident its firing went to ("" when none here, or said already).
func (s *Store) Resolved(ctx context.Context, a Alert) (string, error) {
	id, err := s.rdb.Get(ctx, s.prefix+"incident:"+a.Fingerprint).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read alert %s: %w", a.Fingerprint, err)
	}
	first, err := s.rdb.SetNX(ctx, s.prefix+"resolved:"+a.Key(), id, keep).Result()
	if err != nil {
		return "", fmt.Errorf("claim resolved alert %s: %w", a.Fingerprint, err)
	}
	if !first {
		return "", nil
	}
	return id, nil
}

// Unresolve gives a resolved notification's claim back when it could not
// be said, so the sender's retry says it.
func (s *Store) Unresolve(ctx context.Context, a Alert) {
	s.rdb.Del(ctx, s.prefix+"resolved:"+a.Key())
}
