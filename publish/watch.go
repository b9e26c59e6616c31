package publish

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// Notes delivers the notes of the status poller, the bypass and the
// webhook pause (statuswatch.Reporter, bypass.Notifier,
// webhookpause.Notifier).
type Notes struct {
	base
	outbox *Outbox
	ticks  Ticker
}

// Note implements statuswatch.Reporter: a note about an incident goes on
// its timeline and in its thread, one about the poller to the channel.
func (p *Notes) Note(ctx context.Context, n statuswatch.Note) {
	text := render.NoteText(n)
	if n.Incident == "" {
		if p.channel == "" {
			p.log.Warn(text)
			return
		}
		if _, err := p.slack.Post(ctx, p.channel, "", render.Text(text)); err != nil {
			p.log.WithError(err).Warn("could not post channel note")
		}
		return
	}
	inc, err := p.st.Incidents.Current(ctx, n.Incident)
	if err != nil {
		return
	}
	_ = p.ticks.Record(ctx, n.Incident, statusPoller, render.OneLine(render.NotePlain(n)))
	p.outbox.Thread(ctx, inc, text)
}

// IncidentOpen implements statuswatch.Reporter.
func (p *Notes) IncidentOpen(ctx context.Context, id string) bool {
	inc, err := p.st.Incidents.Current(ctx, id)
	return err == nil && inc.Open()
}

// statusPoller is who the poller's timeline entries are from.
var statusPoller = incident.Person{Name: "status poller"}

// PostAlert posts a status alert under a new incident's card, broadcast to
// the channel.
func (p *Posts) PostAlert(ctx context.Context, inc *incident.Incident, a statuswatch.Alert) {
	m := render.Text(render.AlertText(a, inc.ID, false))
	m.Broadcast = true
	if _, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, m); err != nil {
		p.log.WithError(err).Warn("could not post status alert")
	}
}
