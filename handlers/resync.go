package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// Resyncer is what handlers need of the resync runner.
type Resyncer interface {
	Start(ctx context.Context, j resync.Job) (*resync.Job, error)
	Cancel(ctx context.Context, by incident.Person) (*resync.Job, error)
	Current(ctx context.Context) (*resync.Job, error)
	SetProgressMessage(ctx context.Context, id, channel, thread, ts string) error
	Resume(ctx context.Context)
}

func (h *Handlers) webhookReady(ctx context.Context, r req) bool {
	if h.checkWebhook == nil {
		h.replyText(ctx, r, "The app's webhook endpoint is not configured: set APP_WEBHOOK_URL and APP_WEBHOOK_SECRET (and CLERK_SECRET_KEY for resync).")
		return false
	}
	return true
}

// WebhookCheckText renders `webhook check`.
func WebhookCheckText(c resync.CheckResult) string {
	var b strings.Builder
	b.WriteString(":satellite_antenna: *Webhook endpoint check*\n")
	switch {
	case c.Signed.Problem != "":
		fmt.Fprintf(&b, ":x: Signed test event: %s", c.Signed.Problem)
	case c.Signed.Status/100 == 2:
		fmt.Fprintf(&b, ":white_check_mark: Signed test event: %d in %s", c.Signed.Status, ms(c.Signed.Latency))
	case c.Signed.Status == 401 || c.Signed.Status == 403:
		fmt.Fprintf(&b, ":x: Signed test event: %d in %s: the endpoint rejects our signature, so APP_WEBHOOK_SECRET is probably not its signing secret", c.Signed.Status, ms(c.Signed.Latency))
	default:
		fmt.Fprintf(&b, ":warning: Signed test event: %d in %s (reachable; it may not handle ping events)", c.Signed.Status, ms(c.Signed.Latency))
	}
	b.WriteString("\n")
	switch {
	case c.Finding:
		fmt.Fprintf(&b, ":rotating_light: *Security finding:* a request with a wrong signature was accepted (%d). The endpoint must verify svix-signature, or anyone can forge user events.", c.Unsigned.Status)
	case c.Unsigned.Problem != "":
		fmt.Fprintf(&b, ":x: Wrong-signature test: %s", c.Unsigned.Problem)
	default:
		fmt.Fprintf(&b, ":white_check_mark: Wrong signature rejected (%d)", c.Unsigned.Status)
	}
	return b.String()
}

func (h *Handlers) webhookCmd(ctx context.Context, r req, p Parsed) {
	if len(p.Args) == 0 || strings.ToLower(p.Args[0]) != "check" {
		h.fail(ctx, r, &UsageError{Problem: "Say `webhook check`.", Usage: p.Sub.Usage})
		return
	}
	if !h.webhookReady(ctx, r) {
		return
	}
	text := WebhookCheckText(h.checkWebhook(ctx))
	if inc, err := h.optionalIncident(ctx, p); err == nil && inc != nil {
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(r.who, "Webhook check: "+oneLine(text)))
		h.thread(ctx, inc, text)
	}
	h.replyText(ctx, r, text)
}

