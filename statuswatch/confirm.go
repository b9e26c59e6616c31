package statuswatch

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// round is how one probe round of an API (or of the app's health) went.
type round int

const (
	roundOK     round = iota
	roundSlow         // answered, but slower than ProbeSlow
	roundFailed       // 5xx, timeout, connection error
)

// streak is the bad rounds in a row of one key that the window holds.
type streak struct {
	InWindow   int  // bad rounds (failed or slow) within ProbeWindow
	Failed     int  // failed rounds within ProbeWindow
	InLong     int  // bad rounds within twice ProbeWindow (slow-only confirmation)
	Recovered  bool // an OK round ended a confirmed streak
	firstShort time.Time
	firstLong  time.Time
}

// Confirmed says whether the streak is a problem: Confirm failed rounds
// within the window, with no good round between them (a slow one neither
// counts nor breaks the streak); or twice as many bad rounds, slow or
// failed, within twice the window. A slow answer is common noise (about
// 1 % of probes): counted like a failure, a 20 s blip next to one slow
// round would page. One bad round never does.
func (s streak) Confirmed(confirm int) bool {
	return s.failing(confirm) || s.InLong >= 2*max(confirm, 1)
}

func (s streak) failing(confirm int) bool { return s.Failed >= max(confirm, 1) }

// Rounds is how many bad rounds confirmed it.
func (s streak) Rounds(confirm int) int {
	if s.failing(confirm) {
		return s.Failed
	}
	return s.InLong
}

// First is the first bad round of the confirmed streak: the problem's
// first signal (the incident's detected milestone).
func (s streak) First(confirm int) time.Time {
	if s.failing(confirm) {
		return s.firstShort
	}
	return s.firstLong
}

// streaks holds each key's bad rounds in a row (status:fails:<key>, a
// sorted set scored by time) and the keys whose streak was confirmed
// (status:down), so that the first OK round after one says the recovery.
type streaks struct {
	rdb    redis.UniversalClient
	keys   keyspace
	now    func() time.Time
	window time.Duration // how far back a bad round is still "in a row"
}

// window is ProbeWindow, or room for Confirm+1 rounds at the probes'
// interval when it is not set.
func window(cfg Config, probeEvery time.Duration) time.Duration {
	if cfg.ProbeWindow > 0 {
		return cfg.ProbeWindow
	}
	n := max(cfg.ProbeConfirm, cfg.HealthConfirm, 1) + 1
	if probeEvery > 0 {
		return time.Duration(n) * probeEvery
	}
	return time.Duration(n) * time.Minute
}

// record adds one round of key and returns its streak. The bad rounds are
// a sorted set scored by time (a member per round, unique even when two
// rounds share a millisecond); an OK round deletes it, so only rounds in
// a row count, and the window trims rounds too old to be "in a row" (a
// stalled prober, a lease moving between replicas).
func (st *streaks) record(ctx context.Context, key string, r round) (streak, error) {
	k := st.keys.k("fails:" + key)
	if r == roundOK {
		pipe := st.rdb.TxPipeline()
		rem := pipe.SRem(ctx, st.keys.k("down"), key)
		pipe.Del(ctx, k)
		if _, err := pipe.Exec(ctx); err != nil {
			return streak{}, fmt.Errorf("probe streak of %s: %w", key, err)
		}
		return streak{Recovered: rem.Val() > 0}, nil
	}
	now := st.now()
	w := st.window
	tag := "s"
	if r == roundFailed {
		tag = "f"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	member := fmt.Sprintf("%d:%s:%x", now.UnixMilli(), tag, b)
	pipe := st.rdb.TxPipeline()
	pipe.ZAdd(ctx, k, redis.Z{Score: float64(now.UnixMilli()), Member: member})
	pipe.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(now.Add(-2*w).UnixMilli(), 10))
	all := pipe.ZRangeWithScores(ctx, k, 0, -1)
	pipe.PExpire(ctx, k, 2*w)
	if _, err := pipe.Exec(ctx); err != nil {
		return streak{}, fmt.Errorf("probe streak of %s: %w", key, err)
	}
	var s streak
	from := now.Add(-w).UnixMilli()
	for _, z := range all.Val() {
		ms := int64(z.Score)
		at := time.UnixMilli(ms)
		s.InLong++
		if s.firstLong.IsZero() || at.Before(s.firstLong) {
			s.firstLong = at
		}
		if ms >= from {
			s.InWindow++
			if s.firstShort.IsZero() || at.Before(s.firstShort) {
				s.firstShort = at
			}
			if strings.Contains(fmt.Sprint(z.Member), ":f:") {
				s.Failed++
			}
		}
	}
	return s, nil
}

// markDown remembers that key's streak was confirmed, so that the first
// OK round after it says the recovery once.
func (st *streaks) markDown(ctx context.Context, key string) {
	st.rdb.SAdd(ctx, st.keys.k("down"), key)
}
