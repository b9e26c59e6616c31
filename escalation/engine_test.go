package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// clock is a test clock shared by engines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type sent struct {
	Incident string
	Step     int
	Level    int
	Repeat   int
	User     string
	At       time.Time
}

// recorder is a Pager that records every DM and announcement.
type recorder struct {
	mu       sync.Mutex
	clock    *clock
	groups   map[string][]string
	pages    []sent
	announce []escalation.Page
	fail     int // fail this many Notify calls first
	panics   int // panic in this many Notify calls first
	alarms   []string
}

// Failed records the alarm a pager raises when a page panicked.
func (r *recorder) Failed(ctx context.Context, job, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alarms = append(r.alarms, job+" "+id)
}

func (r *recorder) Members(ctx context.Context, id string) ([]string, error) {
	if strings.HasPrefix(id, "S") {
		return r.groups[id], nil
	}
	return []string{id}, nil
}

func (r *recorder) Notify(ctx context.Context, inc *incident.Incident, p escalation.Page, user string) (escalation.DM, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return escalation.DM{}, fmt.Errorf("slack said 429")
	}
	if r.panics > 0 {
		r.panics--
		panic("pager bug")
	}
	r.pages = append(r.pages, sent{inc.ID, p.Step, p.Level, p.Repeat, user, r.clock.Now()})
	return escalation.DM{}, nil
}

func (r *recorder) Announce(ctx context.Context, inc *incident.Incident, p escalation.Page) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.announce = append(r.announce, p)
	return nil
}

func (r *recorder) AfterPage(ctx context.Context, id string) {}

func (r *recorder) SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm escalation.DM) error {
	return nil
}

func (r *recorder) ThreadURL(inc *incident.Incident) string { return "" }

func (r *recorder) levels(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.pages {
		if p.Incident == id {
			out = append(out, fmt.Sprintf("L%d.%d:%s", p.Level, p.Repeat, p.User))
		}
	}
	return out
}

var ladder = escalation.Ladder{
	Rungs: []escalation.Rung{
		{Level: 1, Name: "On-call engineer", Window: "0-15 min", Start: 0, Targets: []string{"U1"}},
		{Level: 2, Name: "Engineering lead", Window: "15-30 min", Start: 15 * time.Minute, Targets: []string{"U2"}},
		{Level: 3, Name: "CTO", Window: "30+ min", Start: 30 * time.Minute, Targets: []string{"U3"}},
	},
	RepeatEvery: 15 * time.Minute, RepeatTimes: 3,
}

type fixture struct {
	rdb    *redis.Client
	prefix string
	clock  *clock
	store  *incident.Store
	pager  *recorder
}

func newFixture(t testing.TB) *fixture {
	rdb, prefix := redistest.Client(t)
	c := &clock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
	return &fixture{rdb: rdb, prefix: prefix, clock: c, store: incident.NewStore(rdb, prefix, c.Now),
		pager: &recorder{clock: c, groups: map[string][]string{}}}
}

func (f *fixture) engine() *escalation.Engine {
	log := logrus.New()
	log.SetOutput(io.Discard)
	// The guard raises its alarm through the pager, as the publisher does.
	return escalation.NewEngine(f.rdb, f.prefix, f.store, f.pager, f.clock.Now, log, escalation.WithGuard(guard.New(log, f.pager, nil)))
}

