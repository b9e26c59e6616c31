package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Draft is the customer update being prepared for an incident, and the
// thread message that shows it.
type Draft struct {
	Text string `json:"text"`
	TS   string `json:"ts,omitempty"`
	By   Person `json:"by"`
	// Token names one `update draft`: the draft is kept before its
	// message is posted, and only the request that kept it may add the
	// message's ts or take it back.
	Token string `json:"token,omitempty"`
}

// Version names this draft as shown: it changes when the draft is
// replaced (a new thread message) or its text is edited, so an editor
// opened on an older one can tell.
func (d Draft) Version() string {
	sum := sha256.Sum256([]byte(d.TS + "\n" + d.Text))
	return hex.EncodeToString(sum[:6])
}

// ErrDraftChanged is an edit made on a draft that was replaced or edited
// since the editor opened.
var ErrDraftChanged = errors.New("the draft changed since the editor opened")

// Drafts keeps each incident's customer update being prepared, or (a
// second Drafts, Stores.Notices) its notice to affected users.
type Drafts struct {
	rdb    redis.UniversalClient
	k      keyspace
	notice bool
}

func (dr *Drafts) key(id string) string {
	if dr.notice {
		return dr.k.notice(id)
	}
	return dr.k.draft(id)
}

// EditDraft changes the draft in one transaction; no draft is ErrNotFound,
// and fn's error leaves it as it was.
func (dr *Drafts) EditDraft(ctx context.Context, id string, fn func(d *Draft) error) (Draft, error) {
	key := dr.key(id)
	d, err := redisx.UpdateJSON(ctx, dr.rdb, key, fmt.Errorf("no draft update for %s: %w", id, ErrNotFound), fn,
		func(p redis.Pipeliner, raw []byte, _ *Draft) { p.Set(ctx, key, raw, 0) })
	if err != nil {
		return Draft{}, err
	}
	return *d, nil
}

// errNotOurs stops a change to a draft another request replaced.
var errNotOurs = errors.New("the draft was replaced")

// ShownAt records where the draft kept under token is shown, unless it
// was replaced, posted or discarded meanwhile (then nothing changes).
func (dr *Drafts) ShownAt(ctx context.Context, id, token, ts string) error {
	key := dr.key(id)
	_, err := redisx.UpdateJSON(ctx, dr.rdb, key, fmt.Errorf("no draft update for %s: %w", id, ErrNotFound), func(d *Draft) error {
		if d.Token != token {
			return errNotOurs
		}
		if d.TS == "" {
			d.TS = ts
		}
		return nil
	}, func(p redis.Pipeliner, raw []byte, _ *Draft) { p.Set(ctx, key, raw, 0) })
	if errors.Is(err, errNotOurs) || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// TakeBack puts prev back (nil: no draft) when the draft kept under token
// is still the one stored: its message was never posted. A draft replaced,
// posted or discarded meanwhile stays as it is.
func (dr *Drafts) TakeBack(ctx context.Context, id, token string, prev *Draft) error {
	key := dr.key(id)
	_, err := redisx.UpdateJSON(ctx, dr.rdb, key, fmt.Errorf("no draft update for %s: %w", id, ErrNotFound), func(d *Draft) error {
		if d.Token != token {
			return errNotOurs
		}
		return nil
	}, func(p redis.Pipeliner, _ []byte, _ *Draft) {
		if prev == nil {
			p.Del(ctx, key)
			return
		}
		raw, _ := json.Marshal(prev)
		p.Set(ctx, key, raw, 0)
	})
	if errors.Is(err, errNotOurs) || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// SetDraft keeps the incident's draft update.
func (dr *Drafts) SetDraft(ctx context.Context, id string, d Draft) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return dr.rdb.Set(ctx, dr.key(id), raw, 0).Err()
}

// GetDraft reads the incident's draft; no draft is ErrNotFound.
func (dr *Drafts) GetDraft(ctx context.Context, id string) (Draft, error) {
	var d Draft
	raw, err := dr.rdb.Get(ctx, dr.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return d, fmt.Errorf("no draft update for %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, err
	}
	return d, json.Unmarshal(raw, &d)
}

// ClearDraft drops the draft once posted or discarded; it reports whether
// there was one, so two clicks on Post cannot post twice.
func (dr *Drafts) ClearDraft(ctx context.Context, id string) (bool, error) {
	n, err := dr.rdb.Del(ctx, dr.key(id)).Result()
	return n == 1, err
}
