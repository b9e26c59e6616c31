package usecase_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// Each incident's dedup_key is given once: INC-n@<install> for a new
// one, the bare INC-n for one PagerDuty was triggered for by an older
// release; another install, or this one after Redis lost everything (its
// INC-1 again), gets a different key.
func TestPagerDutyKeysArePerInstall(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	keys := usecase.NewPDKeys(rdb, prefix)
	first, err := keys.Assign(ctx, "INC-1")
	if err != nil || !strings.HasPrefix(first, "INC-1@") {
		t.Fatalf("new incident: %q %v", first, err)
	}
	if again, _ := keys.Assign(ctx, "INC-1"); again != first {
		t.Fatalf("assigned twice: %q then %q", first, again)
	}
	if k, _ := keys.Key(ctx, "INC-1"); k != first {
		t.Fatalf("read back %q", k)
	}
	rdb.Set(ctx, prefix+"escalation:INC-2:pagerduty", 1, time.Hour) // triggered before the upgrade
	if k, _ := keys.Key(ctx, "INC-2"); k != "INC-2" {
		t.Fatalf("old incident read back as %q", k)
	}
	if k, _ := keys.Assign(ctx, "INC-2"); k != "INC-2" {
		t.Fatalf("old incident re-triggered as %q", k)
	}
	_, other := redistest.Client(t)
	if k, _ := usecase.NewPDKeys(rdb, other).Assign(ctx, "INC-1"); k == first || !strings.HasPrefix(k, "INC-1@") {
		t.Fatalf("another install's INC-1: %q (ours %q)", k, first)
	}
	for _, k := range []string{"pagerduty:install", "escalation:INC-1:pagerduty:key"} { // Redis lost everything
		rdb.Del(ctx, prefix+k)
	}
	if k, _ := keys.Assign(ctx, "INC-1"); k == first {
		t.Fatalf("after Redis lost its data INC-1 reused %q", k)
	}
}
