package publish

import (
	"context"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
)

// WebhookPause is what the card needs of the webhook pause.
type WebhookPause interface {
	Get(ctx context.Context) (webhookpause.State, error)
}

// withPause adds the pause line to the card of the pause's incident.
func (p *Cards) withPause(ctx context.Context, inc *incident.Incident, card bot.Msg) bot.Msg {
	if p.webhooks == nil || !inc.Open() {
		return card
	}
	st, err := p.webhooks.Get(ctx)
	if err != nil || !st.Paused || st.Incident != inc.ID {
		return card
	}
	return render.WithNotice(card, render.WebhooksPausedLine(st))
}

// Rerender queues a refresh of an incident's card (something it shows
// changed outside the incident).
func (p *Outbox) Rerender(ctx context.Context, id string) {
	if id == "" {
		return
	}
	if err := p.st.Renders.QueueRender(ctx, id, time.Now()); err != nil {
		p.log.WithError(err).WithField("incident", id).Warn("could not queue a card refresh")
		return
	}
	p.wake()
}

// WebhooksStillPaused implements webhookpause.Notifier: the incident's
// thread (or the channel) hears it every 30 minutes until someone resumes.
func (p *Notes) WebhooksStillPaused(ctx context.Context, st webhookpause.State, paused time.Duration) {
	line := render.WebhooksStillPausedLine(st, paused)
	if st.Incident != "" {
		if inc, err := p.st.Incidents.Current(ctx, st.Incident); err == nil && inc.Channel != "" {
			p.BypassNotice(ctx, st.Incident, incident.Person{Name: "bot"}, "Webhook processing still paused after "+render.ShortDuration(paused), line)
			return
		}
	}
	if p.channel == "" {
		return
	}
	if _, err := p.slack.Post(ctx, p.channel, "", render.Text(line)); err != nil {
		p.log.WithError(err).Warn("could not post the webhook pause reminder")
	}
}
