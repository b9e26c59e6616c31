package incident_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

func newStore(t *testing.T) *incident.Store {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	return incident.NewStore(rdb, prefix, nil)
}

func runbook(t *testing.T) *incident.Runbook {
	t.Helper()
	rb, err := incident.LoadRunbook("runbook.yml", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

func TestOpenAssignsSequentialIDsAndRefusesDuplicates(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	alice := incident.Person{ID: "U1", Name: "alice"}
	a, err := s.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "Sign-in failing", By: alice})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "INC-1" || a.Severity != incident.P1 || a.Status != incident.Investigating {
		t.Fatalf("got %+v", a)
	}
	_, err = s.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "again", By: alice})
	var dup *incident.DuplicateError
	if !errors.As(err, &dup) || dup.Existing.ID != "INC-1" {
		t.Fatalf("want duplicate of INC-1, got %v", err)
	}
	b, err := s.Open(ctx, incident.OpenParams{Category: incident.Webhook, Title: "Sync", By: alice})
	if err != nil || b.ID != "INC-2" || b.Severity != incident.P2 {
		t.Fatalf("got %+v %v", b, err)
	}
	c, err := s.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "second", By: alice, Force: true})
	if err != nil || c.ID != "INC-3" {
		t.Fatalf("forced open: %+v %v", c, err)
	}
	open, err := s.ListOpen(ctx)
	if err != nil || len(open) != 3 {
		t.Fatalf("open = %d, %v", len(open), err)
	}
}

