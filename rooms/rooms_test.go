package rooms

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// recChat records archives; the other calls succeed.
type recChat struct {
	mu       sync.Mutex
	archived []string
}

func (s *recChat) Create(ctx context.Context, name string, private bool) (string, string, error) {
	return "CROOM", name, nil
}
func (s *recChat) Invite(ctx context.Context, channel string, users []string) ([]InviteFailure, error) {
	return nil, nil
}
func (s *recChat) Archive(ctx context.Context, channel string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.archived = append(s.archived, channel)
	return nil
}
func (s *recChat) Announce(ctx context.Context, channel string, inc *incident.Incident) (string, error) {
	return "1.1", nil
}
func (s *recChat) Reannounce(ctx context.Context, channel, ts string, inc *incident.Incident) error {
	return nil
}
func (s *recChat) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	return nil, nil
}
func (s *recChat) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.archived) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func status(s incident.Status) incident.Mutation {
	return func(inc *incident.Incident, now time.Time) ([]incident.Entry, error) {
		inc.Status = s
		if s == incident.Resolved {
			inc.ResolvedAt = now
		}
		return nil, nil
	}
}

func setup(t *testing.T, after time.Duration) (*Rooms, *incident.Store, *recChat, *clock, *incident.Incident) {
	rdb, _ := redistest.Client(t)
	prefix := redistest.Prefix()
	c := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	store := incident.NewStore(rdb, prefix, c.Now)
	sl := &recChat{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	r := New(rdb, prefix, Config{Main: "CMAIN", ArchiveAfter: after}, sl, store, c.Now, log)
	inc, err := store.Open(t.Context(), incident.OpenParams{Category: incident.Outage, Title: "Sign-in failing", By: incident.Person{ID: "U1"}, Channel: "CMAIN"})
	if err != nil {
		t.Fatal(err)
	}
	inc, note := r.Opened(t.Context(), inc)
	if note != "" || inc.Room != "CROOM" || inc.Channel != "CROOM" {
		t.Fatalf("opened: %q %+v", note, inc)
	}
	if id, err := r.IncidentOf(t.Context(), "CROOM"); err != nil || id != inc.ID {
		t.Fatalf("IncidentOf = %q %v", id, err)
	}
	return r, store, sl, c, inc
}

func move(t *testing.T, r *Rooms, store *incident.Store, id string, s incident.Status) {
	t.Helper()
	inc, err := store.Update(t.Context(), id, status(s))
	if err != nil {
		t.Fatal(err)
	}
	r.CardChanged(t.Context(), inc)
}

// Reopening before the deadline cancels the archive; resolving again
// starts a new delay; two replicas sweeping archive once.
func TestArchiveAfterResolveReopenCancels(t *testing.T) {
	r, store, sl, c, inc := setup(t, time.Hour)
	sweep := func() {
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if err := r.ArchiveDue(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	move(t, r, store, inc.ID, incident.Resolved)
	c.Add(30 * time.Minute)
	move(t, r, store, inc.ID, incident.Investigating) // reopened
	c.Add(2 * time.Hour)
	sweep()
	if n := sl.count(); n != 0 {
		t.Fatalf("archived a reopened incident's channel (%d)", n)
	}
	move(t, r, store, inc.ID, incident.Resolved)
	c.Add(59 * time.Minute)
	sweep()
	if n := sl.count(); n != 0 {
		t.Fatal("archived before the delay")
	}
	c.Add(time.Minute)
	sweep()
	sweep()
	if n := sl.count(); n != 1 {
		t.Fatalf("archived %d times, want 1", n)
	}
	// A later render of the resolved incident does not archive it again.
	r.CardChanged(t.Context(), mustGet(t, store, inc.ID))
	c.Add(2 * time.Hour)
	sweep()
	if n := sl.count(); n != 1 {
		t.Fatalf("archived %d times after a re-render, want 1", n)
	}
}

// INCIDENT_CHANNEL_ARCHIVE_AFTER=off keeps the channel.
func TestArchiveOffKeepsTheChannel(t *testing.T) {
	r, store, sl, c, inc := setup(t, 0)
	move(t, r, store, inc.ID, incident.Resolved)
	c.Add(365 * 24 * time.Hour)
	if err := r.ArchiveDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := sl.count(); n != 0 {
		t.Fatalf("archived with off (%d)", n)
	}
}

func mustGet(t *testing.T, store *incident.Store, id string) *incident.Incident {
	t.Helper()
	inc, err := store.Current(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}
