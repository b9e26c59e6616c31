package render

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/alerts"
)

// linkSafe keeps a URL inside one Slack link: the characters that would
// end it or open another are percent-encoded.
var linkSafe = strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", "\n", "")

// alertsShown is how many alerts one thread line lists; the rest are
// counted (every one is in the audit).
const alertsShown = 10

// AlertsJoined is the thread line for alerts of one request that joined
// an incident another alert of the request opened or joined: one line
// for all of them, however many came.
func AlertsJoined(sender, id string, as []alerts.Alert) string {
	var b strings.Builder
	noun := "alerts"
	if len(as) == 1 {
		noun = "alert"
	}
	fmt.Fprintf(&b, ":bell: %d more firing %s from %s joined %s:", len(as), noun, Esc(sender), id)
	listAlerts(&b, as)
	return b.String()
}

// AlertsResolved is the thread line for alerts the monitoring says are
// resolved: an open incident stays open, since resolving it is a
// person's call; one a person resolved already is said to be.
func AlertsResolved(sender, id string, open bool, as []alerts.Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":white_check_mark: %s says resolved:", Esc(sender))
	listAlerts(&b, as)
	if !open {
		fmt.Fprintf(&b, "\n%s was resolved here already.", id)
		return b.String()
	}
	fmt.Fprintf(&b, "\n%s stays open: resolving it is a person's call (`/clerk-incident resolve %s &lt;resolution&gt;`).", id, id)
	return b.String()
}

func listAlerts(b *strings.Builder, as []alerts.Alert) {
	for i, a := range as {
		if i == alertsShown {
			fmt.Fprintf(b, "\n• … and %d more (all in `/clerk-incident audit`)", len(as)-alertsShown)
			break
		}
		// The thread is read by guests too: e-mail and IP addresses an
		// alert's text was templated with are masked (the audit has them).
		fmt.Fprintf(b, "\n• *%s* (%s", Esc(Truncate(Redact(a.Title), 200)), a.Severity)
		if a.Name != "" && a.Name != a.Title {
			b.WriteString(", " + Esc(Truncate(Redact(a.Name), 100)))
		}
		b.WriteString(")")
		if a.Link != "" {
			fmt.Fprintf(b, " <%s|source>", linkSafe.Replace(a.Link))
		}
	}
}