func (h *Handlers) resyncCmd(ctx context.Context, r req, p Parsed) {
	if !h.webhookReady(ctx, r) {
		return
	}
	if h.resync == nil {
		h.replyText(ctx, r, "Resync needs CLERK_SECRET_KEY to read users from Clerk.")
		return
	}
	sub := ""
	if len(p.Args) > 0 {
		sub = strings.ToLower(p.Args[0])
	}
	switch sub {
	case "status":
		j, err := h.resync.Current(ctx)
		if err != nil {
			h.fail(ctx, r, err)
			return
		}
		if j == nil {
			h.replyText(ctx, r, "No resync has run yet.")
			return
		}
		h.replyText(ctx, r, ResyncText(j, 0, h.now()))
		return
	case "cancel":
		if !h.allowed(ctx, r) {
			return
		}
		j, err := h.resync.Cancel(ctx, r.who)
		if err != nil {
			h.replyText(ctx, r, "No resync is running; nothing changed.")
			return
		}
		h.replyText(ctx, r, fmt.Sprintf(":octagonal_sign: Resync %s will stop after the users in flight (%d/%d done).", j.ID, j.Done, j.Total))
		return
	}
	if !h.allowed(ctx, r) {
		return
	}
	job := resync.Job{By: r.who}
	for i := 0; i < len(p.Args); i++ {
		switch p.Args[i] {
		case "--dry-run":
			job.DryRun = true
		case "--since":
			if i+1 >= len(p.Args) {
				h.fail(ctx, r, &UsageError{Problem: "--since needs a date such as 2026-11-24T00:00:00Z.", Usage: p.Sub.Usage})
				return
			}
			t, err := time.Parse(time.RFC3339, p.Args[i+1])
			if err != nil {
				h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not an RFC 3339 date such as 2026-11-24T00:00:00Z.", p.Args[i+1]), Usage: p.Sub.Usage})
				return
			}
			job.Since = t
			i++
		default:
			h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: say --dry-run, --since <date>, status or cancel.", p.Args[i]), Usage: p.Sub.Usage})
			return
		}
	}
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	check := h.checkWebhook(ctx)
	if !job.DryRun && (check.Signed.Problem != "" || check.Signed.Status == 401 || check.Signed.Status == 403) {
		h.replyText(ctx, r, "Resync not started: the endpoint check failed.\n"+WebhookCheckText(check))
		return
	}
	if inc != nil {
		inc = h.withCard(ctx, inc)
		job.Incident = inc.ID
	}
	started, err := h.resync.Start(ctx, job)
	if errors.Is(err, resync.ErrRunning) {
		cur, _ := h.resync.Current(ctx)
		msg := "A resync is already running; `/clerk-incident resync status` shows it, `resync cancel` stops it."
		if cur != nil {
			msg = ResyncText(cur, 0, h.now()) + "\n" + msg
		}
		h.replyText(ctx, r, msg)
		return
	}
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	channel, thread := h.channel, ""
	if inc != nil {
		channel, thread = inc.Channel, inc.CardTS
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(r.who, fmt.Sprintf("Resync %s started%s", started.ID, map[bool]string{true: " (dry run)", false: ""}[job.DryRun])))
	}
	if channel == "" {
		channel = r.channel
	}
	if ts, err := h.slack.Post(ctx, channel, thread, Text(ResyncText(started, 0, h.now()))); err == nil {
		_ = h.resync.SetProgressMessage(ctx, started.ID, channel, thread, ts)
	}
	note := ""
	if job.DryRun {
		note = "\n" + WebhookCheckText(check)
	}
	// The next sweep (within a second, on whichever replica gets the
	// lease) runs it, so it survives this handler and any restart.
	h.replyText(ctx, r, fmt.Sprintf(":arrows_counterclockwise: Resync %s started; progress is posted in the thread. `resync status` and `resync cancel` work from any replica.%s", started.ID, note))
}

