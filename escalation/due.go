package escalation

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// dueLadders keeps each ladder's state (escalation:INC-n) and the due set
// (escalation:due) in step, and the claim one replica takes on a due
// ladder (escalation:INC-n:lease).
type dueLadders struct {
	rdb redis.UniversalClient
	keys
	owner string // this replica, in the claims it takes
}

// start stores a new ladder and makes it due at at; a ladder already
// stored is kept.
func (d *dueLadders) start(ctx context.Context, id string, raw []byte, at time.Time) error {
	_, err := d.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, d.keyState(id), raw, 0)
		p.ZAddNX(ctx, d.keyDue(), redis.Z{Score: ms(at), Member: id})
		return nil
	})
	if err != nil {
		return fmt.Errorf("start ladder %s: %w", id, err)
	}
	return nil
}

// get returns the ladder state, or ErrNoLadder.
func (d *dueLadders) get(ctx context.Context, id string) (*State, error) {
	return NewStates(d.rdb, d.prefix).Get(ctx, id)
}

// update changes a state atomically and keeps the due set in step with it.
func (d *dueLadders) update(ctx context.Context, id string, fn func(*State) error) (*State, error) {
	return redisx.UpdateJSON(ctx, d.rdb, d.keyState(id), ErrNoLadder, fn, func(p redis.Pipeliner, raw []byte, st *State) {
		p.Set(ctx, d.keyState(id), raw, 0)
		if st.Done() {
			p.ZRem(ctx, d.keyDue(), id)
		} else {
			p.ZAdd(ctx, d.keyDue(), redis.Z{Score: ms(st.NextAt), Member: id})
		}
	})
}

func ms(t time.Time) float64 { return float64(t.UnixMilli()) }

// due lists the ladders due at now (at most 1000 a tick).
func (d *dueLadders) due(ctx context.Context, now time.Time) ([]string, error) {
	ids, err := d.rdb.ZRangeByScore(ctx, d.keyDue(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 1000}).Result()
	if err != nil {
		return nil, fmt.Errorf("read due ladders: %w", err)
	}
	return ids, nil
}

// next is when the earliest ladder is due.
func (d *dueLadders) next(ctx context.Context) (time.Time, bool) {
	next, err := d.rdb.ZRangeWithScores(ctx, d.keyDue(), 0, 0).Result()
	if err != nil || len(next) != 1 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(next[0].Score)), true
}

// drop takes a ladder off the due set (gone, or nothing left to page).
func (d *dueLadders) drop(ctx context.Context, id string) {
	d.rdb.ZRem(ctx, d.keyDue(), id)
}

// claimScript takes an incident's lease only if it is still due, so two
// replicas never work on the same ladder at once.
var claimScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return 1 end
return 0`)

// claim takes the ladder's lease for lease if it is still due at now.
func (d *dueLadders) claim(ctx context.Context, id string, now time.Time, lease time.Duration) (bool, error) {
	ok, err := claimScript.Run(ctx, d.rdb, []string{d.keyDue(), d.keyLease(id)}, id, now.UnixMilli(), d.owner, lease.Milliseconds()).Int()
	return ok == 1, err
}

// release gives the ladder's lease back.
func (d *dueLadders) release(ctx context.Context, id string) {
	_ = redisx.NewLease(d.rdb, d.keyLease(id), d.owner).Release(ctx)
}

// pageWatchers are told of each page once it is recorded: the card
// (Pager.AfterPage), the incident's channel (PagedObserver: the people
// reached are invited) and the metrics (PageObserver: how late, to how
// many).
type pageWatchers struct {
	pager   Pager
	paged   PagedObserver // nil: nobody invited
	metrics PageObserver
}

func (p *pageWatchers) tell(ctx context.Context, id string, page Page, late time.Duration) {
	p.pager.AfterPage(ctx, id)
	if p.paged != nil {
		p.paged.Paged(ctx, id, page.Reached)
	}
	p.metrics.Page(late, len(page.Reached))
}
