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
func (c *Cards) withPause(ctx context.Context, inc *incident.Incident, card bot.Msg) bot.Msg {
	if c.webhooks == nil || !inc.Open() {
		return card
	}
	st, err := c.webhooks.Get(ctx)
	if err != nil || !st.Paused || st.Incident != inc.ID {
		return card
	}
	return render.WithNotice(card, render.WebhooksPausedLine(st))
}

// Rerender queues a refresh of an incident's card (something it shows
// changed outside the incident).
func (o *Outbox) Rerender(ctx context.Context, id string) {
	if id == "" {
		return
	}
	if err := o.st.Renders.QueueRender(ctx, id, time.Now()); err != nil {
		o.log.WithError(err).WithField("incident", id).Warn("could not queue a card refresh")
		return
	}
	o.wake()
}
