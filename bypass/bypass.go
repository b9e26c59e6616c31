// Package bypass is the emergency auth bypass: a time-boxed switch the
// app reads (HTTP or Redis) to let users in while Clerk is down. It ends
// by itself at expiry; Tick announces that, and a reminder before it.
package bypass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/redis/go-redis/v9"
)

// State is the published JSON; its field names are a contract with apps.
type State struct {
	Enabled     bool      `json:"enabled"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Incident    string    `json:"incident,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	RequestedBy string    `json:"requested_by,omitempty"`
	ApprovedBy  string    `json:"approved_by,omitempty"`
}

// ReminderBefore is when, before expiry, responders are reminded.
const ReminderBefore = 5 * time.Minute

// Store keeps the bypass in Redis: the public key (same expiry as the
// bypass, for apps that read Redis) and a private record without TTL so
// the expiry is announced even if Redis already dropped the public key.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewStore returns a store.
func NewStore(rdb redis.UniversalClient, prefix string, now func() time.Time) *Store {
	return &Store{rdb: rdb, prefix: prefix, now: now}
}

// Key is the documented Redis key apps may read.
func (s *Store) Key() string       { return s.prefix + "bypass" }
func (s *Store) keyActive() string { return s.prefix + "bypass:active" }
func (s *Store) keyReminded(t time.Time) string {
	return fmt.Sprintf("%sbypass:reminded:%d", s.prefix, t.UnixMilli())
}

// On enables the bypass until st.ExpiresAt.
func (s *Store) On(ctx context.Context, st State) error {
	st.Enabled = true
	ttl := st.ExpiresAt.Sub(s.now())
	if ttl <= 0 {
		return errors.New("the bypass would already have expired")
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.Key(), raw, ttl)
		p.Set(ctx, s.keyActive(), raw, 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("enable bypass: %w", err)
	}
	return nil
}

// Get returns the bypass as apps see it now.
func (s *Store) Get(ctx context.Context) (State, error) {
	raw, err := s.rdb.Get(ctx, s.keyActive()).Bytes()
	if errors.Is(err, redis.Nil) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read bypass: %w", err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return State{}, fmt.Errorf("decode bypass: %w", err)
	}
	if !s.now().Before(st.ExpiresAt) {
		return State{}, nil
	}
	return st, nil
}

// Off disables the bypass at once and returns what was on (if anything).
func (s *Store) Off(ctx context.Context) (State, bool, error) {
	var was State
	found := false
	err := redisx.Transact(ctx, s.rdb, func(tx *redis.Tx) error {
		raw, err := tx.Get(ctx, s.keyActive()).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		_ = json.Unmarshal(raw, &was)
		found = s.now().Before(was.ExpiresAt)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, s.Key(), s.keyActive())
			return nil
		})
		return err
	}, s.keyActive())
	if err != nil {
		return State{}, false, fmt.Errorf("disable bypass: %w", err)
	}
	return was, found, nil
}

// Notifier hears about reminders and expiries.
type Notifier interface {
	BypassReminder(ctx context.Context, st State)
	BypassExpired(ctx context.Context, st State)
}

// Tick sends the reminder and the expiry notice exactly once each, on
// whichever replica gets there first.
func (s *Store) Tick(ctx context.Context, n Notifier) error {
	raw, err := s.rdb.Get(ctx, s.keyActive()).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read bypass: %w", err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	now := s.now()
	if !now.Before(st.ExpiresAt) {
		ended := false
		err := redisx.Transact(ctx, s.rdb, func(tx *redis.Tx) error {
			cur, err := tx.Get(ctx, s.keyActive()).Bytes()
			if err != nil || string(cur) != string(raw) {
				return err // changed or gone: someone else handled it
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, s.Key(), s.keyActive())
				return nil
			})
			ended = err == nil
			return err
		}, s.keyActive())
		if err != nil && !errors.Is(err, redis.TxFailedErr) && !errors.Is(err, redis.Nil) {
			return err
		}
		if ended {
			n.BypassExpired(ctx, st)
		}
		return nil
	}
	if !now.Before(st.ExpiresAt.Add(-ReminderBefore)) {
		first, err := redisx.Once(ctx, s.rdb, s.keyReminded(st.ExpiresAt), 24*time.Hour)
		if err != nil {
			return err
		}
		if first {
			n.BypassReminder(ctx, st)
		}
	}
	return nil
}