func (f *fixture) open(t testing.TB, e *escalation.Engine, cat incident.Category) *incident.Incident {
	t.Helper()
	inc, err := f.store.Open(context.Background(), incident.OpenParams{Category: cat, Title: "x", By: incident.Person{ID: "U9"}, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background(), inc, ladder); err != nil {
		t.Fatal(err)
	}
	return inc
}

func tick(t testing.TB, e *escalation.Engine) {
	t.Helper()
	if _, err := e.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestLadderPagesEachLevelOnTimeThenRepeats(t *testing.T) {
	f := newFixture(t)
	e := f.engine()
	inc := f.open(t, e, incident.Outage)
	want := []string{}
	expect := func(add ...string) {
		t.Helper()
		want = append(want, add...)
		if got := f.pager.levels(inc.ID); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("at +%v pages = %v, want %v", f.clock.Now().Sub(inc.OpenedAt), got, want)
		}
	}
	tick(t, e)
	expect("L1.0:U1")
	f.clock.Add(14*time.Minute + 59*time.Second)
	tick(t, e)
	expect()
	f.clock.Add(time.Second) // +15 min
	tick(t, e)
	expect("L2.0:U2")
	f.clock.Add(15 * time.Minute) // +30
	tick(t, e)
	expect("L3.0:U3")
	for i := 1; i <= 3; i++ {
		f.clock.Add(15 * time.Minute)
		tick(t, e)
		expect(fmt.Sprintf("L3.%d:U3", i))
	}
	f.clock.Add(5 * time.Hour)
	tick(t, e)
	expect()
	st, err := e.Get(context.Background(), inc.ID)
	if err != nil || !st.Done() || len(st.Log) != 6 {
		t.Fatalf("state %+v %v", st, err)
	}
}

func TestAckStopsTheLadderAtAnyPoint(t *testing.T) {
	for _, ackAfter := range []time.Duration{0, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute} {
		t.Run(ackAfter.String(), func(t *testing.T) {
			f := newFixture(t)
			e := f.engine()
			inc := f.open(t, e, incident.Security)
			tick(t, e)
			f.clock.Add(ackAfter)
			tick(t, e)
			before := len(f.pager.levels(inc.ID))
			// The ack is recorded on the incident; the engine is not told,
			// so this also proves the re-check before paging.
			if _, err := f.store.Update(context.Background(), inc.ID, incident.Ack(incident.Person{ID: "U1"})); err != nil {
				t.Fatal(err)
			}
			for range 12 {
				f.clock.Add(10 * time.Minute)
				tick(t, e)
			}
			if got := f.pager.levels(inc.ID); len(got) != before {
				t.Fatalf("paged after ack: %v", got)
			}
			st, _ := e.Get(context.Background(), inc.ID)
			if st.Stopped != "acknowledged" || st.StopBy != "U1" {
				t.Fatalf("state %+v", st)
			}
		})
	}
}

// The engine stops after level 1; the clock passes two deadlines; a new
// engine on the same Redis pages level 2 and level 3 exactly once, in order.
func TestRestartPagesMissedLevelsOnceInOrder(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	first := f.engine()
	inc := f.open(t, first, incident.Outage)
	done := make(chan struct{})
	go func() { first.Run(ctx); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); len(f.pager.levels(inc.ID)) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the running engine never paged level 1")
		}
		time.Sleep(time.Millisecond) // the running loop pages level 1 on its kick
	}
	cancel()
	<-done
	f.clock.Add(31 * time.Minute)
	second := f.engine()
	tick(t, second)
	tick(t, second)
	if got := strings.Join(f.pager.levels(inc.ID), ","); got != "L1.0:U1,L2.0:U2,L3.0:U3" {
		t.Fatalf("pages = %s", got)
	}
}

func TestFailedPageIsRetriedOnlyForThoseMissed(t *testing.T) {
	f := newFixture(t)
	f.pager.groups["SLEADS"] = []string{"U2", "U4"}
	e := f.engine()
	l := ladder
	l.Rungs = append([]escalation.Rung(nil), ladder.Rungs...)
	l.Rungs[0].Targets = []string{"SLEADS", "U2"}
	inc, _ := f.store.Open(context.Background(), incident.OpenParams{Category: incident.Outage, Title: "x", By: incident.Person{ID: "U9"}})
	if err := e.Start(context.Background(), inc, l); err != nil {
		t.Fatal(err)
	}
	f.pager.fail = 1 // U2's DM fails once; U4's goes out
	tick(t, e)
	if got := f.pager.levels(inc.ID); strings.Join(got, ",") != "L1.0:U4" {
		t.Fatalf("first try: %v", got)
	}
	f.clock.Add(2 * time.Second)
	tick(t, e)
	if got := f.pager.levels(inc.ID); strings.Join(got, ",") != "L1.0:U4,L1.0:U2" {
		t.Fatalf("after retry: %v", got)
	}
	if len(f.pager.announce) != 1 {
		t.Fatalf("announced %d times", len(f.pager.announce))
	}
}

