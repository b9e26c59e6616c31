// Package reminder nudges an open incident's commander (or comms person)
// when no update has been posted for a while: the "document timeline"
// discipline of the runbook, timed in Redis like the ladder. Every
// replica's sweep ticks it; the store's compare-and-set lets exactly one
// replica send each reminder, and the state survives restarts because it
// lives on the incident.
package reminder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Store is what the reminders need of the incident store.
type Store interface {
	ListOpen(ctx context.Context) ([]*incident.Incident, error)
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
}

// Poster posts the reminder in the incident's thread.
type Poster interface {
	Reminder(ctx context.Context, inc *incident.Incident, to incident.Person, quiet time.Duration)
}

// Intervals is how long each severity may go without an update.
type Intervals map[incident.Severity]time.Duration

// DefaultIntervals is UPDATE_REMINDER's default.
const DefaultIntervals = "P1=20m,P2=1h,P3=4h"

// ParseIntervals reads "P1=20m,P2=1h,P3=4h"; "off" turns reminders off.
func ParseIntervals(s string) (Intervals, error) {
	out := Intervals{}
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		sev, d, ok := strings.Cut(strings.TrimSpace(part), "=")
		sv := incident.Severity(strings.ToUpper(strings.TrimSpace(sev)))
		if !ok || (sv != incident.P1 && sv != incident.P2 && sv != incident.P3) {
			return nil, fmt.Errorf("%q is not SEVERITY=DURATION (e.g. P1=20m)", part)
		}
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || dur < time.Minute {
			return nil, fmt.Errorf("%q: the duration must be at least 1m, such as 20m or 1h", part)
		}
		out[sv] = dur
	}
	return out, nil
}

// Reminders sends the reminders.
type Reminders struct {
	store     Store
	post      Poster
	intervals Intervals
	now       func() time.Time
	log       logrus.FieldLogger
}

// New builds the reminders.
func New(store Store, post Poster, intervals Intervals, now func() time.Time, log logrus.FieldLogger) *Reminders {
	return &Reminders{store: store, post: post, intervals: intervals, now: now, log: log}
}

// Tick sends every reminder that is due.
func (r *Reminders) Tick(ctx context.Context) {
	if len(r.intervals) == 0 {
		return
	}
	open, err := r.store.ListOpen(ctx)
	if err != nil {
		return
	}
	now := r.now()
	for _, inc := range open {
		every, ok := r.intervals[inc.Severity]
		if !ok || now.Before(inc.ReminderDue(every)) {
			continue
		}
		to := Recipient(inc)
		quiet := now.Sub(inc.LastUpdateAt)
		if inc.LastUpdateAt.IsZero() {
			quiet = now.Sub(inc.OpenedAt)
		}
		updated, err := r.store.Update(ctx, inc.ID, incident.Remind(every, to))
		if errors.Is(err, incident.ErrNoChange) {
			continue // another replica sent it
		}
		if err != nil {
			r.log.WithError(err).WithField("incident", inc.ID).Warn("update reminder failed")
			continue
		}
		r.post.Reminder(ctx, updated, to, quiet)
	}
}

// Recipient is who is reminded: comms if set, else the commander, else
// whoever leads.
func Recipient(inc *incident.Incident) incident.Person {
	switch {
	case inc.Comms != nil:
		return *inc.Comms
	case inc.Commander != nil:
		return *inc.Commander
	}
	return inc.Lead()
}
