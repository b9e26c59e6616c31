package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// AffectedUser is an account an incident touched: who it is and what was
// done to it. It is personal data: it is kept beside the incident (one
// hash field per user), never on the timeline, and leaves only through
// `affected export`.
type AffectedUser struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	Deeds []Deed `json:"deeds"`
}

// Deed is one thing done to an account.
type Deed struct {
	What string    `json:"what"` // investigated, revoked, locked out, unlocked, added by hand
	By   Person    `json:"by"`
	At   time.Time `json:"at"`
}

func (s *Store) keyAffected(id string) string { return s.prefix + "incident:" + id + ":affected" }

// AddAffected records what was done to each user on the incident.
func (s *Store) AddAffected(ctx context.Context, id string, users []AffectedUser, what string, by Person) error {
	if len(users) == 0 {
		return nil
	}
	key := s.keyAffected(id)
	now := s.now().UTC()
	return redisx.Transact(ctx, s.rdb, func(tx *redis.Tx) error {
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		cur, err := tx.HMGet(ctx, key, ids...).Result()
		if err != nil {
			return err
		}
		fields := make([]any, 0, 2*len(users))
		for i, u := range users {
			var rec AffectedUser
			if raw, ok := cur[i].(string); ok {
				_ = json.Unmarshal([]byte(raw), &rec)
			}
			rec.ID = u.ID
			if u.Email != "" {
				rec.Email = u.Email
			}
			if u.Name != "" {
				rec.Name = u.Name
			}
			rec.Deeds = append(rec.Deeds, Deed{What: what, By: by, At: now})
			raw, _ := json.Marshal(rec)
			fields = append(fields, u.ID, raw)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, fields...)
			return nil
		})
		return err
	}, key)
}

// RemoveAffected drops users from the incident's list; it returns how
// many were on it.
func (s *Store) RemoveAffected(ctx context.Context, id string, userIDs []string) (int, error) {
	if len(userIDs) == 0 {
		return 0, nil
	}
	n, err := s.rdb.HDel(ctx, s.keyAffected(id), userIDs...).Result()
	if err != nil {
		return 0, fmt.Errorf("remove affected users of %s: %w", id, err)
	}
	return int(n), nil
}

// Affected lists the incident's affected users, first touched first.
func (s *Store) Affected(ctx context.Context, id string) ([]AffectedUser, error) {
	all, err := s.rdb.HGetAll(ctx, s.keyAffected(id)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read affected users of %s: %w", id, err)
	}
	out := make([]AffectedUser, 0, len(all))
	for _, raw := range all {
		var u AffectedUser
		if json.Unmarshal([]byte(raw), &u) == nil && u.ID != "" {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if len(a.Deeds) > 0 && len(b.Deeds) > 0 && !a.Deeds[0].At.Equal(b.Deeds[0].At) {
			return a.Deeds[0].At.Before(b.Deeds[0].At)
		}
		return a.ID < b.ID
	})
	return out, nil
}

// Draft is the customer update being prepared for an incident, and the
// thread message that shows it.
type Draft struct {
	Text string `json:"text"`
	TS   string `json:"ts,omitempty"`
	By   Person `json:"by"`
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

// EditDraft changes the draft in one transaction; no draft is ErrNotFound,
// and fn's error leaves it as it was.
func (s *Store) EditDraft(ctx context.Context, id string, fn func(d *Draft) error) (Draft, error) {
	key := s.keyDraft(id)
	d, err := redisx.UpdateJSON(ctx, s.rdb, key, fmt.Errorf("no draft update for %s: %w", id, ErrNotFound), fn,
		func(p redis.Pipeliner, raw []byte, _ *Draft) { p.Set(ctx, key, raw, 0) })
	if err != nil {
		return Draft{}, err
	}
	return *d, nil
}

func (s *Store) keyDraft(id string) string { return s.prefix + "incident:" + id + ":draft" }

// SetDraft keeps the incident's draft update.
func (s *Store) SetDraft(ctx context.Context, id string, d Draft) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, s.keyDraft(id), raw, 0).Err()
}

// GetDraft reads the incident's draft; no draft is ErrNotFound.
func (s *Store) GetDraft(ctx context.Context, id string) (Draft, error) {
	var d Draft
	raw, err := s.rdb.Get(ctx, s.keyDraft(id)).Bytes()
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
func (s *Store) ClearDraft(ctx context.Context, id string) (bool, error) {
	n, err := s.rdb.Del(ctx, s.keyDraft(id)).Result()
	return n == 1, err
}
