package publish

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// Progress implements resync.Reporter.
func (p *Progress) Progress(ctx context.Context, j *resync.Job, rate float64) {
	if j.Channel == "" || j.ProgressTS == "" {
		return
	}
	_ = p.slack.Update(ctx, j.Channel, j.ProgressTS, render.Text(render.ResyncText(j, rate, p.now())))
}

// Finished implements resync.Reporter's showing: the final progress, the
// summary in the thread and the failed IDs as a file. Its timeline entry
// and checklist tick are the caller's (usecase.Work).
func (p *Progress) Finished(ctx context.Context, j *resync.Job, failedIDs []string) {
	text := render.ResyncText(j, 0, p.now())
	if j.Channel != "" && j.ProgressTS != "" {
		_ = p.slack.Update(ctx, j.Channel, j.ProgressTS, render.Text(text))
	}
	p.log.WithField("resync", j.ID).WithField("status", j.Status).WithField("delivered", j.Delivered).WithField("failed", j.Failed).Info("resync finished")
	if j.Incident == "" {
		return
	}
	inc, err := p.st.Incidents.Current(ctx, j.Incident)
	if err != nil {
		return
	}
	p.outbox.Thread(ctx, inc, text+"\n"+render.VerifiedText(j))
	if len(failedIDs) > 0 && inc.Channel != "" {
		if err := p.slack.Upload(ctx, inc.Channel, inc.CardTS, "resync-"+j.ID+"-failed.txt", "Users the resync could not deliver",
			strings.Join(failedIDs, "\n")+"\n", fmt.Sprintf("%d users failed in resync %s", len(failedIDs), j.ID)); err != nil {
			p.log.WithError(err).Warn("could not upload failed user IDs")
		}
	}
}

// PostResyncProgress posts the message a running resync keeps up to date.
func (p *Progress) PostResyncProgress(ctx context.Context, channel, thread string, j *resync.Job) (string, error) {
	return p.slack.Post(ctx, channel, thread, render.Text(render.ResyncText(j, 0, p.now())))
}