func TestResolveRemovesFromOpenButKeepsIncident(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	u := incident.Person{ID: "U1"}
	inc, err := s.Open(ctx, incident.OpenParams{Category: incident.Security, Title: "x", By: u})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, inc.ID, incident.Resolve(u, "rotated keys")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, inc.ID, incident.Resolve(u, "again")); !errors.Is(err, incident.ErrAlreadyResolved) {
		t.Fatalf("second resolve: %v", err)
	}
	open, _ := s.ListOpen(ctx)
	if len(open) != 0 {
		t.Fatalf("still open: %v", open)
	}
	got, err := s.Get(ctx, inc.ID)
	if err != nil || got.Status != incident.Resolved || got.Resolution != "rotated keys" || len(got.Timeline) != 2 {
		t.Fatalf("got %+v %v", got, err)
	}
	// A new security incident may be opened once the old one is resolved.
	if _, err := s.Open(ctx, incident.OpenParams{Category: incident.Security, Title: "y", By: u}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "INC-99"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

// Twenty people tick twenty steps at the same moment on their own
// connections: every tick and every timeline line must survive.
func TestConcurrentTicksAreAllRecorded(t *testing.T) {
	ctx := context.Background()
	rb := runbook(t)
	rdb, prefix := redistest.Client(t)
	s := incident.NewStore(rdb, prefix, nil)
	inc, err := s.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "x", By: incident.Person{ID: "U0"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := rb.Spec(incident.Outage).Checklist.Tickable() // 11 steps (branch headers are not steps)
	type op struct {
		user string
		step string
		note bool
	}
	var ops []op
	for i := 0; i < 20; i++ {
		if i < len(steps) {
			ops = append(ops, op{user: fmt.Sprintf("U%d", i+1), step: steps[i].ID})
		} else {
			ops = append(ops, op{user: fmt.Sprintf("U%d", i+1), note: true})
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(ops))
	for _, o := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker has its own store, as separate replicas would.
			s := incident.NewStore(rdb, prefix, nil)
			<-start
			p := incident.Person{ID: o.user}
			var err error
			if o.note {
				_, err = s.Update(ctx, inc.ID, incident.Note(p, "note from "+o.user))
			} else {
				_, err = s.Update(ctx, inc.ID, incident.SetTick(rb, p, o.step, true))
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Checklist) != len(steps) {
		t.Fatalf("ticks recorded = %d, want %d", len(got.Checklist), len(steps))
	}
	for i, st := range steps {
		tick, ok := got.Checklist[st.ID]
		if !ok || tick.By.ID != fmt.Sprintf("U%d", i+1) {
			t.Errorf("step %s: %+v", st.ID, tick)
		}
	}
	if len(got.Timeline) != 1+len(ops) {
		t.Fatalf("timeline has %d entries, want %d", len(got.Timeline), 1+len(ops))
	}
}

func TestTickUntickAndUnknownStep(t *testing.T) {
	ctx := context.Background()
	rb := runbook(t)
	s := newStore(t)
	u := incident.Person{ID: "U1"}
	inc, _ := s.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "x", By: u})
	if _, err := s.Update(ctx, inc.ID, incident.SetTick(rb, u, "4A", true)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, inc.ID, incident.SetTick(rb, u, "4a", true)); !errors.Is(err, incident.ErrNoChange) {
		t.Fatalf("double tick: %v", err)
	}
	if _, err := s.Update(ctx, inc.ID, incident.SetTick(rb, u, "9z", true)); !errors.Is(err, incident.ErrUnknownStep) {
		t.Fatalf("unknown step: %v", err)
	}
	got, err := s.Update(ctx, inc.ID, incident.SetTick(rb, u, "4a", false))
	if err != nil || len(got.Checklist) != 0 {
		t.Fatalf("untick: %+v %v", got.Checklist, err)
	}
}

func TestOnceIsSharedAcrossStores(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	a := incident.NewStores(rdb, prefix, nil).Markers
	b := incident.NewStores(rdb, prefix, nil).Markers
	first, err := a.Once(ctx, "env-1", time.Minute)
	if err != nil || !first {
		t.Fatalf("first: %v %v", first, err)
	}
	again, err := b.Once(ctx, "env-1", time.Minute)
	if err != nil || again {
		t.Fatalf("second: %v %v", again, err)
	}
}

// A request that read an incident changes it without reading it again;
// when someone changed it in between, the compare-and-set notices and the
// change is applied on top of theirs. The line and the refresh are queued
// by the same write.
func TestUpdateThenOnAStaleReadKeepsBothChangesAndQueuesItsLine(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	stores := incident.NewStores(rdb, prefix, nil)
	s, out := stores.Incidents, stores.Outbox
	alice := incident.Person{ID: "U1", Name: "alice"}
	inc, err := s.Open(context.Background(), incident.OpenParams{Category: incident.Outage, By: alice, Channel: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(context.Background(), inc.ID, incident.SetCard("C1", "1.1")); err != nil {
		t.Fatal(err)
	}
	ctx := incident.WithReads(context.Background())
	if _, err := s.Current(ctx, inc.ID); err != nil { // the request's read
		t.Fatal(err)
	}
	if _, err := s.Update(context.Background(), inc.ID, incident.Record(alice, "someone else's note")); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateThen(ctx, inc.ID, incident.Record(alice, "my note"), incident.After{Line: "my line", Render: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 4 || got.CardTS != "1.1" {
		t.Fatalf("version %d card %q: the change was not applied on the latest version", got.Version, got.CardTS)
	}
	full, err := s.Get(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range full.Timeline {
		texts = append(texts, e.Text)
	}
	if len(texts) != 3 || texts[1] != "someone else's note" || texts[2] != "my note" {
		t.Fatalf("timeline %q", texts)
	}
	lines, err := out.PendingLines(context.Background(), "C1", 10)
	if err != nil || len(lines) != 1 || lines[0].Text != "my line" || lines[0].Incident != inc.ID {
		t.Fatalf("queued lines %+v, %v", lines, err)
	}
	due, err := out.DueRenders(context.Background(), time.Now().Add(time.Second))
	if err != nil || len(due) != 1 || due[0] != inc.ID {
		t.Fatalf("renders due %v, %v", due, err)
	}
	if err := out.DoneLines(context.Background(), "C1", lines); err != nil {
		t.Fatal(err)
	}
	if chans, _ := out.LineChannels(context.Background(), time.Now().Add(time.Second)); len(chans) != 0 {
		t.Fatalf("channel still due after its lines were posted: %v", chans)
	}
}

// N requests that all read the incident first, then change it at once
// with UpdateThen: each compare-and-set but one loses its race at first,
// and the shared retry policy lands every change, its timeline entry and
// its thread line.
func TestConcurrentUpdateThenAllLand(t *testing.T) {
	const n = 16
	rdb, prefix := redistest.Client(t)
	stores := incident.NewStores(rdb, prefix, nil)
	alice := incident.Person{ID: "U1", Name: "alice"}
	inc, err := stores.Incidents.Open(context.Background(), incident.OpenParams{Category: incident.Outage, By: alice, Channel: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := incident.NewStore(rdb, prefix, nil) // a replica of its own
			ctx := incident.WithReads(context.Background())
			if _, err := s.Current(ctx, inc.ID); err != nil { // every request reads the same version
				errs <- err
				return
			}
			<-start
			_, err := s.UpdateThen(ctx, inc.ID, incident.Record(alice, fmt.Sprintf("note %d", i)), incident.After{Line: fmt.Sprintf("line %d", i)})
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := stores.Incidents.Get(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1+n || len(got.Timeline) != 1+n {
		t.Fatalf("version %d, %d timeline entries: want %d and %d", got.Version, len(got.Timeline), 1+n, 1+n)
	}
	lines, err := stores.Outbox.PendingLines(context.Background(), "C1", 2*n)
	if err != nil || len(lines) != n {
		t.Fatalf("%d lines queued (%v), want %d", len(lines), err, n)
	}
}
