package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Markers keeps short-lived keys that say something happened or is
// held: "done once" markers (a repeated Slack envelope, a card being
// posted) and named leases (catch-up claims).
type Markers struct {
	rdb redis.UniversalClient
	k   keyspace
}

// Once reports whether key is seen for the first time within ttl; Slack may
// deliver an envelope again, and replicas share this memory.
func (m *Markers) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := redisx.Once(ctx, m.rdb, m.k.once(key), ttl)
	if err != nil {
		return false, fmt.Errorf("dedupe %s: %w", key, err)
	}
	return ok, nil
}

// Lease is a named lease under the store's prefix (catch-up claims).
func (m *Markers) Lease(name, owner string) *redisx.Lease {
	return redisx.NewLease(m.rdb, m.k.lease(name), owner)
}
