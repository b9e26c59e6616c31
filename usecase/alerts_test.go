package usecase_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/alerts"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// opener opens incidents in a real store, or fails while down is set.
type opener struct {
	mu     sync.Mutex
	store  *incident.Store
	down   bool
	opened []statuswatch.Alert
}

func (o *opener) OpenAlert(ctx context.Context, a statuswatch.Alert) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down {
		return "", apperr.New(apperr.UnavailableStore, "redis does not answer")
	}
	o.opened = append(o.opened, a)
	inc, err := o.store.Open(ctx, incident.OpenParams{Category: a.Category, Severity: a.Severity, Title: a.Title, By: incident.Person{Name: a.By}, Channel: "CINC"})
	var dup *incident.DuplicateError
	if errors.As(err, &dup) {
		return dup.Existing.ID, nil
	}
	if err != nil {
		return "", err
	}
	return inc.ID, nil
}

type lines struct {
	mu   sync.Mutex
	said []string
}

func (l *lines) Thread(_ context.Context, inc *incident.Incident, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.said = append(l.said, inc.ID+": "+text)
}

type entries struct {
	mu  sync.Mutex
	got []audit.Entry
}

func (e *entries) Record(_ context.Context, x audit.Entry) {
	e.mu.Lock()
	e.got = append(e.got, x)
	e.mu.Unlock()
}

func batch(t *testing.T, body string) alerts.Batch {
	t.Helper()
	b, err := alerts.Parse([]byte(body), incident.Outage)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firing(fps ...string) string {
	var as []string
	for _, fp := range fps {
		as = append(as, fmt.Sprintf(`{"status":"firing","labels":{"alertname":"A%s","severity":"warning"},"annotations":{"summary":"errors %s"},"startsAt":"2026-11-26T02:58:30Z","fingerprint":"%s"}`, fp, fp, fp))
	}
	return `{"version":"4","receiver":"r","alerts":[` + strings.Join(as, ",") + `]}`
}

// When the incident cannot be opened the request fails (the handler
// answers 503) and every claim of it is given back, so Alertmanager's
// retry opens it; the retry after that is a duplicate.
func TestAlertIntakeGivesBackWhatItCouldNotOpen(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	now := func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) }
	store := incident.NewStores(rdb, prefix, now).Incidents
	op := &opener{store: store, down: true}
	said, audited := &lines{}, &entries{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	in := usecase.AlertIntake{Opener: op, Store: store, Thread: said, Claims: alerts.NewStore(rdb, prefix), Audit: audited, Log: log}
	b := batch(t, firing("00000000000000a1", "00000000000000a2", "00000000000000a3"))

	if _, err := in.Take(ctx, b); apperr.CodeOf(err) != apperr.UnavailableStore {
		t.Fatalf("Redis down: %v", err)
	}
	if len(audited.got) != 0 {
		t.Fatalf("audited what was not taken: %+v", audited.got)
	}
	op.down = false
	got, err := in.Take(ctx, b)
	if err != nil || got.Firing != 3 || len(got.Incidents) != 1 || got.Incidents[0] != "INC-1" {
		t.Fatalf("retry: %+v %v", got, err)
	}
	if len(said.said) != 1 || !strings.Contains(said.said[0], "2 more firing alerts from Alertmanager joined INC-1") {
		t.Fatalf("thread: %q", said.said)
	}
	got, err = in.Take(ctx, b)
	if err != nil || got.Firing != 0 || got.Duplicates != 3 || len(op.opened) != 1 {
		t.Fatalf("second retry: %+v %v, opened %d", got, err, len(op.opened))
	}
	if len(audited.got) != 6 {
		t.Fatalf("audit: %+v", audited.got)
	}
}