func TestEmptyLevelIsSkippedAtOnceAndEscalateJumps(t *testing.T) {
	f := newFixture(t)
	f.pager.groups["SEMPTY"] = nil
	e := f.engine()
	l := ladder
	l.Rungs = append([]escalation.Rung(nil), ladder.Rungs...)
	l.Rungs[1].Targets = []string{"SEMPTY"}
	inc, _ := f.store.Open(context.Background(), incident.OpenParams{Category: incident.Outage, Title: "x", By: incident.Person{ID: "U9"}})
	_ = e.Start(context.Background(), inc, l)
	tick(t, e)
	f.clock.Add(15 * time.Minute)
	tick(t, e)
	if got := strings.Join(f.pager.levels(inc.ID), ","); got != "L1.0:U1,L3.0:U3" {
		t.Fatalf("pages = %s", got)
	}
	if a := f.pager.announce[1]; !a.Skipped || a.Level != 2 {
		t.Fatalf("announce = %+v", a)
	}
	// escalate pages the next step (a re-page of level 3) now.
	if _, err := e.Escalate(context.Background(), inc.ID); err != nil {
		t.Fatal(err)
	}
	tick(t, e)
	if got := strings.Join(f.pager.levels(inc.ID), ","); got != "L1.0:U1,L3.0:U3,L3.1:U3" {
		t.Fatalf("pages = %s", got)
	}
}

// Eight escalates in 2.4 s, alternating between two replicas and each
// followed by a tick: past the last level each used to add a re-page (the
// CTO paged five times), and the second woke the CTO 300 ms after the
// leads were paged. Now the ladder is escalated by hand at most once a
// minute; a refusal names when the next is possible and changes nothing.
func TestEscalateAtMostOnceAMinuteAcrossReplicas(t *testing.T) {
	f := newFixture(t)
	engines := []*escalation.Engine{f.engine(), f.engine()}
	ctx := context.Background()
	inc := f.open(t, engines[0], incident.Outage)
	tick(t, engines[0])
	start := f.clock.Now()
	refused := 0
	for i := range 8 {
		e := engines[i%2]
		before, _ := e.Get(ctx, inc.ID)
		_, err := e.Escalate(ctx, inc.ID)
		var soon *escalation.TooSoonError
		switch {
		case err == nil:
		case errors.As(err, &soon):
			refused++
			if soon.Level != 2 || soon.NextLevel != 3 || !soon.Next.Equal(start.Add(time.Minute)) {
				t.Fatalf("refusal %d: %+v", i, soon)
			}
			if after, _ := e.Get(ctx, inc.ID); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("a refused escalate changed the ladder:\n%+v\n%+v", before, after)
			}
		default:
			t.Fatal(err)
		}
		tick(t, engines[(i+1)%2])
		f.clock.Add(300 * time.Millisecond)
	}
	if got := strings.Join(f.pager.levels(inc.ID), ","); got != "L1.0:U1,L2.0:U2" {
		t.Fatalf("pages = %s", got)
	}
	if refused != 7 {
		t.Fatalf("%d refused, want 7", refused)
	}
	// A minute after level 2 was asked for, the next level may be paged.
	f.clock.Set(start.Add(time.Minute))
	if r, err := engines[1].Escalate(ctx, inc.ID); err != nil || r.Level != 3 {
		t.Fatalf("escalate after a minute: %+v, %v", r, err)
	}
	tick(t, engines[0])
	if got := strings.Join(f.pager.levels(inc.ID), ","); got != "L1.0:U1,L2.0:U2,L3.0:U3" {
		t.Fatalf("pages = %s", got)
	}
}

