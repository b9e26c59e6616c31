package publish

import "context"

// ChannelLine says something about the bot itself (not one incident) in
// SLACK_CHANNEL_ID: queued, so the caller never waits on Slack's pace;
// without a channel it is only logged.
func (no *Notes) ChannelLine(ctx context.Context, text string) {
	if no.channel == "" {
		no.log.Warn(text)
		return
	}
	if err := no.st.Lines.QueueChannelLine(ctx, no.channel, text); err != nil {
		no.log.WithError(err).Warn("could not queue a channel line")
		return
	}
	no.outbox.wake()
}
