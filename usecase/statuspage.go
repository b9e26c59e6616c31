package usecase

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// StatusPage posts customer updates to a hosted status page (statuspage).
type StatusPage interface {
	// Create marks the incident with ref (our INC-n) and finds it by that
	// instead of creating it twice.
	Create(ctx context.Context, ref, name, status, body, impact string) (string, error)
	Update(ctx context.Context, id, status, body string) error
}

// PageStore is what the status page use case needs of the incident store.
type PageStore interface {
	Current(ctx context.Context, id string) (*incident.Incident, error)
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
	Lease(name, owner string) *redisx.Lease
}

// StatusPages keeps each incident's public incident on the status page in
// step with it: one create, update or resolve at a time per incident.
type StatusPages struct {
	store PageStore
	page  StatusPage
	log   logrus.FieldLogger
}

// NewStatusPages wires the use case; nil when no status page is configured.
func NewStatusPages(store PageStore, page StatusPage, log logrus.FieldLogger) *StatusPages {
	if page == nil {
		return nil
	}
	return &StatusPages{store: store, page: page, log: log}
}

// turn waits for the incident's turn at the status page: one
// create, update or resolve at a time, across replicas (a Redis lease, each
// call its own owner), so a resolve that comes while the public incident
// is being created finds it and resolves it.
func (s *StatusPages) turn(ctx context.Context, id string) (release func(), err error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	lease := s.store.Lease("statuspage:"+id, hex.EncodeToString(b))
	// Held for as long as the caller may run; a crash leaves it to lapse.
	ttl := 2 * time.Minute
	if dl, ok := ctx.Deadline(); ok {
		ttl = time.Until(dl) + 5*time.Second
	}
	for attempt := 0; ; attempt++ {
		ok, err := lease.Take(ctx, ttl)
		if err != nil {
			return nil, err
		}
		if ok {
			return func() { _ = lease.Release(context.WithoutCancel(ctx)) }, nil
		}
		if err := backoff.Sleep(ctx, backoff.Delay(attempt, 20*time.Millisecond, 500*time.Millisecond)); err != nil {
			return nil, apperr.New(apperr.UnavailableRemote, "another change to "+id+" on the status page was still under way")
		}
	}
}

// Post sends text to the incident's public incident, creating
// it the first time, under the incident's turn: it reads the incident
// afresh so a resolve that went first is not undone, and records the
// public incident's ID before another change may start.
func (s *StatusPages) Post(ctx context.Context, id, text string) (string, error) {
	release, err := s.turn(ctx, id)
	if err != nil {
		return "", err
	}
	defer release()
	inc, err := s.store.Current(ctx, id)
	if err != nil {
		return "", err
	}
	if inc.StatuspageID != "" {
		return inc.StatuspageID, s.page.Update(ctx, inc.StatuspageID, statuspageStatus(inc.Status), text)
	}
	spID, err := s.page.Create(ctx, id, inc.Title, statuspageStatus(inc.Status), text, statuspageImpact(inc.Severity))
	if err != nil {
		return "", err
	}
	if _, err := s.store.Update(ctx, id, incident.LinkStatuspage(spID)); err != nil {
		// The next create finds it on the page by its marker.
		s.log.WithError(err).WithField("incident", id).Warn("could not record the status page incident")
	}
	return spID, nil
}

// ErrNoPublicIncident: the incident has no public incident to resolve.
var ErrNoPublicIncident = errors.New("no status page incident")

// ResolvePublic resolves our Statuspage incident with ours, after any
// create or update of it still under way.
func (s *StatusPages) ResolvePublic(ctx context.Context, id string) error {
	release, err := s.turn(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	cur, err := s.store.Current(ctx, id)
	if err != nil {
		return err
	}
	if cur.StatuspageID == "" {
		return ErrNoPublicIncident
	}
	return s.page.Update(ctx, cur.StatuspageID, "resolved", "This incident has been resolved. Thank you for your patience.")
}

func statuspageStatus(s incident.Status) string {
	switch s {
	case incident.Mitigated:
		return "monitoring"
	case incident.Resolved:
		return "resolved"
	}
	return "investigating"
}

func statuspageImpact(s incident.Severity) string {
	switch s {
	case incident.P1:
		return "critical"
	case incident.P2:
		return "major"
	}
	return "minor"
}
