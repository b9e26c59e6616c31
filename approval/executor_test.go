package approval_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

type openIncidents struct{}

func (openIncidents) Current(_ context.Context, id string) (*incident.Incident, error) {
	return &incident.Incident{ID: id, Status: incident.Investigating}, nil
}

// blockingDoer is a lockout of many users: it runs until released.
type blockingDoer struct {
	release chan struct{}
	calls   atomic.Int32
}

func (d *blockingDoer) CarryOut(ctx context.Context, r *approval.Request) *approval.Outcome {
	d.calls.Add(1)
	<-d.release
	return &approval.Outcome{Status: approval.Done, Summary: "done"}
}

func execFixture(t *testing.T) (*approval.Store, *blockingDoer, func() *approval.Executor, *approval.Request) {
	rdb, prefix := redistest.Client(t)
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	store := approval.NewStore(rdb, prefix, 15*time.Minute, func() time.Time { return now })
	log := logrus.New()
	log.SetOutput(io.Discard)
	d := &blockingDoer{release: make(chan struct{})}
	newExec := func() *approval.Executor {
		return approval.NewExecutor(store, openIncidents{}, map[string]approval.Doer{approval.Lockout: d, approval.BypassOn: d}, nil, nil, log)
	}
	r, err := store.Create(context.Background(), approval.Request{Incident: "INC-1", Action: approval.Lockout, RequestedBy: incident.Person{ID: "U1"}})
	if err != nil {
		t.Fatal(err)
	}
	return store, d, newExec, r
}

func waitOutcome(t *testing.T, store *approval.Store, id string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if r, err := store.Get(context.Background(), id); err == nil && r.Outcome != nil {
			return r.Outcome.Summary
		}
	}
	t.Fatal("no outcome recorded")
	return ""
}

// The sweep calls Drain every second; a long lockout found in the outbox
// must not hold it (expiries, reminders, card catch-up wait behind it).
func TestDrainDoesNotWaitForTheWork(t *testing.T) {
	store, d, newExec, r := execFixture(t)
	if _, err := store.Decide(context.Background(), r.ID, incident.Person{ID: "U2"}, true); err != nil {
		t.Fatal(err)
	}
	e := newExec()
	returned := make(chan struct{})
	go func() { e.Drain(context.Background()); close(returned) }()
	select {
	case <-returned:
	case <-time.After(3 * time.Second):
		close(d.release)
		t.Fatal("Drain waited for the lockout to finish")
	}
	e.Drain(context.Background()) // the next sweep does not start it twice
	close(d.release)
	if got := waitOutcome(t, store, r.ID); got != "done" {
		t.Fatalf("outcome %q", got)
	}
	if n := d.calls.Load(); n != 1 {
		t.Fatalf("carried out %d times", n)
	}
}

// The approving click claims the execution in the same write as the
// decision: another replica's sweep right after it takes nothing, and
// the clicking replica carries it out (and can answer with the outcome).
func TestApprovalClaimsItsExecution(t *testing.T) {
	store, d, newExec, r := execFixture(t)
	clicked, other := newExec(), newExec()
	ar, err := clicked.Decide(context.Background(), r.ID, incident.Person{ID: "U2"}, true)
	if err != nil {
		t.Fatal(err)
	}
	close(d.release)
	other.Drain(context.Background())
	outcome, ok := clicked.CarryOutClaimed(context.Background(), ar)
	if !ok || outcome == nil || outcome.Summary != "done" {
		t.Fatalf("the approving replica did not carry it out: %+v %v", outcome, ok)
	}
	if n := d.calls.Load(); n != 1 {
		t.Fatalf("carried out %d times", n)
	}
	_ = store
}

// `bypass off` cancels an approved request not carried out yet: it leaves
// the outbox with its outcome, and no sweep carries it out afterwards.
func TestCancelApprovedTakesItOffTheOutbox(t *testing.T) {
	store, d, newExec, r := execFixture(t)
	close(d.release)
	if _, err := store.Decide(context.Background(), r.ID, incident.Person{ID: "U2"}, true); err != nil {
		t.Fatal(err)
	}
	got, err := store.CancelApproved(context.Background(), func(*approval.Request) bool { return true }, approval.VoidBypassOff)
	if err != nil || len(got) != 1 || got[0].ID != r.ID {
		t.Fatalf("cancelled %v, %v", got, err)
	}
	if ids, _ := store.Unexecuted(context.Background()); len(ids) != 0 {
		t.Fatalf("still in the outbox: %v", ids)
	}
	newExec().Drain(context.Background())
	if _, ok := newExec().CarryOut(context.Background(), got[0]); ok {
		t.Fatal("a cancelled request was carried out")
	}
	if n := d.calls.Load(); n != 0 {
		t.Fatalf("carried out %d times", n)
	}
	if cur, _ := store.Get(context.Background(), r.ID); cur.Outcome == nil || cur.Outcome.Summary == "done" {
		t.Fatalf("outcome %+v", cur.Outcome)
	}
}

