package escalation_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
)

// callNotes is a pager that also records the calls said unanswered.
type callNotes struct {
	*recorder
	mu    sync.Mutex
	notes []string
}

func (c *callNotes) CallUnanswered(ctx context.Context, inc *incident.Incident, user string, cause escalation.CallCause) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notes = append(c.notes, inc.ID+" "+user+" "+string(cause))
	return nil
}

func (c *callNotes) said() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.notes...)
}

// A call's status is followed from Redis, not by the engine that placed
// it: after a restart, a new engine reads it; of three engines ticking at
// once one says it was not answered, once; an answered call and a call
// of a resolved incident say nothing.
func TestUnansweredCallIsFollowedAcrossRestartsAndSaidOnce(t *testing.T) {
	f := newFixture(t)
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	notes := &callNotes{recorder: f.pager}
	engine := func() *escalation.Engine {
		log := logrus.New()
		log.SetOutput(io.Discard)
		return escalation.NewEngine(f.rdb, f.prefix, f.store, notes, f.clock.Now, log,
			escalation.WithPhones(paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, nil), notes))
	}
	tw.ScriptCall("+15550000001", "queued", "ringing", "busy")
	tw.ScriptCall("+15550000002", "in-progress", "completed")
	tw.ScriptCall("+15550000003", "no-answer")
	l := escalation.Ladder{Rungs: []escalation.Rung{{Level: 1, Name: "on-call", Targets: []string{"U1", "U2"}, Via: []string{escalation.ViaCall},
		Phones: map[string]string{"U1": "+15550000001", "U2": "+15550000002"}}}}
	open := func(e *escalation.Engine, l escalation.Ladder) *incident.Incident {
		inc, err := f.store.Open(context.Background(), incident.OpenParams{Category: incident.Outage, Title: "x", By: incident.Person{ID: "U9"}, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(context.Background(), inc, l); err != nil {
			t.Fatal(err)
		}
		return inc
	}
	first := engine()
	inc := open(first, l)
	tick(t, first)
	if s := tw.Sent(); len(s) != 2 || s[0].Kind != "call" {
		t.Fatalf("calls %+v", s)
	}
	// The engine that placed the calls is gone; others tick from now on.
	engines := []*escalation.Engine{engine(), engine(), engine()}
	tickAll := func() {
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Go(func() { tick(t, e) })
		}
		wg.Wait()
	}
	for range 5 {
		f.clock.Add(30 * time.Second)
		tickAll()
	}
	if got := notes.said(); len(got) != 1 || got[0] != inc.ID+" U1 line busy" {
		t.Fatalf("said %v", got)
	}
	reads := tw.CallReads()
	f.clock.Add(10 * time.Minute)
	tickAll()
	if tw.CallReads() != reads {
		t.Fatal("calls still read after they ended")
	}
	// A call whose incident was resolved meanwhile says nothing.
	l3 := escalation.Ladder{Rungs: []escalation.Rung{{Level: 1, Name: "on-call", Targets: []string{"U3"}, Via: []string{escalation.ViaCall},
		Phones: map[string]string{"U3": "+15550000003"}}}}
	inc2 := open(engines[0], l3)
	tick(t, engines[0])
	if _, err := f.store.Update(context.Background(), inc2.ID, incident.Resolve(incident.Person{ID: "U9"}, "fixed")); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Minute)
	tickAll()
	if got := notes.said(); len(got) != 1 || len(tw.Sent()) != 3 || tw.CallReads() != reads+1 {
		t.Fatalf("said %v after %d calls, %d reads", got, len(tw.Sent()), tw.CallReads()-reads)
	}
}

// Every way Twilio reports a call that reached nobody is said in the
// thread, with its cause: no answer, busy, failed, and a pickup that
// answering-machine detection gave to voicemail or a fax; a call a person
// answered (or one cancelled) says nothing.
func TestCallEndingUnansweredIsSaidForEachTwilioStatus(t *testing.T) {
	for _, c := range []struct {
		status string
		cause  string // "": nothing said
	}{{"no-answer", "no answer"}, {"busy", "line busy"}, {"failed", "the call failed"}, {"completed:machine_end_beep", "voicemail"},
		{"completed:machine_start", "voicemail"}, {"completed:fax", "a fax machine answered"}, {"completed:human", ""}, {"completed:unknown", ""},
		{"completed", ""}, {"canceled", ""}} {
		t.Run(c.status, func(t *testing.T) {
			f := newFixture(t)
			tw := fakepaging.NewTwilio()
			defer tw.Close()
			notes := &callNotes{recorder: f.pager}
			log := logrus.New()
			log.SetOutput(io.Discard)
			e := escalation.NewEngine(f.rdb, f.prefix, f.store, notes, f.clock.Now, log,
				escalation.WithPhones(paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, nil), notes))
			tw.ScriptCall("+15550000001", c.status)
			inc, err := f.store.Open(context.Background(), incident.OpenParams{Category: incident.Outage, Title: "x", By: incident.Person{ID: "U9"}, Force: true})
			if err != nil {
				t.Fatal(err)
			}
			l := escalation.Ladder{Rungs: []escalation.Rung{{Level: 1, Name: "on-call", Targets: []string{"U1"}, Via: []string{escalation.ViaCall},
				Phones: map[string]string{"U1": "+15550000001"}}}}
			if err := e.Start(context.Background(), inc, l); err != nil {
				t.Fatal(err)
			}
			tick(t, e)
			if s := tw.Sent(); len(s) != 1 || s[0].Kind != "call" {
				t.Fatalf("calls %+v", s)
			}
			f.clock.Add(2 * time.Minute)
			tick(t, e)
			if tw.CallReads() != 1 {
				t.Fatalf("status read %d times, want 1", tw.CallReads())
			}
			want := []string(nil)
			if c.cause != "" {
				want = []string{inc.ID + " U1 " + c.cause}
			}
			if got := notes.said(); len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
				t.Fatalf("said %v, want %v", got, want)
			}
		})
	}
}