// ResyncText renders a job's progress or result.
func ResyncText(j *resync.Job, rate float64, now time.Time) string {
	pct := 0.0
	if j.Total > 0 {
		pct = float64(j.Done) / float64(j.Total)
	}
	if j.Status == resync.Done {
		pct = 1
	}
	const width = 20
	filled := int(pct * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	kind := "Resync"
	if j.DryRun {
		kind = "Resync dry run"
	}
	switch j.Status {
	case resync.Running:
		s := fmt.Sprintf(":hourglass_flowing_sand: %s %s `[%s]` %.0f%% · %d/%d users", kind, j.ID, bar, pct*100, j.Done, j.Total)
		if rate > 0 {
			eta := time.Duration(float64(j.Total-j.Done)/rate) * time.Second
			s += fmt.Sprintf(" · %.0f users/s · ETA %s", rate, eta.Round(time.Second))
		}
		return s + fmt.Sprintf(" · %d failed", j.Failed)
	case resync.Done:
		dur := j.FinishedAt.Sub(j.StartedAt).Round(time.Second)
		if j.DryRun {
			return fmt.Sprintf(":white_check_mark: %s %s `[%s]` 100%%: %d users would be sent (%d skipped by --since); nothing was sent.", kind, j.ID, bar, j.Delivered, j.Skipped)
		}
		icon := ":white_check_mark:"
		if j.Failed > 0 {
			icon = ":warning:"
		}
		return fmt.Sprintf("%s %s %s `[%s]` 100%%: %d delivered, %d failed, %d skipped by --since, in %s.", icon, kind, j.ID, bar, j.Delivered, j.Failed, j.Skipped, dur)
	}
	why := j.Error
	if why == "" {
		why = j.Status
	}
	return fmt.Sprintf(":octagonal_sign: %s %s stopped at %d/%d (%d delivered, %d failed): %s", kind, j.ID, j.Done, j.Total, j.Delivered, j.Failed, why)
}

// Progress implements resync.Reporter.
func (h *Handlers) Progress(ctx context.Context, j *resync.Job, rate float64) {
	if j.Channel == "" || j.ProgressTS == "" {
		return
	}
	_ = h.slack.Update(ctx, j.Channel, j.ProgressTS, Text(ResyncText(j, rate, h.now())))
}

// Finished implements resync.Reporter: final progress, summary on the
// timeline and in the thread, failed IDs as a file, and the checklist
// steps ticked when it finished cleanly.
func (h *Handlers) Finished(ctx context.Context, j *resync.Job, failedIDs []string) {
	text := ResyncText(j, 0, h.now())
	if j.Channel != "" && j.ProgressTS != "" {
		_ = h.slack.Update(ctx, j.Channel, j.ProgressTS, Text(text))
	}
	h.log.WithField("resync", j.ID).WithField("status", j.Status).WithField("delivered", j.Delivered).WithField("failed", j.Failed).Info("resync finished")
	if j.Incident == "" {
		return
	}
	inc, err := h.store.Current(ctx, j.Incident)
	if err != nil {
		return
	}
	summary := fmt.Sprintf("Resync %s %s: delivered %d, failed %d, skipped %d, duration %s", j.ID, j.Status, j.Delivered, j.Failed, j.Skipped,
		j.FinishedAt.Sub(j.StartedAt).Round(time.Second))
	if j.Error != "" {
		summary += " (" + j.Error + ")"
	}
	_, _ = h.store.Update(ctx, inc.ID, incident.Record(j.By, summary))
	h.thread(ctx, inc, text)
	if len(failedIDs) > 0 && inc.Channel != "" {
		if err := h.slack.Upload(ctx, inc.Channel, inc.CardTS, "resync-"+j.ID+"-failed.txt", "Users the resync could not deliver",
			strings.Join(failedIDs, "\n")+"\n", fmt.Sprintf("%d users failed in resync %s", len(failedIDs), j.ID)); err != nil {
			h.log.WithError(err).Warn("could not upload failed user IDs")
		}
	}
	if j.Status == resync.Done && j.Failed == 0 && !j.DryRun && inc.Open() {
		h.tickMatching(ctx, inc, incident.Person{Name: "resync"}, "resync", "verify data integrity")
	}
}

// tickMatching ticks the open incident's checklist steps whose text names
// one of the phrases (the runbook's "Run resync script", "Verify data integrity").
func (h *Handlers) tickMatching(ctx context.Context, inc *incident.Incident, by incident.Person, phrases ...string) {
	spec := h.rb.Spec(inc.Category)
	if spec == nil {
		return
	}
	for _, st := range spec.Checklist.Flat() {
		text := strings.ToLower(st.Text)
		for _, ph := range phrases {
			if strings.Contains(text, ph) {
				if updated, err := h.store.Update(ctx, inc.ID, incident.SetTick(h.rb, by, st.ID, true)); err == nil {
					inc = updated
				}
			}
		}
	}
	h.refresh(ctx, inc)
}
