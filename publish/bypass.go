package publish

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Broadcast posts a notice (the bypass's, the webhook pause's) in the
// incident's thread, broadcast to the channel. The caller has put it on
// the timeline first.
func (no *Notes) Broadcast(ctx context.Context, inc *incident.Incident, line string) {
	if inc.Channel == "" {
		return
	}
	m := render.Text(line)
	m.Broadcast = true
	if _, err := no.slack.Post(ctx, inc.Channel, inc.CardTS, m); err != nil {
		no.log.WithError(err).Warn("could not post bypass notice")
	}
}
