package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// The data sync family: webhook check and resync.

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

func (h *Handlers) webhookCmd(ctx context.Context, r req, p Parsed) {
	if p.Form() == "dashboard" {
		h.webhookDashboard(ctx, r)
		return
	}
	if len(p.Args) == 0 || strings.ToLower(p.Args[0]) != "check" {
		h.fail(ctx, r, &UsageError{Problem: "Say `webhook check` or `webhook dashboard`.", Usage: p.Sub.Usage})
		return
	}
	if !h.webhookReady(ctx, r) {
		return
	}
	// The incident it is recorded on is settled first: with several open
	// the check waits for the person to say which, rather than running
	// and recording nowhere.
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	res := h.checkWebhook(ctx)
	text := render.WebhookCheckText(res)
	if inc != nil {
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(r.who, "Webhook check: "+render.TimelineText(text)))
		h.pub.Outbox.Thread(ctx, inc, text)
		if res.AsExpected() {
			h.pub.Ticks.AutoTick(ctx, inc.ID, r.who, incident.StepSyncGap, "webhook check")
		}
	}
	h.replyText(ctx, r, text)
}

// webhookDashboard gets Clerk's one-time link to the Svix dashboard of the
// instance's endpoints (failed deliveries, replays) and shows it to the
// requester alone: it is a credential, never posted to the channel and
// never logged.
func (h *Handlers) webhookDashboard(ctx context.Context, r req) {
	if !h.clerkReady(ctx, r) {
		return
	}
	look, ok := h.clerk.(UserLookup)
	if !ok {
		h.replyText(ctx, r, "This Clerk client cannot ask for the dashboard link; nothing was done.")
		return
	}
	link, err := look.DashboardURL(ctx)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	r.to.Replace = false
	h.replyText(ctx, r, fmt.Sprintf(":key: <%s|Open the webhook dashboard> (failed deliveries and replays of every endpoint). The link signs you in once and only you can see it here: do not paste it into the channel.", link))
}

func (h *Handlers) resyncCmd(ctx context.Context, r req, p Parsed) {
	if !h.webhookReady(ctx, r) {
		return
	}
	if h.resync == nil {
		h.replyText(ctx, r, "Resync needs CLERK_SECRET_KEY to read users from Clerk.")
		return
	}
	switch p.Form() {
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
		h.replyText(ctx, r, render.ResyncText(j, 0, h.now()))
		return
	case "cancel":
		j, err := h.resync.Cancel(ctx, r.who)
		if err != nil {
			h.replyText(ctx, r, "No resync is running; nothing changed.")
			return
		}
		h.replyText(ctx, r, fmt.Sprintf(":octagonal_sign: Resync %s will stop after the users in flight (%d/%d done).", j.ID, j.Done, j.Total))
		return
	}
	job := resync.Job{By: r.who}
	noPause := false
	for i := 0; i < len(p.Args); i++ {
		switch p.Args[i] {
		case "--dry-run":
			job.DryRun = true
		case "--no-pause":
			noPause = true
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
			h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: say --dry-run, --since <date>, --no-pause, status or cancel.", p.Args[i]), Usage: p.Sub.Usage})
			return
		}
	}
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	paused := ""
	if h.webhooks != nil && !job.DryRun {
		st, err := h.webhooks.Get(ctx)
		if err != nil {
			h.fail(ctx, r, err)
			return
		}
		if !st.Paused && !noPause {
			// Procedure 3 pauses first: a live delivery racing the resync
			// could be overwritten by an older copy of the same user.
			h.replyText(ctx, r, "Webhook processing is not paused, so Clerk's live deliveries would race this resync. Pause first?\n"+
				"• `/clerk-incident webhooks pause <reason>`, then `/clerk-incident resync` again (its own deliveries still go through), or\n"+
				"• `/clerk-incident resync --no-pause` to resync without pausing.\nNothing was started.")
			return
		}
		if st.Paused {
			paused = "\nWebhook processing is paused since " + render.SlackDate(st.Since) + ": `/clerk-incident webhooks resume` when this is done."
		}
	}
	check := h.checkWebhook(ctx)
	if !job.DryRun && (check.Signed.Problem != "" || check.Signed.Status == 401 || check.Signed.Status == 403) {
		h.replyText(ctx, r, "Resync not started: the endpoint check failed.\n"+render.WebhookCheckText(check))
		return
	}
	if inc != nil {
		inc = h.pub.Cards.WithCard(ctx, inc)
		job.Incident = inc.ID
	}
	started, err := h.resync.Start(ctx, job)
	if errors.Is(err, resync.ErrRunning) {
		cur, _ := h.resync.Current(ctx)
		msg := "A resync is already running; `/clerk-incident resync status` shows it, `resync cancel` stops it."
		if cur != nil {
			msg = render.ResyncText(cur, 0, h.now()) + "\n" + msg
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
	if ts, err := h.pub.Progress.PostResyncProgress(ctx, channel, thread, started); err == nil {
		_ = h.resync.SetProgressMessage(ctx, started.ID, channel, thread, ts)
	}
	note := ""
	if job.DryRun {
		note = "\n" + render.WebhookCheckText(check)
	}
	// The next sweep (within a second, on whichever replica gets the
	// lease) runs it, so it survives this handler and any restart.
	h.replyText(ctx, r, fmt.Sprintf(":arrows_counterclockwise: Resync %s started; progress is posted in the thread. `resync status` and `resync cancel` work from any replica.%s%s", started.ID, paused, note))
}

// dataSyncCommands are the family's rows of the command table.
func dataSyncCommands() []Sub {
	return []Sub{
		{Name: "webhook", Usage: "/clerk-incident webhook check [INC-n] | dashboard", Summary: "`check`: send the app's endpoint a signed test event and a forged one; `dashboard`: a one-time link to Clerk's failed deliveries, for you alone", Who: Responder,
			Run:   (*Handlers).webhookCmd,
			Verbs: []string{"check", "dashboard"}, NoIDVerbs: []string{"dashboard"}},
		{Name: "resync", Usage: "/clerk-incident resync [INC-n] [--dry-run] [--since <RFC 3339 date>] [--no-pause] | status | cancel", Summary: "replay every Clerk user into the app's webhook endpoint as signed user.updated events", Who: Responder,
			ReadForms: []string{"status"}, Run: (*Handlers).resyncCmd,
			Verbs: []string{"status", "cancel"}, NoIDVerbs: []string{"status", "cancel"}},
	}
}
