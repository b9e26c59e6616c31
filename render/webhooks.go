package render

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
	"github.com/slack-go/slack"
)

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

// WebhooksStillPausedLine is the reminder, every 30 minutes, that
// processing is still paused.
func WebhooksStillPausedLine(st webhookpause.State, paused time.Duration) string {
	return fmt.Sprintf(":double_vertical_bar: Webhook processing has been *paused for %s* (since %s by %s: %s). "+
		"The app answers Clerk's deliveries 503 and Svix retries each for about a day (the last retry comes about 27 h after the first attempt), then gives up on it. "+
		"`/clerk-incident webhooks resume` once the resync is done.",
		ShortDuration(paused), SlackDate(st.Since), pauseBy(st.By), Truncate(Esc(st.Reason), 300))
}

// BypassEndingLine is the thread's reminder that the emergency bypass ends
// in 5 minutes.
func BypassEndingLine(expires time.Time) string {
	return fmt.Sprintf(":hourglass: The emergency auth bypass ends at %s. Extend it with `/clerk-incident bypass extend &lt;duration&gt;` (needs approval), or let it end.", SlackDate(expires))
}

// BypassEndedLine tells the thread the emergency bypass ended by itself.
func BypassEndedLine(expires time.Time) string {
	return fmt.Sprintf(":lock: The emergency auth bypass *ended by itself* at %s: Clerk auth is enforced again.", SlackDate(expires))
}
