package publish

import (
	"context"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Reminder implements reminder.Poster: a line in the thread naming who
// owes an update, with Draft and Snooze buttons.
func (p *Posts) Reminder(ctx context.Context, inc *incident.Incident, to incident.Person, quiet time.Duration) {
	if inc.Channel == "" {
		return
	}
	m := render.ReminderMsg(inc, to, quiet)
	if err := p.PostInThread(ctx, inc, m); err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).Warn("could not post an update reminder")
	}
}