// Three engines on one Redis, 200 incidents, random acks: every due page
// is sent exactly once and none after an ack.
func TestThreeEnginesTwoHundredIncidentsExactlyOnce(t *testing.T) {
	f := newFixture(t)
	engines := []*escalation.Engine{f.engine(), f.engine(), f.engine()}
	rng := rand.New(rand.NewPCG(1, 2))
	type plan struct {
		inc   *incident.Incident
		ackAt time.Duration // 0: never
	}
	var plans []plan
	for i := range 200 {
		inc := f.open(t, engines[i%3], incident.Outage)
		p := plan{inc: inc}
		if rng.IntN(3) > 0 {
			p.ackAt = time.Duration(1+rng.IntN(100)) * time.Minute
		}
		plans = append(plans, p)
	}
	start := f.clock.Now()
	for elapsed := time.Duration(0); elapsed <= 100*time.Minute; elapsed += 5 * time.Minute {
		for _, p := range plans {
			if p.ackAt != 0 && p.ackAt <= elapsed && p.ackAt > elapsed-5*time.Minute {
				_, _ = f.store.Update(context.Background(), p.inc.ID, incident.Ack(incident.Person{ID: "U1"}))
				if rng.IntN(2) == 0 {
					_ = engines[rng.IntN(3)].Stop(context.Background(), p.inc.ID, "acknowledged", "U1")
				}
			}
		}
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Go(func() { tick(t, e) })
		}
		wg.Wait()
		f.clock.Add(5 * time.Minute)
	}
	end := f.clock.Now().Add(-5 * time.Minute) // time of the last tick
	count := map[string]int{}
	for _, s := range f.pager.pages {
		count[fmt.Sprintf("%s/%d", s.Incident, s.Step)]++
	}
	total := 0
	for _, p := range plans {
		limit := end
		if p.ackAt != 0 {
			// The ack lands before the tick of its 5-minute round.
			lastTickBeforeAck := start.Add((p.ackAt - 1) / (5 * time.Minute) * 5 * time.Minute)
			limit = lastTickBeforeAck
		}
		for s := range ladder.Steps() {
			due := p.inc.OpenedAt.Add(ladder.Offset(s))
			key := fmt.Sprintf("%s/%d", p.inc.ID, s)
			want := 0
			if !due.After(limit) {
				want = 1
			}
			if count[key] != want {
				t.Errorf("%s (ack at +%v, due +%v): paged %d times, want %d", key, p.ackAt, ladder.Offset(s), count[key], want)
			}
			total += want
		}
	}
	if total < 400 || len(f.pager.pages) != total {
		t.Fatalf("pages %d, expected %d", len(f.pager.pages), total)
	}
	sort.Slice(f.pager.pages, func(i, j int) bool { return f.pager.pages[i].At.Before(f.pager.pages[j].At) })
}

// A ladder is frozen when the incident opens: starting it again with an
// edited policy changes nothing.
func TestLadderIsFrozenAtOpen(t *testing.T) {
	f := newFixture(t)
	e := f.engine()
	inc := f.open(t, e, incident.Outage)
	edited := ladder
	edited.Rungs = []escalation.Rung{{Level: 1, Name: "someone else", Targets: []string{"U7"}}}
	if err := e.Start(context.Background(), inc, edited); err != nil {
		t.Fatal(err)
	}
	tick(t, e)
	if got := strings.Join(f.pager.levels(inc.ID), ","); got != "L1.0:U1" {
		t.Fatalf("pages = %s", got)
	}
}