// Three replicas race for one approved request that nobody claimed with
// the decision (its replica died): through CarryOut and through Drain,
// only the one that wins the claim runs it; the others return at once.
func TestOnlyTheClaimWinnerCarriesItOut(t *testing.T) {
	store, d, newExec, r := execFixture(t)
	if _, err := store.Decide(context.Background(), r.ID, incident.Person{ID: "U2"}, true); err != nil {
		t.Fatal(err)
	}
	execs := []*approval.Executor{newExec(), newExec(), newExec()}
	results := make(chan bool, 2*len(execs))
	for _, e := range execs {
		go func() { _, ok := e.CarryOut(context.Background(), r); results <- ok }()
		go func() { e.Drain(context.Background()); results <- false }()
	}
	// Every attempt but the winner's returns without waiting for the work.
	for range 2*len(execs) - 1 {
		select {
		case ok := <-results:
			if ok {
				t.Error("a CarryOut reported success before the work was released")
			}
		case <-time.After(5 * time.Second):
			close(d.release)
			t.Fatalf("a losing replica is running it too: %d executions", d.calls.Load())
		}
	}
	close(d.release)
	if got := waitOutcome(t, store, r.ID); got != "done" {
		t.Fatalf("outcome %q", got)
	}
	if n := d.calls.Load(); n != 1 {
		t.Fatalf("carried out %d times by 3 replicas", n)
	}
}

// The replica whose click claimed it runs it; CarryOutClaimed on another
// replica (its lease is not theirs) does nothing.
func TestCarryOutClaimedNeedsTheClaim(t *testing.T) {
	_, d, newExec, r := execFixture(t)
	clicked, other := newExec(), newExec()
	ar, err := clicked.Decide(context.Background(), r.ID, incident.Person{ID: "U2"}, true)
	if err != nil {
		t.Fatal(err)
	}
	close(d.release)
	if _, ok := other.CarryOutClaimed(context.Background(), ar); ok {
		t.Fatal("a replica without the claim carried it out")
	}
	if n := d.calls.Load(); n != 0 {
		t.Fatalf("carried out %d times without the claim", n)
	}
	if _, ok := clicked.CarryOutClaimed(context.Background(), ar); !ok || d.calls.Load() != 1 {
		t.Fatalf("the claiming replica did not carry it out (%d)", d.calls.Load())
	}
}

type ctxKey struct{}

// ctxDoer ends the click while it works, and remembers what the context
// it ran under carried and whether the click's end reached it.
type ctxDoer struct {
	endClick       func()
	seen, canceled any
}

func (d *ctxDoer) CarryOut(ctx context.Context, r *approval.Request) *approval.Outcome {
	d.endClick()
	d.seen, d.canceled = ctx.Value(ctxKey{}), ctx.Err()
	return &approval.Outcome{Status: approval.Done, Summary: "done"}
}

// The work runs detached from the click: the click's end does not cancel
// it, and the decoration cmd gives (WithDetached: Slack's pace bound
// lifted) applies to it.
func TestExecutionRunsDetachedFromTheClick(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	store := approval.NewStore(rdb, prefix, 15*time.Minute, time.Now)
	log := logrus.New()
	log.SetOutput(io.Discard)
	d := &ctxDoer{}
	e := approval.NewExecutor(store, openIncidents{}, map[string]approval.Doer{approval.Lockout: d}, nil, nil, log,
		approval.WithDetached(func(ctx context.Context) context.Context { return context.WithValue(ctx, ctxKey{}, "detached") }))
	r, err := store.Create(t.Context(), approval.Request{Incident: "INC-1", Action: approval.Lockout, RequestedBy: incident.Person{ID: "U1"}})
	if err != nil {
		t.Fatal(err)
	}
	click, cancel := context.WithCancel(t.Context())
	d.endClick = cancel
	ar, err := e.Decide(click, r.ID, incident.Person{ID: "U2"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.CarryOutClaimed(click, ar); !ok {
		t.Fatal("not carried out")
	}
	if d.seen != "detached" || d.canceled != nil {
		t.Fatalf("the work ran under %v (canceled: %v), want the detached context", d.seen, d.canceled)
	}
}
