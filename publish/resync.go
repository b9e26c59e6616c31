package publish

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
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

// Finished implements resync.Reporter: final progress, summary on the
// timeline and in the thread, failed IDs as a file, and the checklist
// steps ticked when it finished cleanly.
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
	summary := fmt.Sprintf("Resync %s %s: delivered %d, failed %d, skipped %d, duration %s", j.ID, j.Status, j.Delivered, j.Failed, j.Skipped,
		j.FinishedAt.Sub(j.StartedAt).Round(time.Second))
	if j.Error != "" {
		summary += " (" + j.Error + ")"
	}
	verified := render.VerifiedText(j)
	_ = p.ticks.Record(ctx, inc.ID, j.By, summary+". "+render.OneLine(strings.ReplaceAll(verified, "*", "")))
	p.outbox.Thread(ctx, inc, text+"\n"+verified)
	if len(failedIDs) > 0 && inc.Channel != "" {
		if err := p.slack.Upload(ctx, inc.Channel, inc.CardTS, "resync-"+j.ID+"-failed.txt", "Users the resync could not deliver",
			strings.Join(failedIDs, "\n")+"\n", fmt.Sprintf("%d users failed in resync %s", len(failedIDs), j.ID)); err != nil {
			p.log.WithError(err).Warn("could not upload failed user IDs")
		}
	}
	if j.Status == resync.Done && j.Failed == 0 && !j.DryRun && inc.Open() {
		// Only the resync step, credited to whoever started the resync: a
		// 2xx is not proof the app stored the data, so "Verify data
		// integrity" stays for a person to tick.
		p.ticks.AutoTick(ctx, inc.ID, j.By, incident.StepRunResync, "resync "+j.ID)
	}
}

// PostResyncProgress posts the message a running resync keeps up to date.
func (p *Progress) PostResyncProgress(ctx context.Context, channel, thread string, j *resync.Job) (string, error) {
	return p.slack.Post(ctx, channel, thread, render.Text(render.ResyncText(j, 0, p.now())))
}
