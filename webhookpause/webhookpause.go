// Package webhookpause is the switch that pauses the app's processing of
// Clerk's webhooks while a resync repairs its data (Procedure 3, steps 2
// and 6). The app reads it at GET /v1/webhooks and answers Clerk's
// deliveries 503 while paused, so Svix retries them later; the resync's
// own deliveries, whose signed svix-id carries IDPrefix, still go through.
// The state lives in Redis; Tick reminds responders while it lasts.
package webhookpause

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
	Paused   bool      `json:"paused"`
	Since    time.Time `json:"since,omitzero"`
	By       string    `json:"by,omitempty"` // Slack user ID (or name, from the CLI)
	Reason   string    `json:"reason,omitempty"`
	Incident string    `json:"incident,omitempty"`
	// ResyncIDPrefix starts the svix-id of every delivery the bot's resync
	// (and webhook check) sends. The svix-id is signed, so an app that
	// verifies the signature first may let these through while paused.
	ResyncIDPrefix string `json:"resync_id_prefix"`
}

// RemindEvery is how often responders hear that processing is still paused.
const RemindEvery = 30 * time.Minute

// ErrAlreadyPaused and ErrNotPaused make pause and resume idempotent.
var (
	ErrAlreadyPaused = errors.New("webhook processing is already paused")
	ErrNotPaused     = errors.New("webhook processing is not paused")
)

// Store keeps the pause in one Redis key, without expiry: it lasts until
// someone resumes (the reminders keep it from being forgotten).
type Store struct {
	rdb      redis.UniversalClient
	prefix   string
	idPrefix string
	now      func() time.Time
}

// NewStore returns a store; idPrefix is the resync's svix-id prefix.
func NewStore(rdb redis.UniversalClient, prefix, idPrefix string, now func() time.Time) *Store {
	return &Store{rdb: rdb, prefix: prefix, idPrefix: idPrefix, now: now}
}

func (s *Store) key() string { return s.prefix + "webhooks:paused" }
func (s *Store) keyReminded(since time.Time, n int64) string {
	return fmt.Sprintf("%swebhooks:reminded:%d:%d", s.prefix, since.UnixMilli(), n)
}

// Get returns the state as apps see it now.
func (s *Store) Get(ctx context.Context) (State, error) {
	raw, err := s.rdb.Get(ctx, s.key()).Bytes()
	if errors.Is(err, redis.Nil) {
		return State{ResyncIDPrefix: s.idPrefix}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read the webhook pause: %w", err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return State{}, fmt.Errorf("decode the webhook pause: %w", err)
	}
	st.Paused, st.ResyncIDPrefix = true, s.idPrefix
	return st, nil
}

// Pause pauses processing; a pause already on is kept as it is and
// returned with ErrAlreadyPaused.
func (s *Store) Pause(ctx context.Context, by, reason, incidentID string) (State, error) {
	st := State{Paused: true, Since: s.now().UTC().Truncate(time.Second), By: by, Reason: reason, Incident: incidentID, ResyncIDPrefix: s.idPrefix}
	raw, err := json.Marshal(st)
	if err != nil {
		return State{}, err
	}
	ok, err := s.rdb.SetNX(ctx, s.key(), raw, 0).Result()
	if err != nil {
		return State{}, fmt.Errorf("pause webhook processing: %w", err)
	}
	if !ok {
		cur, err := s.Get(ctx)
		if err != nil {
			return State{}, err
		}
		return cur, ErrAlreadyPaused
	}
	return st, nil
}

// Resume ends the pause and returns what it was (ErrNotPaused if none).
func (s *Store) Resume(ctx context.Context) (State, error) {
	var was State
	found := false
	err := redisx.Transact(ctx, s.rdb, func(tx *redis.Tx) error {
		raw, err := tx.Get(ctx, s.key()).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &was); err != nil {
			return err
		}
		found = true
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, s.key())
			return nil
		})
		return err
	}, s.key())
	if err != nil {
		return State{}, fmt.Errorf("resume webhook processing: %w", err)
	}
	if !found {
		return State{}, ErrNotPaused
	}
	was.Paused, was.ResyncIDPrefix = false, s.idPrefix
	return was, nil
}

// Notifier hears that processing is still paused.
type Notifier interface {
	WebhooksStillPaused(ctx context.Context, st State, paused time.Duration)
}

// Tick reminds once every RemindEvery while paused, on whichever replica
// gets there first (a marker per pause and interval).
func (s *Store) Tick(ctx context.Context, n Notifier) error {
	st, err := s.Get(ctx)
	if err != nil || !st.Paused {
		return err
	}
	d := s.now().Sub(st.Since)
	k := int64(d / RemindEvery)
	if k < 1 {
		return nil
	}
	first, err := redisx.Once(ctx, s.rdb, s.keyReminded(st.Since, k), 2*RemindEvery)
	if err != nil {
		return fmt.Errorf("claim the webhook pause reminder: %w", err)
	}
	if first {
		n.WebhooksStillPaused(ctx, st, time.Duration(k)*RemindEvery)
	}
	return nil
}
