package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// States reads ladder state without running an engine: the Slack side
// renders it on the card, and is built before the engine that pages
// through it.
type States struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewStates reads ladders under the key prefix.
func NewStates(rdb redis.UniversalClient, prefix string) *States {
	return &States{rdb: rdb, prefix: prefix}
}

// Get returns the ladder state, or ErrNoLadder.
func (s *States) Get(ctx context.Context, id string) (*State, error) {
	raw, err := s.rdb.Get(ctx, s.prefix+"escalation:"+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNoLadder
	}
	if err != nil {
		return nil, fmt.Errorf("read ladder %s: %w", id, err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("decode ladder %s: %w", id, err)
	}
	return &st, nil
}
