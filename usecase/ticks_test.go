package usecase_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// An auto-tick changes the incident once, through incident: the step is
// ticked with one timeline entry and the card's refresh is queued in the
// same write; a second tick of the same step changes nothing.
func TestAutoTickTicksOnceAndQueuesTheCard(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	stores := incident.NewStores(rdb, prefix, nil)
	store := stores.Incidents
	rb, err := incident.LoadRunbook("runbook.yml", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	inc, err := store.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "Sign-in failing", By: incident.Person{ID: "U1"}, Channel: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(ctx, inc.ID, incident.SetCard("C1", "1.000001")); err != nil {
		t.Fatal(err)
	}
	ticks := usecase.NewTicks(store, rb, nil, log)
	poller := incident.Person{Name: "status poller"}
	for range 2 {
		ticks.AutoTick(ctx, inc.ID, poller, incident.StepConfirmOutage, "the status poller")
	}
	got, err := store.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ticked []string
	for id, tk := range got.Checklist {
		if tk.By.Name == "status poller" {
			ticked = append(ticked, id)
		}
	}
	entries := 0
	for _, e := range got.Timeline {
		if strings.Contains(e.Text, "done by the status poller") {
			entries++
		}
	}
	if len(ticked) != 1 || entries != 1 {
		t.Fatalf("ticked %v with %d timeline entries, want one step and one entry:\n%+v", ticked, entries, got.Timeline)
	}
	due, err := stores.Outbox.DueRenders(ctx, time.Now().Add(time.Minute))
	if err != nil || len(due) != 1 || due[0] != inc.ID {
		t.Fatalf("renders due = %v, %v; want the card of %s queued", due, err, inc.ID)
	}
}

// What the bot did by itself goes in the audit log as one line, bounded.
func TestSystemRecordsOneBoundedLine(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	auditLog := audit.New(rdb, prefix, log, time.Now)
	ticks := usecase.NewTicks(incident.NewStore(rdb, prefix, nil), nil, auditLog, log)
	ticks.System(ctx, "escalation", "page", "Paged level 1\n\n(primary):   "+strings.Repeat("x", 400), "INC-7")
	got, err := auditLog.Recent(ctx, "INC-7", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("entries %+v, %v", got, err)
	}
	e := got[0]
	if e.Actor != "escalation" || e.Action != "page" || e.Outcome != "ok" || !strings.HasPrefix(e.Detail, "Paged level 1 (primary): xxx") ||
		len([]rune(e.Detail)) != 300 || !strings.HasSuffix(e.Detail, "…") {
		t.Fatalf("entry %+v", e)
	}
}

// A timeline entry the bot writes with its thread line is one write: the
// entry is on the timeline and the line waits in the channel's queue.
func TestRecordLineWritesTheEntryAndQueuesItsLine(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	stores := incident.NewStores(rdb, prefix, nil)
	store := stores.Incidents
	log := logrus.New()
	log.SetOutput(io.Discard)
	inc, err := store.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "Sign-in failing", By: incident.Person{ID: "U1"}, Channel: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	ticks := usecase.NewTicks(store, nil, nil, log)
	esc := incident.Person{Name: "escalation"}
	if err := ticks.RecordLine(ctx, inc.ID, esc, "Paged level 1 (primary): alice", ":rotating_light: Paged level 1 (primary): <@U2>"); err != nil {
		t.Fatal(err)
	}
	if err := ticks.Record(ctx, inc.ID, esc, "alice did not answer the call (busy)"); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range got.Timeline {
		if e.Actor.Name == "escalation" {
			texts = append(texts, e.Text)
		}
	}
	if len(texts) != 2 || texts[0] != "Paged level 1 (primary): alice" || texts[1] != "alice did not answer the call (busy)" {
		t.Fatalf("timeline %q", texts)
	}
	lines, err := stores.Outbox.PendingLines(ctx, "C1", 10)
	if err != nil || len(lines) != 1 || lines[0].Text != ":rotating_light: Paged level 1 (primary): <@U2>" || lines[0].Incident != inc.ID {
		t.Fatalf("queued lines %+v, %v", lines, err)
	}
	if err := ticks.Record(ctx, "INC-99", esc, "nowhere"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("recording on a missing incident: %v", err)
	}
}
