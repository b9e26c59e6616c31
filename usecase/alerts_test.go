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

// An alert's summary and description are often templated from labels
// (an instance's address, a user's e-mail): the card and the thread,
// which guests read, show them masked, as a typed title is; the audit,
// which only responders read, keeps what was sent.
func TestAlertIntakeMasksEmailsAndIPsInWhatTheChannelReads(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	now := func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) }
	store := incident.NewStores(rdb, prefix, now).Incidents
	op := &opener{store: store}
	said, audited := &lines{}, &entries{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	in := usecase.AlertIntake{Opener: op, Store: store, Thread: said, Claims: alerts.NewStore(rdb, prefix), Audit: audited, Log: log}
	body := `{"version":"4","receiver":"r","alerts":[
 {"status":"firing","labels":{"alertname":"BruteForce","severity":"critical","category":"security"},"annotations":{"summary":"Sign-in failures for admin@example.com from 203.0.113.7","description":"instance 10.0.3.4:9100, 2001:db8::1"},"startsAt":"2026-11-26T02:58:30Z","fingerprint":"00000000000000b1"},
 {"status":"firing","labels":{"alertname":"Stuffing from 198.51.100.9","severity":"warning","category":"security"},"annotations":{},"startsAt":"2026-11-26T02:58:30Z","fingerprint":"00000000000000b2"},
 {"status":"firing","labels":{"alertname":"Lockouts","severity":"warning","category":"security"},"annotations":{"summary":"eve@example.com locked out"},"startsAt":"2026-11-26T02:58:30Z","fingerprint":"00000000000000b3"}]}`
	b := batch(t, body)
	if _, err := in.Take(ctx, b); err != nil {
		t.Fatal(err)
	}
	resolved := strings.Replace(strings.ReplaceAll(body, `"firing"`, `"resolved"`), `"2026-11-26T02:58:30Z","fingerprint":"00000000000000b1"`, `"2026-11-26T02:58:30Z","endsAt":"2026-11-26T03:10:00Z","fingerprint":"00000000000000b1"`, 1)
	if _, err := in.Take(ctx, batch(t, resolved)); err != nil {
		t.Fatal(err)
	}
	if len(op.opened) != 1 || len(said.said) != 2 {
		t.Fatalf("opened %d, thread %q", len(op.opened), said.said)
	}
	shown := []string{op.opened[0].Title, op.opened[0].Impact}
	shown = append(shown, said.said...)
	for _, s := range shown {
		for _, personal := range []string{"admin@example.com", "eve@example.com", "203.0.113.7", "10.0.3.4", "2001:db8::1", "198.51.100.9"} {
			if strings.Contains(s, personal) {
				t.Errorf("%q reaches the channel in %q", personal, s)
			}
		}
	}
	if op.opened[0].Title != "Sign-in failures for [e-mail] from [IP]" || !strings.Contains(said.said[0], "[e-mail] locked out") {
		t.Fatalf("masked text: %q, thread %q", op.opened[0].Title, said.said)
	}
	if !strings.Contains(audited.got[0].Detail, "admin@example.com") {
		t.Fatalf("the audit should keep what was sent: %q", audited.got[0].Detail)
	}
}

// Alertmanager's resolved notification often comes after the commander
// resolved the incident: the thread line then does not say it "stays
// open".
func TestResolvedAlertAfterTheIncidentWasResolvedSaysSo(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	now := func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) }
	store := incident.NewStores(rdb, prefix, now).Incidents
	said := &lines{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	in := usecase.AlertIntake{Opener: &opener{store: store}, Store: store, Thread: said, Claims: alerts.NewStore(rdb, prefix), Audit: &entries{}, Log: log}
	fire := firing("00000000000000c1")
	if _, err := in.Take(ctx, batch(t, fire)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(ctx, "INC-1", incident.Resolve(incident.Person{ID: "U1", Name: "alice"}, "fixed")); err != nil {
		t.Fatal(err)
	}
	got, err := in.Take(ctx, batch(t, strings.ReplaceAll(fire, `"firing"`, `"resolved"`)))
	if err != nil || got.Resolved != 1 || len(said.said) != 1 {
		t.Fatalf("%+v %v, thread %q", got, err, said.said)
	}
	if line := said.said[0]; strings.Contains(line, "stays open") || !strings.Contains(line, "INC-1 was resolved here already") {
		t.Fatalf("thread line: %q", line)
	}
}

// getFails is the incident store with Get failing while down is set.
type getFails struct {
	*incident.Store
	down bool
}

func (g *getFails) Get(ctx context.Context, id string) (*incident.Incident, error) {
	if g.down {
		return nil, apperr.New(apperr.UnavailableStore, "redis does not answer")
	}
	return g.Store.Get(ctx, id)
}

// A resolved alert whose incident cannot be read is not said now: the
// request fails (503), the "said once" claim is given back, and
// Alertmanager's retry says it, once.
func TestResolvedAlertNotSaidIsGivenBackForTheRetry(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	now := func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) }
	store := incident.NewStores(rdb, prefix, now).Incidents
	said := &lines{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	gets := &getFails{Store: store}
	in := usecase.AlertIntake{Opener: &opener{store: store}, Store: gets, Thread: said, Claims: alerts.NewStore(rdb, prefix), Audit: &entries{}, Log: log}
	fire := firing("00000000000000d1")
	if _, err := in.Take(ctx, batch(t, fire)); err != nil {
		t.Fatal(err)
	}
	resolved := batch(t, strings.ReplaceAll(fire, `"firing"`, `"resolved"`))
	gets.down = true
	got, err := in.Take(ctx, resolved)
	if apperr.CodeOf(err) != apperr.UnavailableStore || got.Resolved != 0 || got.Duplicates != 0 || len(said.said) != 0 {
		t.Fatalf("incident unreadable: %+v %v, thread %q", got, err, said.said)
	}
	gets.down = false
	got, err = in.Take(ctx, resolved)
	if err != nil || got.Resolved != 1 || len(said.said) != 1 || !strings.Contains(said.said[0], "INC-1") {
		t.Fatalf("retry: %+v %v, thread %q", got, err, said.said)
	}
	got, err = in.Take(ctx, resolved)
	if err != nil || got.Resolved != 0 || got.Duplicates != 1 || len(said.said) != 1 {
		t.Fatalf("second retry: %+v %v, thread %q", got, err, said.said)
	}
}
