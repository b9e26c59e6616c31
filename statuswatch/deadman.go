package statuswatch

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// staleAfter is how many intervals without a finished poll (by any
// replica) make the watcher stale: the dead-man's switch.
const staleAfter = 5

// deadMan is the dead-man's switch: each finished poll stamps
// status:polled-at, and it says when no replica has finished one for
// staleAfter intervals.
type deadMan struct {
	rdb     redis.UniversalClient
	keys    keyspace
	every   time.Duration // the status poll's interval
	started time.Time     // this process's start: the age before any poll
	now     func() time.Time
	rep     Reporter
	log     logrus.FieldLogger
}

// polled records a finished poll and re-arms the warning.
func (dm *deadMan) polled(ctx context.Context) {
	dm.rdb.Set(ctx, dm.keys.k("polled-at"), dm.now().UnixMilli(), 0)
	dm.rdb.Del(ctx, dm.keys.k("stale-warned"))
}

// PollAge is how long ago any replica finished a poll; before the first,
// how long this process has been up.
func (dm *deadMan) PollAge(ctx context.Context) (time.Duration, error) {
	ms, err := dm.rdb.Get(ctx, dm.keys.k("polled-at")).Int64()
	if errors.Is(err, redis.Nil) {
		return dm.now().Sub(dm.started), nil
	}
	if err != nil {
		return 0, err
	}
	return dm.now().Sub(time.UnixMilli(ms)), nil
}

// Stale reports whether no replica has finished a poll for 5 intervals.
func (dm *deadMan) Stale(ctx context.Context) bool {
	age, err := dm.PollAge(ctx)
	return err == nil && dm.every > 0 && age > staleAfter*dm.every
}

// WarnIfStale says once, in the channel, that polling has stopped; a
// finished poll re-arms it. Every replica's sweep calls it.
func (dm *deadMan) WarnIfStale(ctx context.Context) {
	if !dm.Stale(ctx) {
		return
	}
	if first, err := redisx.Once(ctx, dm.rdb, dm.keys.k("stale-warned"), 0); err != nil || !first {
		return
	}
	dm.log.Warn("no replica has finished a status poll for 5 intervals")
	dm.rep.Note(ctx, Note{Kind: PollerStale, Polls: staleAfter})
}

// leases are the polling leases: one replica polls the status page
// (status:lease) and one probes (status:probe-lease, when the probes have
// their own schedule); another takes over within two intervals when the
// holder dies.
type leases struct {
	rdb               redis.UniversalClient
	keys              keyspace
	owner             string // this process, among the replicas
	every, probeEvery time.Duration
	log               logrus.FieldLogger
}

// TryLead takes or renews the polling lease; another replica takes over
// within two intervals if the holder dies.
func (l *leases) TryLead(ctx context.Context) bool {
	return l.lead(ctx, "lease", l.every)
}

// TryLeadProbes takes or renews the probes' own lease (their schedule
// runs apart from the status poll's): one replica probes, and another
// takes over within two probe intervals if it dies.
func (l *leases) TryLeadProbes(ctx context.Context) bool {
	return l.lead(ctx, "probe-lease", l.probeEvery)
}

func (l *leases) lead(ctx context.Context, name string, interval time.Duration) bool {
	ttl := 2 * interval
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	ok, err := redisx.NewLease(l.rdb, l.keys.k(name), l.owner).Keep(ctx, ttl)
	if err != nil {
		l.log.WithError(err).Warn("status poller lease failed")
		return false
	}
	return ok
}
