package escalation_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// failStateWrite fails the next write of a ladder's state once armed, as a
// Redis that drops the connection mid-transaction does.
type failStateWrite struct {
	key   string
	armed atomic.Bool
	hits  atomic.Int32
}

func (h *failStateWrite) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *failStateWrite) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (h *failStateWrite) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if args := c.Args(); len(args) > 1 && c.Name() == "set" && args[1] == h.key && h.armed.CompareAndSwap(true, false) {
				h.hits.Add(1)
				err := errors.New("read tcp: connection reset by peer")
				for _, c := range cmds {
					c.SetErr(err)
				}
				return err
			}
		}
		return next(ctx, cmds)
	}
}

// announceThenFail is a pager whose first announcement, once Slack took
// it, is followed by a failed write of the ladder's state.
type announceThenFail struct {
	*recorder
	hook *failStateWrite
	once sync.Once
}

func (a *announceThenFail) Announce(ctx context.Context, inc *incident.Incident, p escalation.Page) error {
	err := a.recorder.Announce(ctx, inc, p)
	a.once.Do(func() { a.hook.armed.Store(true) })
	return err
}

// The page of a step was announced in the thread, then recording the step
// failed: the step is paged again on the next tick (its DM and its
// announcement are not repeated), and the ladder goes on.
func TestStepAnnouncedOnceWhenItsRecordFails(t *testing.T) {
	f := newFixture(t)
	rdb := redis.NewClient(f.rdb.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	hook := &failStateWrite{}
	rdb.AddHook(hook)
	pager := &announceThenFail{recorder: f.pager, hook: hook}
	log := logrus.New()
	log.SetOutput(io.Discard)
	e := escalation.NewEngine(rdb, f.prefix, f.store, pager, f.clock.Now, log)
	inc := f.open(t, e, incident.Outage)
	hook.key = f.prefix + "escalation:" + inc.ID
	tick(t, e)
	if hook.hits.Load() != 1 {
		t.Fatalf("the state write was failed %d times, want 1", hook.hits.Load())
	}
	if st, err := e.Get(context.Background(), inc.ID); err != nil || len(st.Log) != 0 {
		t.Fatalf("the step was recorded although its write failed: %+v %v", st, err)
	}
	tick(t, e)
	if st, err := e.Get(context.Background(), inc.ID); err != nil || len(st.Log) != 1 {
		t.Fatalf("the step is not recorded on the next tick: %+v %v", st, err)
	}
	f.clock.Add(15 * time.Minute)
	tick(t, e)
	f.pager.mu.Lock()
	var steps []int
	for _, p := range f.pager.announce {
		steps = append(steps, p.Step)
	}
	f.pager.mu.Unlock()
	if len(steps) != 2 || steps[0] != 0 || steps[1] != 1 {
		t.Fatalf("announced steps %v, want [0 1]", steps)
	}
	if got := f.pager.levels(inc.ID); len(got) != 2 {
		t.Fatalf("pages %v", got)
	}
}
