package usecase

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// PagerDuty's dedup_key is per install: "INC-7@<install ID>". A bare
// INC-7 collided across installs sharing one PagerDuty service (staging
// and prod) and after Redis lost its counter (a new INC-1 re-triggered,
// acknowledged or resolved the old one). The install ID lives in Redis,
// so a Redis that forgets the counter forgets it too and makes a new one.
// An incident triggered before the upgrade keeps its bare key, so its
// acknowledge, resolve and read-back still find it.

// PDEvents is PagerDuty's Events API (paging.PagerDuty).
type PDEvents interface {
	Trigger(ctx context.Context, dedup, summary, severity, link string) error
	Acknowledge(ctx context.Context, dedup string) error
	Resolve(ctx context.Context, dedup string) error
}

// PDKeys gives each incident its dedup_key, kept in Redis with the
// incident's PagerDuty markers.
type PDKeys struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewPDKeys keeps its keys under prefix.
func NewPDKeys(rdb redis.UniversalClient, prefix string) *PDKeys {
	return &PDKeys{rdb: rdb, prefix: prefix}
}

// pdKeyTTL matches the incident's other PagerDuty markers.
const pdKeyTTL = 30 * 24 * time.Hour

func (p *PDKeys) keyOf(id string) string { return p.prefix + "escalation:" + id + ":pagerduty:key" }

// Key is the dedup_key incident id was triggered with: the one stored, or
// the bare ID for an incident triggered before keys were per install.
func (p *PDKeys) Key(ctx context.Context, id string) (string, error) {
	key, err := p.rdb.Get(ctx, p.keyOf(id)).Result()
	if errors.Is(err, redis.Nil) {
		return id, nil
	}
	if err != nil {
		return "", apperr.Wrap(apperr.UnavailableStore, "", err)
	}
	return key, nil
}

// Assign gives id its key once: the bare ID when PagerDuty was triggered
// for it before the upgrade (its marker is there, no key), else id@install.
func (p *PDKeys) Assign(ctx context.Context, id string) (string, error) {
	if key, err := p.rdb.Get(ctx, p.keyOf(id)).Result(); err == nil {
		return key, nil
	}
	old, err := p.rdb.Exists(ctx, p.prefix+"escalation:"+id+":pagerduty").Result()
	if err != nil {
		return "", apperr.Wrap(apperr.UnavailableStore, "", err)
	}
	key := id
	if old == 0 {
		install, err := p.install(ctx)
		if err != nil {
			return "", err
		}
		key = id + "@" + install
	}
	if err := p.rdb.SetNX(ctx, p.keyOf(id), key, pdKeyTTL).Err(); err != nil {
		return "", apperr.Wrap(apperr.UnavailableStore, "", err)
	}
	return p.Key(ctx, id) // another replica's, if it was first
}

// install is this install's ID, made once (and again by a Redis that lost
// everything, as its incident numbers start again).
func (p *PDKeys) install(ctx context.Context) (string, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	if err := p.rdb.SetNX(ctx, p.prefix+"pagerduty:install", hex.EncodeToString(b), 0).Err(); err != nil {
		return "", apperr.Wrap(apperr.UnavailableStore, "", err)
	}
	id, err := p.rdb.Get(ctx, p.prefix+"pagerduty:install").Result()
	if err != nil {
		return "", apperr.Wrap(apperr.UnavailableStore, "", err)
	}
	return id, nil
}

// KeyedEvents sends PagerDuty events under each incident's dedup_key
// (the engine speaks of incidents by INC-n).
type KeyedEvents struct {
	Events PDEvents
	Keys   *PDKeys
}

// Trigger implements escalation's alerts.
func (k KeyedEvents) Trigger(ctx context.Context, id, summary, severity, link string) error {
	key, err := k.Keys.Assign(ctx, id)
	if err != nil {
		return err
	}
	return k.Events.Trigger(ctx, key, summary, severity, link)
}

// Acknowledge implements escalation's alerts.
func (k KeyedEvents) Acknowledge(ctx context.Context, id string) error {
	key, err := k.Keys.Key(ctx, id)
	if err != nil {
		return err
	}
	return k.Events.Acknowledge(ctx, key)
}

// Resolve implements escalation's alerts.
func (k KeyedEvents) Resolve(ctx context.Context, id string) error {
	key, err := k.Keys.Key(ctx, id)
	if err != nil {
		return err
	}
	return k.Events.Resolve(ctx, key)
}
