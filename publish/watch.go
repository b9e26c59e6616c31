package publish

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// Notes shows the notes of the status poller, the bypass and the webhook
// pause. The caller (usecase.Notices) has put them on the timeline first.
type Notes struct {
	base
	outbox *Outbox
}

// Note shows a status poller's note: one about an incident in its thread,
// one about the poller in the channel.
func (no *Notes) Note(ctx context.Context, n statuswatch.Note) {
	text := render.NoteText(n)
	if n.Incident == "" {
		no.PostChannel(ctx, text, "channel note")
		return
	}
	inc, err := no.st.Incidents.Current(ctx, n.Incident)
	if err != nil {
		return
	}
	no.outbox.Thread(ctx, inc, text)
}

// PostChannel posts text to the channel (what names it in the log), or
// logs it when there is no channel.
func (no *Notes) PostChannel(ctx context.Context, text, what string) {
	if no.channel == "" {
		no.log.Warn(text)
		return
	}
	if _, err := no.slack.Post(ctx, no.channel, "", render.Text(text)); err != nil {
		no.log.WithError(err).Warn("could not post " + what)
	}
}

// IncidentOpen implements statuswatch.Reporter's read.
func (no *Notes) IncidentOpen(ctx context.Context, id string) bool {
	inc, err := no.st.Incidents.Current(ctx, id)
	return err == nil && inc.Open()
}

// PostAlert posts a status alert under a new incident's card, broadcast to
// the channel.
func (p *Posts) PostAlert(ctx context.Context, inc *incident.Incident, a statuswatch.Alert) {
	m := render.Text(render.AlertText(a, inc.ID, false))
	m.Broadcast = true
	if _, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, m); err != nil {
		p.log.WithError(err).Warn("could not post status alert")
	}
}