func TestResolveStopsTheLadder(t *testing.T) {
	f := newFixture(t)
	e := f.engine()
	inc := f.open(t, e, incident.Outage)
	tick(t, e)
	if _, err := f.store.Update(context.Background(), inc.ID, incident.Resolve(incident.Person{ID: "U1"}, "")); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Hour)
	tick(t, e)
	st, _ := e.Get(context.Background(), inc.ID)
	if got := f.pager.levels(inc.ID); len(got) != 1 || st.Stopped != "resolved" {
		t.Fatalf("pages %v, state %+v", got, st)
	}
}

// A page that panics is recovered: the pager's alarm is raised once for
// the incident, and the next tick pages as if nothing happened.
func TestPanickingPageRaisesTheAlarmAndIsRetried(t *testing.T) {
	f := newFixture(t)
	f.pager.panics = 1
	e := f.engine()
	inc := f.open(t, e, incident.Outage)
	tick(t, e)
	f.pager.mu.Lock()
	alarms := append([]string(nil), f.pager.alarms...)
	f.pager.mu.Unlock()
	if len(alarms) != 1 || alarms[0] != "escalation "+inc.ID {
		t.Fatalf("alarms %v", alarms)
	}
	f.clock.Add(time.Second)
	tick(t, e)
	if got := f.pager.levels(inc.ID); len(got) != 1 || got[0] != "L1.0:U1" {
		t.Fatalf("pages after the panic: %v", got)
	}
}

// panickyAlerts panics on its first trigger, then records.
type panickyAlerts struct {
	mu       sync.Mutex
	panics   int
	triggers []string
}

func (a *panickyAlerts) Trigger(ctx context.Context, dedup, summary, severity, link string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.panics > 0 {
		a.panics--
		panic("PagerDuty client bug")
	}
	a.triggers = append(a.triggers, dedup)
	return nil
}
func (a *panickyAlerts) Acknowledge(ctx context.Context, dedup string) error { return nil }
func (a *panickyAlerts) Resolve(ctx context.Context, dedup string) error     { return nil }

// A PagerDuty trigger runs beside the level's people, in its own
// goroutine: its panic raises the alarm and fails that channel only; the
// Slack DM is sent once and the trigger goes out on the retry.
func TestPanickingPagerDutyTriggerIsRecoveredAndRetried(t *testing.T) {
	f := newFixture(t)
	alerts := &panickyAlerts{panics: 1}
	log := logrus.New()
	log.SetOutput(io.Discard)
	e := escalation.NewEngine(f.rdb, f.prefix, f.store, f.pager, f.clock.Now, log, escalation.WithAlerts(alerts), escalation.WithGuard(guard.New(log, f.pager, nil)))
	inc, err := f.store.Open(context.Background(), incident.OpenParams{Category: incident.Outage, Title: "x", By: incident.Person{ID: "U9"}, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	l := escalation.Ladder{Rungs: []escalation.Rung{{Level: 1, Name: "on-call", Targets: []string{"U1"}, Via: []string{escalation.ViaSlack, escalation.ViaPagerDuty}},
		{Level: 2, Name: "lead", Start: time.Hour, Targets: []string{"U2"}}}}
	if err := e.Start(context.Background(), inc, l); err != nil {
		t.Fatal(err)
	}
	tick(t, e)
	f.pager.mu.Lock()
	alarms := append([]string(nil), f.pager.alarms...)
	f.pager.mu.Unlock()
	if len(alarms) != 1 || alarms[0] != "PagerDuty trigger "+inc.ID {
		t.Fatalf("alarms %v", alarms)
	}
	f.clock.Add(5 * time.Second)
	tick(t, e)
	alerts.mu.Lock()
	triggers := append([]string(nil), alerts.triggers...)
	alerts.mu.Unlock()
	if len(triggers) != 1 || triggers[0] != inc.ID {
		t.Fatalf("triggers after the panic: %v", triggers)
	}
	if got := f.pager.levels(inc.ID); len(got) != 1 || got[0] != "L1.0:U1" {
		t.Fatalf("Slack pages: %v", got)
	}
}
