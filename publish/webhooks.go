package publish

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
	"github.com/slack-go/slack"
)

// WebhookPause is what the card needs of the webhook pause.
type WebhookPause interface {
	Get(ctx context.Context) (webhookpause.State, error)
}

// SetWebhookPause lets the card of the incident a pause belongs to say so.
func (p *Publisher) SetWebhookPause(w WebhookPause) { p.webhooks = w }

// withPause adds the pause line to the card of the pause's incident.
func (p *Publisher) withPause(ctx context.Context, inc *incident.Incident, card bot.Msg) bot.Msg {
	if p.webhooks == nil || !inc.Open() {
		return card
	}
	st, err := p.webhooks.Get(ctx)
	if err != nil || !st.Paused || st.Incident != inc.ID {
		return card
	}
	return WithNotice(card, WebhooksPausedLine(st))
}

// Rerender queues a refresh of an incident's card (something it shows
// changed outside the incident).
func (p *Publisher) Rerender(ctx context.Context, id string) {
	if id == "" {
		return
	}
	if err := p.outbox.QueueRender(ctx, id, time.Now()); err != nil {
		p.log.WithError(err).WithField("incident", id).Warn("could not queue a card refresh")
		return
	}
	p.wake()
}

// pauseBy is who paused: a Slack mention, or the CLI's plain name.
func pauseBy(by string) string {
	if strings.HasPrefix(by, "U") || strings.HasPrefix(by, "W") {
		return "<@" + by + ">"
	}
	return PlainName(by)
}

// WebhooksPausedLine is the card's line while processing is paused.
func WebhooksPausedLine(st webhookpause.State) string {
	return fmt.Sprintf(":double_vertical_bar: *Webhook processing paused* since %s by %s: %s · `/clerk-incident webhooks resume` when the resync is done",
		SlackDate(st.Since), pauseBy(st.By), Truncate(Esc(st.Reason), 300))
}

// WithNotice adds a context line to a card, above its buttons.
func WithNotice(card bot.Msg, line string) bot.Msg {
	blocks := slices.Clone(card.Blocks)
	at := len(blocks)
	if at > 0 {
		if _, ok := blocks[at-1].(*slack.ActionBlock); ok {
			at--
		}
	}
	card.Blocks = slices.Insert(blocks, at, slack.Block(contextBlock(line)))
	return card
}

// WebhooksStillPaused implements webhookpause.Notifier: the incident's
// thread (or the channel) hears it every 30 minutes until someone resumes.
func (p *Publisher) WebhooksStillPaused(ctx context.Context, st webhookpause.State, paused time.Duration) {
	line := fmt.Sprintf(":double_vertical_bar: Webhook processing has been *paused for %s* (since %s by %s: %s). "+
		"The app answers Clerk's deliveries 503 and Svix retries each for about a day (the last retry comes about 27 h after the first attempt), then gives up on it. "+
		"`/clerk-incident webhooks resume` once the resync is done.",
		ShortDuration(paused), SlackDate(st.Since), pauseBy(st.By), Truncate(Esc(st.Reason), 300))
	if st.Incident != "" {
		if inc, err := p.store.Current(ctx, st.Incident); err == nil && inc.Channel != "" {
			p.BypassNotice(ctx, st.Incident, incident.Person{Name: "bot"}, "Webhook processing still paused after "+ShortDuration(paused), line)
			return
		}
	}
	if p.channel == "" {
		return
	}
	if _, err := p.slack.Post(ctx, p.channel, "", Text(line)); err != nil {
		p.log.WithError(err).Warn("could not post the webhook pause reminder")
	}
}
