package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/sirupsen/logrus"
)

// Doer carries out one kind of approved request and says what happened,
// as data (the publisher words it). The use cases (usecase.Lockout,
// BypassOn, BypassExtend, RollbackDoer) implement it.
type Doer interface {
	CarryOut(ctx context.Context, r *Request) *Outcome
}

// Announcer shows that a request is being carried out (a long one says
// so in the thread) and its outcome (the decided message, the incident
// thread and timeline).
type Announcer interface {
	Started(ctx context.Context, r *Request)
	Executed(ctx context.Context, r *Request)
}

// ExecLease is how long a claim on carrying out an approved request lasts
// unless renewed; a replica that dies loses it this soon.
const ExecLease = 15 * time.Second

// longWork bounds one carrying out (a bulk lockout of many users).
const longWork = 30 * time.Minute

// Executor carries out approved requests exactly once across replicas:
// the click that approved, or any replica's sweep working through the
// outbox after a crash, takes the claim, keeps it renewed while working,
// records the outcome (which takes it off the outbox) and announces it.
type Executor struct {
	store     *Store
	incidents Incidents
	doers     map[string]Doer
	ann       Announcer
	owner     string
	log       logrus.FieldLogger
	guard     *guard.Guard
	detach    func(context.Context) context.Context
}

// Incidents re-reads a request's incident right before acting.
type Incidents interface {
	Current(ctx context.Context, id string) (*incident.Incident, error)
}

// ExecutorOption adjusts an Executor.
type ExecutorOption func(*Executor)

// WithDetached decorates the context a carrying out runs under once it is
// detached from the click (cmd lifts the Slack pace bound of an
// interactive request there: the announcements are not a reply, so they
// may wait on Slack's pace as long as the work lasts).
func WithDetached(f func(context.Context) context.Context) ExecutorOption {
	return func(e *Executor) { e.detach = f }
}

// NewExecutor takes a Doer per action, and the guard the executions
// started by Drain and the claim renewals run under (nil: a guard that
// only logs a panic).
func NewExecutor(store *Store, incidents Incidents, doers map[string]Doer, ann Announcer, g *guard.Guard, log logrus.FieldLogger, opts ...ExecutorOption) *Executor {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	if g == nil {
		g = guard.New(log, nil, nil)
	}
	e := &Executor{store: store, incidents: incidents, doers: doers, ann: ann, owner: hex.EncodeToString(b), log: log, guard: g,
		detach: func(ctx context.Context) context.Context { return ctx }}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Decide approves or denies; an approval takes the execution lease for
// this replica in the same write, so the clicking replica carries it out
// (CarryOutClaimed) and no sweep elsewhere races it.
func (e *Executor) Decide(ctx context.Context, id string, by incident.Person, approve bool) (*Request, error) {
	return e.store.DecideAndClaim(ctx, id, by, approve, e.owner)
}

// CarryOut executes an approved request if this replica wins its claim.
// ok is false when another replica holds it (and will announce it), or
// when it was carried out or cancelled already.
func (e *Executor) CarryOut(ctx context.Context, r *Request) (outcome *Outcome, ok bool) {
	lease := e.store.ExecutionLease(r.ID, e.owner)
	if took, err := lease.Take(ctx, ExecLease); err != nil || !took {
		return nil, false
	}
	return e.run(ctx, r, lease)
}

// CarryOutClaimed executes a request whose lease Decide took for this
// replica (it is renewed, or taken again if it lapsed meanwhile).
func (e *Executor) CarryOutClaimed(ctx context.Context, r *Request) (outcome *Outcome, ok bool) {
	lease := e.store.ExecutionLease(r.ID, e.owner)
	if kept, err := lease.Keep(ctx, ExecLease); err != nil || !kept {
		return nil, false
	}
	return e.run(ctx, r, lease)
}

// run carries out a request whose lease this replica holds, keeping it
// renewed while working; the lease lapses after the outcome is recorded.
func (e *Executor) run(ctx context.Context, r *Request, lease *redisx.Lease) (outcome *Outcome, ok bool) {
	// Detached from the click: the work and its announcements outlive the
	// reply (within longWork).
	ctx, cancel := context.WithTimeout(e.detach(context.WithoutCancel(ctx)), longWork)
	defer cancel()
	// Re-read under the lease: another replica may have finished it, or
	// `bypass off` cancelled it, since r was read.
	if cur, err := e.store.Get(ctx, r.ID); err != nil || cur.Status != Approved || cur.Outcome != nil {
		_ = lease.Release(ctx)
		return nil, false
	}
	holdCtx, stopHold := context.WithCancel(ctx)
	// A panic here lets the claim lapse after ExecLease; the work goes on.
	held := e.guard.Go(holdCtx, "approval claim renewal", r.Incident, func(ctx context.Context) { lease.Hold(ctx, ExecLease, nil) })
	outcome = e.carryOut(ctx, r)
	stopHold()
	<-held
	if err := e.store.SetOutcome(ctx, r.ID, outcome); err != nil {
		e.log.WithError(err).WithField("approval", r.ID).Warn("could not record the outcome; the outbox will show it again")
	}
	r.Outcome = outcome
	// The request's message may have been stored after r was read (a
	// very quick approver): announce on the stored one.
	if r.MessageTS == "" {
		if cur, err := e.store.Get(ctx, r.ID); err == nil {
			r.Channel, r.MessageTS = cur.Channel, cur.MessageTS
		}
	}
	if e.ann != nil {
		e.ann.Executed(ctx, r)
	}
	return outcome, true
}

// Drain starts the approved requests whose replica died before it could
// carry them out. It claims each and returns at once: the work (a lockout
// of many users takes minutes) runs in its own goroutine, so the sweep
// that calls Drain keeps expiring, reminding and catching up meanwhile.
func (e *Executor) Drain(ctx context.Context) {
	ids, err := e.store.Unexecuted(ctx)
	if err != nil {
		return
	}
	for _, id := range ids {
		r, err := e.store.Get(ctx, id)
		if err != nil || r.Status != Approved || r.Outcome != nil {
			continue
		}
		lease := e.store.ExecutionLease(r.ID, e.owner)
		if took, err := lease.Take(ctx, ExecLease); err != nil || !took {
			continue
		}
		e.guard.Go(context.WithoutCancel(ctx), "approval execution", r.Incident, func(ctx context.Context) {
			e.run(ctx, r, lease)
		})
	}
}

// carryOut runs the Doer once the incident is known to be open: an
// approval belongs to its incident's life, so a click on an old Approve
// button after the incident was resolved does nothing.
func (e *Executor) carryOut(ctx context.Context, r *Request) *Outcome {
	inc, err := e.incidents.Current(ctx, r.Incident)
	if err != nil {
		return NotDone("Not carried out: %s could not be read (%v); nothing was done.", r.Incident, err)
	}
	if !inc.Open() {
		return NotDone("Not carried out: %s is no longer open; nothing was done.", r.Incident)
	}
	d, found := e.doers[r.Action]
	if !found || d == nil {
		return Failure("Unknown action; nothing was done.")
	}
	if e.ann != nil {
		e.ann.Started(ctx, r)
	}
	if o := d.CarryOut(ctx, r); o != nil {
		return o
	}
	return Failure("The action said nothing of what it did.") // a Doer's bug; never stored as "not carried out yet"
}
