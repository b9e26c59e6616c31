package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
)

// statusPageTurn waits for the incident's turn at the status page: one
// create, update or resolve at a time, across replicas (a Redis lease, each
// call its own owner), so a resolve that comes while the public incident
// is being created finds it and resolves it.
func (h *Handlers) statusPageTurn(ctx context.Context, id string) (release func(), err error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	lease := h.store.Lease("statuspage:"+id, hex.EncodeToString(b))
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

// postStatusPage sends text to the incident's public incident, creating
// it the first time, under the incident's turn: it reads the incident
// afresh so a resolve that went first is not undone, and records the
// public incident's ID before another change may start.
func (h *Handlers) postStatusPage(ctx context.Context, id, text string) (string, error) {
	release, err := h.statusPageTurn(ctx, id)
	if err != nil {
		return "", err
	}
	defer release()
	inc, err := h.store.Current(ctx, id)
	if err != nil {
		return "", err
	}
	if inc.StatuspageID != "" {
		return inc.StatuspageID, h.statusPage.Update(ctx, inc.StatuspageID, statuspageStatus(inc.Status), text)
	}
	spID, err := h.statusPage.Create(ctx, id, inc.Title, statuspageStatus(inc.Status), text, statuspageImpact(inc.Severity))
	if err != nil {
		return "", err
	}
	if _, err := h.store.Update(ctx, id, incident.LinkStatuspage(spID)); err != nil {
		// The next create finds it on the page by its marker.
		h.log.WithError(err).WithField("incident", id).Warn("could not record the status page incident")
	}
	return spID, nil
}

// resolveStatusPage resolves our Statuspage incident with ours, after any
// create or update of it still under way.
func (h *Handlers) resolveStatusPage(ctx context.Context, inc *incident.Incident) {
	if h.statusPage == nil {
		return
	}
	err := func() error {
		release, err := h.statusPageTurn(ctx, inc.ID)
		if err != nil {
			return err
		}
		defer release()
		cur, err := h.store.Current(ctx, inc.ID)
		if err != nil {
			return err
		}
		if cur.StatuspageID == "" {
			return errNoPublicIncident
		}
		return h.statusPage.Update(ctx, cur.StatuspageID, "resolved", "This incident has been resolved. Thank you for your patience.")
	}()
	switch {
	case errors.Is(err, errNoPublicIncident):
	case err != nil:
		msg, _ := Sentence(err)
		h.pub.Outbox.Thread(ctx, inc, ":warning: The status page incident could not be resolved: "+msg+" Resolve it by hand.")
	default:
		h.pub.Outbox.Thread(ctx, inc, ":white_check_mark: The status page incident is resolved too.")
	}
}

var errNoPublicIncident = errors.New("no status page incident")
