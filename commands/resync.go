package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
)

// The data sync family: webhook check and resync.

const dataSyncTitle = "Data sync"

// Resyncer is what the resync command needs of the resync runner.
type Resyncer interface {
	Start(ctx context.Context, j resync.Job) (*resync.Job, error)
	Cancel(ctx context.Context, by incident.Person) (*resync.Job, error)
	Current(ctx context.Context) (*resync.Job, error)
	SetProgressMessage(ctx context.Context, id, channel, thread, ts string) error
}

// EndpointCheck sends the app's webhook endpoint a signed test event and
// a forged one (resync.CheckEndpoint).
type EndpointCheck func(ctx context.Context) resync.CheckResult

// Dashboard gets Clerk's one-time link to the webhook dashboard.
type Dashboard interface {
	DashboardURL(ctx context.Context) (string, error)
}

// CheckPublisher shows a webhook check in the thread.
type CheckPublisher interface {
	Thread(ctx context.Context, inc *incident.Incident, text string)
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// WebhookCheck checks the app's webhook endpoint and links to Clerk's
// webhook dashboard.
type WebhookCheck struct {
	*Kit
	checkWebhook EndpointCheck // nil without APP_WEBHOOK_URL/SECRET
	pub          CheckPublisher
	clerk        Dashboard // nil when CLERK_SECRET_KEY is unset
}

// NewWebhookCheck wires the family.
func NewWebhookCheck(k *Kit, check EndpointCheck, pub CheckPublisher, clerk Dashboard) *WebhookCheck {
	return &WebhookCheck{Kit: k, checkWebhook: check, pub: pub, clerk: clerk}
}

// Title implements Family.
func (w *WebhookCheck) Title() string { return dataSyncTitle }

// Commands implements Family.
func (w *WebhookCheck) Commands() []Sub {
	return []Sub{
		{Name: "webhook", Usage: "/clerk-incident webhook check [INC-n] | dashboard", Summary: "`check`: send the app's endpoint a signed test event and a forged one; `dashboard`: a one-time link to Clerk's failed deliveries, for you alone", Who: Responder,
			Run:   w.webhookCmd,
			Verbs: []string{"check", "dashboard"}, NoIDVerbs: []string{"dashboard"}},
	}
}

// Buttons implements Family.
func (w *WebhookCheck) Buttons() []Button { return nil }

// PauseReader reads the webhook pause.
type PauseReader interface {
	Get(ctx context.Context) (webhookpause.State, error)
}

// ResyncPublisher posts a resync's progress.
type ResyncPublisher interface {
	WithCard(ctx context.Context, inc *incident.Incident) *incident.Incident
	PostResyncProgress(ctx context.Context, channel, thread string, j *resync.Job) (string, error)
}

// Resync replays Clerk's users into the app's webhook endpoint.
type Resync struct {
	*Kit
	resync       Resyncer      // nil without CLERK_SECRET_KEY
	webhooks     PauseReader   // nil: not asked to pause first
	checkWebhook EndpointCheck // nil without APP_WEBHOOK_URL/SECRET
	pub          ResyncPublisher
	channel      string // SLACK_CHANNEL_ID, may be empty
}

// ResyncDeps lists what the resync needs.
type ResyncDeps struct {
	Runner   Resyncer
	Webhooks PauseReader
	Check    EndpointCheck
	Pub      ResyncPublisher
	Channel  string
}

// NewResync wires the family.
func NewResync(k *Kit, d ResyncDeps) *Resync {
	return &Resync{Kit: k, resync: d.Runner, webhooks: d.Webhooks, checkWebhook: d.Check, pub: d.Pub, channel: d.Channel}
}

// Title implements Family.
func (re *Resync) Title() string { return dataSyncTitle }

// Commands implements Family.
func (re *Resync) Commands() []Sub {
	return []Sub{
		{Name: "resync", Usage: "/clerk-incident resync [INC-n] [--dry-run] [--since <RFC 3339 date>] [--no-pause] | status | cancel", Summary: "replay every Clerk user into the app's webhook endpoint as signed user.updated events", Who: Responder,
			ReadForms: []string{"status"}, Run: re.resyncCmd,
			Verbs: []string{"status", "cancel"}, NoIDVerbs: []string{"status", "cancel"}},
	}
}

// Buttons implements Family.
func (re *Resync) Buttons() []Button { return nil }

// webhookReady tells the asker when the endpoint is not configured.
func webhookReady(ctx context.Context, k *Kit, r Req, configured bool) bool {
	if !configured {
		k.ReplyText(ctx, r, "The app's webhook endpoint is not configured: set APP_WEBHOOK_URL and APP_WEBHOOK_SECRET (and CLERK_SECRET_KEY for resync).")
		return false
	}
	return true
}

func (w *WebhookCheck) webhookCmd(ctx context.Context, r Req, p Parsed) {
	if p.Form() == "dashboard" {
		w.webhookDashboard(ctx, r)
		return
	}
	if len(p.Args) == 0 || strings.ToLower(p.Args[0]) != "check" {
		w.Fail(ctx, r, &UsageError{Problem: "Say `webhook check` or `webhook dashboard`.", Usage: p.Sub.Usage})
		return
	}
	if !webhookReady(ctx, w.Kit, r, w.checkWebhook != nil) {
		return
	}
	// The incident it is recorded on is settled first: with several open
	// the check waits for the person to say which, rather than running
	// and recording nowhere.
	inc, err := w.optionalIncident(ctx, p)
	if err != nil {
		w.Fail(ctx, r, err)
		return
	}
	res := w.checkWebhook(ctx)
	text := render.WebhookCheckText(res)
	if inc != nil {
		_, _ = w.incidents.Update(ctx, inc.ID, incident.Record(r.Who, render.WebhookCheckPlain(res)))
		w.pub.Thread(ctx, inc, text)
		// An endpoint that refuses signed events is where the gap comes
		// from: found. A healthy one (or one that only accepts forgeries)
		// says the gap is elsewhere, so the step is not done by it.
		if res.DeliveriesFail() {
			w.pub.AutoTick(ctx, inc.ID, r.Who, incident.StepSyncGap, "webhook check")
		}
	}
	w.ReplyText(ctx, r, text)
}

// webhookDashboard gets Clerk's one-time link to the Svix dashboard of the
// instance's endpoints (failed deliveries, replays) and shows it to the
// requester alone: it is a credential, never posted to the channel and
// never logged.
func (w *WebhookCheck) webhookDashboard(ctx context.Context, r Req) {
	if !clerkReady(ctx, w.Kit, r, w.clerk != nil) {
		return
	}
	link, err := w.clerk.DashboardURL(ctx)
	if err != nil {
		w.Fail(ctx, r, err)
		return
	}
	r.To.Replace = false
	w.ReplyText(ctx, r, fmt.Sprintf(":key: <%s|Open the webhook dashboard> (failed deliveries and replays of every endpoint). The link signs you in once and only you can see it here: do not paste it into the channel.", link))
}

func (re *Resync) resyncCmd(ctx context.Context, r Req, p Parsed) {
	if !webhookReady(ctx, re.Kit, r, re.checkWebhook != nil) {
		return
	}
	if re.resync == nil {
		re.ReplyText(ctx, r, "Resync needs CLERK_SECRET_KEY to read users from Clerk.")
		return
	}
	switch p.Form() {
	case "status":
		re.resyncStatus(ctx, r)
		return
	case "cancel":
		j, err := re.resync.Cancel(ctx, r.Who)
		if err != nil {
			re.ReplyText(ctx, r, "No resync is running; nothing changed.")
			return
		}
		re.ReplyText(ctx, r, fmt.Sprintf(":octagonal_sign: Resync %s will stop after the users in flight (%d/%d done).", j.ID, j.Done, j.Total))
		return
	}
	job, noPause, err := resyncJob(r, p)
	if err != nil {
		re.Fail(ctx, r, err)
		return
	}
	inc, err := re.optionalIncident(ctx, p)
	if err != nil {
		re.Fail(ctx, r, err)
		return
	}
	paused, ok := re.pausedFirst(ctx, r, job.DryRun, noPause)
	if !ok {
		return
	}
	check := re.checkWebhook(ctx)
	if !job.DryRun && (check.Signed.Problem != "" || check.Signed.Status == 401 || check.Signed.Status == 403) {
		re.ReplyText(ctx, r, "Resync not started: the endpoint check failed.\n"+render.WebhookCheckText(check))
		return
	}
	re.startResync(ctx, r, inc, job, check, paused)
}

func (re *Resync) resyncStatus(ctx context.Context, r Req) {
	j, err := re.resync.Current(ctx)
	if err != nil {
		re.Fail(ctx, r, err)
		return
	}
	if j == nil {
		re.ReplyText(ctx, r, "No resync has run yet.")
		return
	}
	re.ReplyText(ctx, r, render.ResyncText(j, 0, re.now()))
}

// resyncJob reads the job's flags.
func resyncJob(r Req, p Parsed) (job resync.Job, noPause bool, err error) {
	job = resync.Job{By: r.Who}
	for i := 0; i < len(p.Args); i++ {
		switch p.Args[i] {
		case "--dry-run":
			job.DryRun = true
		case "--no-pause":
			noPause = true
		case "--since":
			if i+1 >= len(p.Args) {
				return job, false, &UsageError{Problem: "--since needs a date such as 2026-11-24T00:00:00Z.", Usage: p.Sub.Usage}
			}
			t, err := time.Parse(time.RFC3339, p.Args[i+1])
			if err != nil {
				return job, false, &UsageError{Problem: fmt.Sprintf("%q is not an RFC 3339 date such as 2026-11-24T00:00:00Z.", render.Esc(p.Args[i+1])), Usage: p.Sub.Usage}
			}
			job.Since = t
			i++
		default:
			return job, false, &UsageError{Problem: fmt.Sprintf("%q: say --dry-run, --since &lt;date&gt;, --no-pause, status or cancel.", render.Esc(p.Args[i])), Usage: p.Sub.Usage}
		}
	}
	return job, noPause, nil
}

// pausedFirst asks to pause webhook processing first (Procedure 3) unless
// it is paused, the run is dry or --no-pause says not to; paused is the
// reply's note when it is paused.
func (re *Resync) pausedFirst(ctx context.Context, r Req, dryRun, noPause bool) (paused string, ok bool) {
	if re.webhooks == nil || dryRun {
		return "", true
	}
	st, err := re.webhooks.Get(ctx)
	if err != nil {
		re.Fail(ctx, r, err)
		return "", false
	}
	if !st.Paused && !noPause {
		// Procedure 3 pauses first: a live delivery racing the resync
		// could be overwritten by an older copy of the same user.
		re.ReplyText(ctx, r, "Webhook processing is not paused, so Clerk's live deliveries would race this resync. Pause first?\n"+
			"• `/clerk-incident webhooks pause &lt;reason&gt;`, then `/clerk-incident resync` again (its own deliveries still go through), or\n"+
			"• `/clerk-incident resync --no-pause` to resync without pausing.\nNothing was started.")
		return "", false
	}
	if st.Paused {
		paused = "\nWebhook processing is paused since " + render.SlackDate(st.Since) + ": `/clerk-incident webhooks resume` when this is done."
	}
	return paused, true
}

// startResync starts the job and posts its progress message.
func (re *Resync) startResync(ctx context.Context, r Req, inc *incident.Incident, job resync.Job, check resync.CheckResult, paused string) {
	if inc != nil {
		inc = re.pub.WithCard(ctx, inc)
		job.Incident = inc.ID
	}
	started, err := re.resync.Start(ctx, job)
	if errors.Is(err, resync.ErrRunning) {
		cur, _ := re.resync.Current(ctx)
		msg := "A resync is already running; `/clerk-incident resync status` shows it, `resync cancel` stops it."
		if cur != nil {
			msg = render.ResyncText(cur, 0, re.now()) + "\n" + msg
		}
		re.ReplyText(ctx, r, msg)
		return
	}
	if err != nil {
		re.Fail(ctx, r, err)
		return
	}
	channel, thread := re.channel, ""
	if inc != nil {
		channel, thread = inc.Channel, inc.CardTS
		// Work in flight until it ends: `resolve` and the report name it.
		_, _ = re.incidents.Update(ctx, inc.ID, incident.StartWork(r.Who, incident.Work{ID: started.ID, What: usecase.ResyncWork(started)},
			fmt.Sprintf("Resync %s started%s", started.ID, map[bool]string{true: " (dry run)", false: ""}[job.DryRun])))
	}
	if channel == "" {
		channel = r.Channel
	}
	if ts, err := re.pub.PostResyncProgress(ctx, channel, thread, started); err == nil {
		_ = re.resync.SetProgressMessage(ctx, started.ID, channel, thread, ts)
	}
	note := ""
	if job.DryRun {
		note = "\n" + render.WebhookCheckText(check)
	}
	// The next sweep (within a second, on whichever replica gets the
	// lease) runs it, so it survives this handler and any restart.
	re.ReplyText(ctx, r, fmt.Sprintf(":arrows_counterclockwise: Resync %s started; progress is posted in the thread. `resync status` and `resync cancel` work from any replica.%s%s", started.ID, paused, note))
}
