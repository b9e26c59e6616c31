package statuswatch

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// keyspace is the prefix of the watcher's Redis keys.
type keyspace string

// k is the key of name: <prefix>status:<name>.
func (ks keyspace) k(name string) string { return string(ks) + "status:" + name }

// snapshots holds the last known state (status:last), any replica's, for
// `status`: the status poll, the probe round and the start-up detection
// each write their part of it.
type snapshots struct {
	rdb redis.UniversalClient
	key string
}

// save changes one part of the snapshot in a transaction: the status
// poll, the probe round and the start-up detection write their parts at
// the same time (on one replica or several), and a plain read and write
// let one put back what the other had just replaced.
func (s *snapshots) save(ctx context.Context, fn func(*Snapshot)) {
	_, _ = redisx.UpdateJSON(ctx, s.rdb, s.key, nil, func(snap *Snapshot) error { fn(snap); return nil },
		func(pipe redis.Pipeliner, raw []byte, _ *Snapshot) { pipe.Set(ctx, s.key, raw, 0) })
}

// Last returns what the last polls saw (any replica's).
func (s *snapshots) Last(ctx context.Context) (Snapshot, error) {
	var snap Snapshot
	raw, err := s.rdb.Get(ctx, s.key).Bytes()
	if errors.Is(err, redis.Nil) {
		return snap, nil
	}
	if err != nil {
		return snap, err
	}
	err = json.Unmarshal(raw, &snap)
	return snap, err
}
