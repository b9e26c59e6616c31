package render

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
)

// The card of the incident a pause belongs to says since when, by whom
// and why, above its buttons; the reason is escaped.
func TestCardWebhooksPausedGolden(t *testing.T) {
	inc, rb, now := fixture()
	wh := *inc
	wh.Category = incident.Webhook
	st := webhookpause.State{Paused: true, Since: now.Add(-5 * time.Minute), By: "U2", Reason: "resync after the outage <!channel>", Incident: inc.ID}
	card := WithNotice(Card(&wh, rb.Spec(wh.Category), nil, now), WebhooksPausedLine(st))
	golden(t, "card_webhooks_paused", card)
	line := WebhooksPausedLine(st)
	if !strings.Contains(line, "Webhook processing paused* since <!date^") || !strings.Contains(line, "by <@U2>") || strings.Contains(line, "<!channel>") {
		t.Fatalf("line %q", line)
	}
}
