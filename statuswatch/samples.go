package statuswatch

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sample is one timed probe call, kept for charts.
type Sample struct {
	At time.Time
	Ms float64
	OK bool // false: the call failed (5xx, timeout, connection error)
}

// TargetSamples are one probe target's samples, oldest first.
type TargetSamples struct {
	Target  string // "Backend API GET /jwks"
	Samples []Sample
}

// Samples keeps each probe target's recent timings in Redis, one sorted
// set per target scored by time. Every Add trims the set to Keep and to
// Max entries, so its memory is bounded whatever the poll interval or the
// number of replicas polling.
type Samples struct {
	rdb    redis.UniversalClient
	prefix string
	Keep   time.Duration
	Max    int
}

// NewSamples keeps the last 24 h at the poll interval (at most 5,000
// samples per target: one a 17 s poll; 2,880 for an unknown interval).
func NewSamples(rdb redis.UniversalClient, prefix string, interval time.Duration) *Samples {
	n := 2880
	if interval > 0 {
		n = int(24*time.Hour/interval) + 1
	}
	return &Samples{rdb: rdb, prefix: prefix, Keep: 24 * time.Hour, Max: min(max(n, 60), 5000)}
}

// The {samples} hash tag keeps the targets' sets and their index in one
// cluster slot, so Add can write them in one transaction.
func (s *Samples) key(target string) string { return s.prefix + "status:{samples}:" + target }
func (s *Samples) index() string            { return s.prefix + "status:{samples}" }

// Add records one sample of target and trims its set.
func (s *Samples) Add(ctx context.Context, target string, smp Sample) error {
	ok := 0
	if smp.OK {
		ok = 1
	}
	// The member carries the figures (and nanoseconds, so two samples in
	// one millisecond stay two); the score is the time, for Range.
	member := fmt.Sprintf("%d:%s:%d", smp.At.UnixNano(), strconv.FormatFloat(smp.Ms, 'f', 1, 64), ok)
	k := s.key(target)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, k, redis.Z{Score: float64(smp.At.UnixMilli()), Member: member})
		p.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(smp.At.Add(-s.Keep).UnixMilli(), 10))
		p.ZRemRangeByRank(ctx, k, 0, int64(-s.Max-1))
		p.PExpire(ctx, k, s.Keep)
		p.SAdd(ctx, s.index(), target)
		p.PExpire(ctx, s.index(), s.Keep)
		return nil
	})
	if err != nil {
		return fmt.Errorf("probe samples of %s: %w", target, err)
	}
	return nil
}

// Range returns every target's samples taken in [from, to], targets in
// name order; targets with none in the window are left out.
func (s *Samples) Range(ctx context.Context, from, to time.Time) ([]TargetSamples, error) {
	targets, err := s.rdb.SMembers(ctx, s.index()).Result()
	if err != nil {
		return nil, fmt.Errorf("probe sample targets: %w", err)
	}
	sort.Strings(targets)
	cmds := make([]*redis.StringSliceCmd, len(targets))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, t := range targets {
			cmds[i] = p.ZRangeByScore(ctx, s.key(t), &redis.ZRangeBy{Min: strconv.FormatInt(from.UnixMilli(), 10), Max: strconv.FormatInt(to.UnixMilli(), 10)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("probe samples: %w", err)
	}
	var out []TargetSamples
	for i, t := range targets {
		ts := TargetSamples{Target: t}
		for _, m := range cmds[i].Val() {
			if smp, ok := parseSample(m); ok {
				ts.Samples = append(ts.Samples, smp)
			}
		}
		if len(ts.Samples) > 0 {
			out = append(out, ts)
		}
	}
	return out, nil
}

func parseSample(m string) (Sample, bool) {
	parts := strings.Split(m, ":")
	if len(parts) != 3 {
		return Sample{}, false
	}
	ns, err1 := strconv.ParseInt(parts[0], 10, 64)
	ms, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil {
		return Sample{}, false
	}
	return Sample{At: time.Unix(0, ns).UTC(), Ms: ms, OK: parts[2] == "1"}, true
}

// SampleName names a probe target in the samples: its API and call.
func SampleName(r ProbeResult) string { return r.API + " " + r.Name }

// keepSamples records one poll's timings; a Redis error costs a point on
// a chart, not the poll.
func (ap *apiProbes) keepSamples(ctx context.Context, results []ProbeResult) {
	at := ap.now()
	for _, r := range results {
		if err := ap.samples.Add(ctx, SampleName(r), Sample{At: at, Ms: float64(r.Latency) / float64(time.Millisecond), OK: !r.Bad}); err != nil {
			ap.log.WithError(err).Warn("could not keep a probe sample")
		}
	}
}
