package escalation

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// AlertWatch lists the incidents whose ladder triggered PagerDuty, so
// PagerDuty can be read back (an acknowledgement there stops the ladder
// here). The engine adds an incident when PagerDuty accepts its trigger
// and removes it when it is resolved here.
type AlertWatch struct {
	rdb redis.UniversalClient
	keys
}

// NewAlertWatch reads the list under the key prefix.
func NewAlertWatch(rdb redis.UniversalClient, prefix string) *AlertWatch {
	return &AlertWatch{rdb: rdb, keys: keys{prefix}}
}

// Watched are the incidents to read back, oldest trigger first.
func (a *AlertWatch) Watched(ctx context.Context) ([]string, error) {
	ids, err := a.rdb.ZRange(ctx, a.keyAlertWatch(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read PagerDuty watch list: %w", err)
	}
	return ids, nil
}

// Unwatch stops reading an incident back (it is resolved here).
func (a *AlertWatch) Unwatch(ctx context.Context, id string) error {
	if err := a.rdb.ZRem(ctx, a.keyAlertWatch(), id).Err(); err != nil {
		return fmt.Errorf("unwatch %s in PagerDuty: %w", id, err)
	}
	return nil
}
