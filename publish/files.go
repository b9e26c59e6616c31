package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Files uploads files into incident threads and direct messages.
type Files struct {
	base
	cards *Cards
	dms   *dms
}

// UploadReport attaches the post-incident report to the card's thread.
func (f *Files) UploadReport(ctx context.Context, inc *incident.Incident, markdown string) error {
	name := strings.ToLower(inc.ID) + "-postmortem.md"
	return f.slack.Upload(ctx, inc.Channel, inc.CardTS, name, "Incident Report: "+inc.Title, markdown, "Post-incident report for "+inc.ID)
}

// UploadFile uploads a file into the incident's thread and says whether
// Slack took it.
func (f *Files) UploadFile(ctx context.Context, inc *incident.Incident, name, title, content, comment string) error {
	inc = f.cards.WithCard(ctx, inc)
	return f.slack.Upload(ctx, inc.Channel, inc.CardTS, name, title, content, comment)
}

// UploadToUser uploads a file into the bot's direct message with user:
// only they can open it (an ephemeral message cannot carry a file).
func (f *Files) UploadToUser(ctx context.Context, user, name, title, content, comment string) error {
	ch, err := f.dms.get(ctx, user)
	if err != nil {
		return fmt.Errorf("open a direct message with %s: %w", user, err)
	}
	return f.slack.Upload(ctx, ch, "", name, title, content, comment)
}

// Attach uploads a file into the incident's thread.
func (f *Files) Attach(ctx context.Context, inc *incident.Incident, name, title, content, comment string) {
	if inc == nil || inc.Channel == "" {
		return
	}
	inc = f.cards.WithCard(ctx, inc)
	if err := f.slack.Upload(ctx, inc.Channel, inc.CardTS, name, title, content, comment); err != nil {
		f.log.WithError(err).WithField("incident", inc.ID).Warn("could not attach " + name)
	}
}
