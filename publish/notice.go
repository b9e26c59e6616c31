package publish

import "context"

// ChannelLine says something about the bot itself (not one incident) in
// SLACK_CHANNEL_ID: queued, so the caller never waits on Slack's pace;
// without a channel it is only logged.
func (p *Notes) ChannelLine(ctx context.Context, text string) {
	if p.channel == "" {
		p.log.Warn(text)
		return
	}
	if err := p.st.Lines.QueueChannelLine(ctx, p.channel, text); err != nil {
		p.log.WithError(err).Warn("could not queue a channel line")
		return
	}
	p.outbox.wake()
}
