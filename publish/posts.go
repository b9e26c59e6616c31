package publish

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Posts delivers the messages posted once under a card: answers with
// buttons, drafts and customer updates, reminders, status alerts.
type Posts struct {
	base
	cards *Cards
}

// PostInThread posts a message with blocks (buttons) under the card at
// once: it is an answer someone is waiting for, not a thread line.
func (p *Posts) PostInThread(ctx context.Context, inc *incident.Incident, m bot.Msg) error {
	inc = p.cards.WithCard(ctx, inc)
	_, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, m)
	return err
}
