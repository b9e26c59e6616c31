package statuswatch_test

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// betweenReadAndWrite runs fn once, right after the nth read of the
// snapshot key: another writer's change landing in the gap.
type betweenReadAndWrite struct {
	key   string
	n     int32
	reads atomic.Int32
	fn    func()
}

func (h *betweenReadAndWrite) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *betweenReadAndWrite) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *betweenReadAndWrite) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		if len(args) == 2 && strings.EqualFold(cmd.Name(), "get") && args[1] == h.key && h.reads.Add(1) == h.n {
			h.fn()
		}
		return err
	}
}

// The status poll and the probe round run on their own schedules, on one
// replica or two, and each writes its part of the snapshot `status` reads.
// A probe round that lands between the poll's read and write must not be
// undone by it (nor the poll's summary by a round): `status` said "not
// polled yet" right after a poll when the start-up detection did this.
func TestSnapshotPartsWrittenAtOnceAreAllKept(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	fs.SetComponent("Dashboard", "degraded_performance")
	// Each of the poll's reads of the snapshot in turn has a probe round
	// land right after it.
	for n := int32(1); n <= 3; n++ {
		rdb, prefix := redistest.Client(t)
		hook := &betweenReadAndWrite{key: prefix + "status:last", n: n}
		rdb.AddHook(hook)
		log := logrus.New()
		log.SetOutput(io.Discard)
		rep := &report{}
		p := statuswatch.NewPoller(rdb, prefix, statuswatch.Config{StatusURL: fs.StatuspageURL(), HealthURL: fs.HealthURL(), Confirm: 2, HealthConfirm: 3, Interval: time.Minute, ProbeInterval: 10 * time.Second},
			nil, rep, rep, func() time.Time { return time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC) }, log)
		ctx := context.Background()
		ran := false
		hook.fn = func() { ran = true; p.PollProbes(ctx) }
		p.Poll(ctx)
		if !ran {
			continue // the poll reads the snapshot fewer times
		}
		s, err := p.Last(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Summary == nil || s.Health == nil {
			t.Fatalf("a part written at the same time was lost (round after read %d): summary %v, health %v", n, s.Summary != nil, s.Health != nil)
		}
	}
}

type panicFor struct{ job string }

func (p panicFor) hook(job string) {
	if job == p.job {
		panic("planted: " + job)
	}
}

// A probe round runs its probes in goroutines of its own; a panic in one
// is the bot's bug: the guard recovers it (the process carries on) and the
// round records that probe as not done rather than as Clerk failing.
func TestAProbeThatPanicsDoesNotEndTheProcess(t *testing.T) {
	fs := fakestatus.New()
	defer fs.Close()
	rdb, prefix := redistest.Client(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	rep := &report{}
	g := guard.New(log, nil, panicFor{job: "clerk probe"}.hook)
	p := statuswatch.NewPoller(rdb, prefix, statuswatch.Config{HealthURL: fs.HealthURL(), Interval: time.Minute, ProbeInterval: 10 * time.Second,
		Probes: []statuswatch.ProbeTarget{{API: "Backend API", Name: "GET /jwks", URL: fs.HealthURL()}}, Guard: g},
		nil, rep, rep, func() time.Time { return time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC) }, log)
	ctx := context.Background()
	p.PollProbes(ctx)
	s, err := p.Last(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Probes) != 1 || s.Probes[0].Bad || !strings.Contains(s.Probes[0].Err, "the bot failed to probe") || s.Health == nil {
		t.Fatalf("after a panicked probe: %+v, health %v", s.Probes, s.Health != nil)
	}
	if len(rep.alerts) != 0 {
		t.Fatalf("a panic in the bot opened %d incidents about Clerk", len(rep.alerts))
	}
}
