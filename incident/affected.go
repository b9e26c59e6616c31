package incident

import (
	"context"
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

// AffectedAccounts keeps, per incident, the accounts it touched.
type AffectedAccounts struct {
	rdb redis.UniversalClient
	k   keyspace
	now func() time.Time
}

// AddAffected records what was done to each user on the incident.
func (af *AffectedAccounts) AddAffected(ctx context.Context, id string, users []AffectedUser, what string, by Person) error {
	if len(users) == 0 {
		return nil
	}
	key := af.k.affected(id)
	now := af.now().UTC()
	return redisx.Transact(ctx, af.rdb, func(tx *redis.Tx) error {
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
func (af *AffectedAccounts) RemoveAffected(ctx context.Context, id string, userIDs []string) (int, error) {
	if len(userIDs) == 0 {
		return 0, nil
	}
	n, err := af.rdb.HDel(ctx, af.k.affected(id), userIDs...).Result()
	if err != nil {
		return 0, fmt.Errorf("remove affected users of %s: %w", id, err)
	}
	return int(n), nil
}

// Affected lists the incident's affected users, first touched first.
func (af *AffectedAccounts) Affected(ctx context.Context, id string) ([]AffectedUser, error) {
	all, err := af.rdb.HGetAll(ctx, af.k.affected(id)).Result()
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
