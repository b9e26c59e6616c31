package publish

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// PostDraft posts a draft in the incident's thread and returns its ts.
func (p *Posts) PostDraft(ctx context.Context, inc *incident.Incident, text string) (string, error) {
	inc = p.cards.WithCard(ctx, inc)
	return p.slack.Post(ctx, inc.Channel, inc.CardTS, render.DraftMsg(inc.ID, text))
}

// ShowDraft rewrites the draft message.
func (p *Posts) ShowDraft(ctx context.Context, inc *incident.Incident, ts string, m bot.Msg) error {
	if ts == "" || inc.Channel == "" {
		return nil
	}
	return p.slack.Update(ctx, inc.Channel, ts, m)
}

// AnnounceUpdate posts a customer update in the announcement channel.
func (p *Posts) AnnounceUpdate(ctx context.Context, channel, incID, text string) error {
	_, err := p.slack.Post(ctx, channel, "", render.AnnouncementMsg(incID, text))
	return err
}

// PostNotice posts the draft notice to affected users in the incident's
// thread and returns its ts.
func (p *Posts) PostNotice(ctx context.Context, inc *incident.Incident, text string) (string, error) {
	inc = p.cards.WithCard(ctx, inc)
	return p.slack.Post(ctx, inc.Channel, inc.CardTS, render.NoticeMsg(inc.ID, text))
}
