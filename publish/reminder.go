package publish

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Reminder implements reminder.Poster: a line in the thread naming who
// owes an update, with Draft and Snooze buttons.
func (p *Posts) Reminder(ctx context.Context, inc *incident.Incident, to incident.Person, quiet time.Duration) {
	if inc.Channel == "" {
		return
	}
	text := fmt.Sprintf(":bell: %s, no update on %s for %s (%s). Post a note or a customer update, or snooze this.",
		render.Who(to), inc.ID, incident.FormatDuration(quiet), inc.Severity)
	m := bot.Msg{Text: text, Blocks: []slack.Block{render.Section(text), slack.NewActionBlock("reminder",
		render.Button(render.ActRemindDraft, "Draft an update", inc.ID, slack.StylePrimary), render.Button(render.ActRemindSnooze, "Snooze 30m", inc.ID, ""))}}
	if err := p.PostInThread(ctx, inc, m); err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).Warn("could not post an update reminder")
	}
}
