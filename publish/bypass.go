package publish

import (
	"context"
	"fmt"

	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// bypassNotice tells the incident's thread (broadcast to the channel) and
// records it on the timeline.
func (p *Notes) BypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string) {
	inc, err := p.st.Incidents.Current(ctx, incID)
	if err != nil {
		p.log.WithError(err).Warn("bypass notice: incident not found")
		return
	}
	_ = p.ticks.Record(ctx, incID, who, entry)
	if inc.Channel != "" {
		m := render.Text(line)
		m.Broadcast = true
		if _, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, m); err != nil {
			p.log.WithError(err).Warn("could not post bypass notice")
		}
	}
}

// BypassReminder implements bypass.Notifier.
func (p *Notes) BypassReminder(ctx context.Context, st bypass.State) {
	p.BypassNotice(ctx, st.Incident, incident.Person{Name: "bot"}, "Emergency bypass ends in 5 minutes",
		fmt.Sprintf(":hourglass: The emergency auth bypass ends at %s. Extend it with `/clerk-incident bypass extend &lt;duration&gt;` (needs approval), or let it end.", render.SlackDate(st.ExpiresAt)))
}

// BypassExpired implements bypass.Notifier.
func (p *Notes) BypassExpired(ctx context.Context, st bypass.State) {
	p.log.WithField("incident", st.Incident).Warn("emergency auth bypass expired")
	p.ticks.System(ctx, "bot", "bypass expired", "ended by itself", st.Incident)
	p.BypassNotice(ctx, st.Incident, incident.Person{Name: "bot"}, "Emergency bypass ended by itself",
		fmt.Sprintf(":lock: The emergency auth bypass *ended by itself* at %s: Clerk auth is enforced again.", render.SlackDate(st.ExpiresAt)))
}
