package incident

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The resolved index: a sorted set of resolved incidents scored by their
// resolve time (ms), written by the resolve's own compare-and-set, so a
// period's closed incidents are one range read instead of a scan of
// every incident. Incidents resolved before the index existed are added
// once by Backfill (ListResolved runs it the first time).

// backfillBatch bounds one MGET of the backfill.
const backfillBatch = 500

// Backfill adds every resolved incident to the resolved index, once: a
// marker says it ran. Running it twice, or on two replicas at once, adds
// the same members with the same scores, so it needs no lock.
func (s *Store) Backfill(ctx context.Context) (added int, err error) {
	done, err := s.rdb.Exists(ctx, s.k.resolvedBackfilled()).Result()
	if err != nil {
		return 0, fmt.Errorf("read the resolved index marker: %w", err)
	}
	if done == 1 {
		return 0, nil
	}
	for start := int64(0); ; start += backfillBatch {
		ids, err := s.rdb.ZRange(ctx, s.k.all(), start, start+backfillBatch-1).Result()
		if err != nil {
			return added, fmt.Errorf("backfill the resolved index: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		incs, err := s.load(ctx, ids)
		if err != nil {
			return added, fmt.Errorf("backfill the resolved index: %w", err)
		}
		var zs []redis.Z
		for _, inc := range incs {
			if !inc.Open() && !inc.ResolvedAt.IsZero() {
				zs = append(zs, redis.Z{Score: float64(inc.ResolvedAt.UnixMilli()), Member: inc.ID})
			}
		}
		if len(zs) > 0 {
			if err := s.rdb.ZAdd(ctx, s.k.resolved(), zs...).Err(); err != nil {
				return added, fmt.Errorf("backfill the resolved index: %w", err)
			}
			added += len(zs)
		}
	}
	if err := s.rdb.Set(ctx, s.k.resolvedBackfilled(), time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return added, fmt.Errorf("mark the resolved index backfilled: %w", err)
	}
	return added, nil
}

// ListResolved returns the incidents resolved in [from, to], oldest
// resolve first, without timelines: one range read and one MGET.
func (s *Store) ListResolved(ctx context.Context, from, to time.Time) ([]*Incident, error) {
	if _, err := s.Backfill(ctx); err != nil {
		return nil, err
	}
	ids, err := s.rdb.ZRangeByScore(ctx, s.k.resolved(), &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10),
		Max: strconv.FormatInt(to.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("list resolved incidents: %w", err)
	}
	out := make([]*Incident, 0, len(ids))
	for start := 0; start < len(ids); start += backfillBatch {
		incs, err := s.load(ctx, ids[start:min(start+backfillBatch, len(ids))])
		if err != nil {
			return nil, err
		}
		out = append(out, incs...)
	}
	return out, nil
}
