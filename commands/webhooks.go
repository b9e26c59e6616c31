package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/webhookpause"
)

// The webhooks family: pause the app's processing of Clerk's webhooks
// while a resync repairs its data (Procedure 3, steps 2 and 6).

// WebhookPause is what the webhooks family needs of the webhook pause.
type WebhookPause interface {
	Get(ctx context.Context) (webhookpause.State, error)
	Pause(ctx context.Context, by, reason, incidentID string) (webhookpause.State, error)
	Resume(ctx context.Context) (webhookpause.State, error)
}

// PausePublisher tells the thread and the channel about a pause.
type PausePublisher interface {
	System(ctx context.Context, actor, action, detail, incidentID string)
	BypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string)
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
	Rerender(ctx context.Context, id string)
}

// Webhooks pauses and resumes the app's processing of Clerk's webhooks.
type Webhooks struct {
	*Kit
	webhooks WebhookPause // nil: not configured
	pub      PausePublisher
}

// NewWebhooks wires the family.
func NewWebhooks(k *Kit, pause WebhookPause, pub PausePublisher) *Webhooks {
	return &Webhooks{Kit: k, webhooks: pause, pub: pub}
}

// Title implements Family.
func (w *Webhooks) Title() string { return "Webhook processing" }

// Commands implements Family.
func (w *Webhooks) Commands() []Sub {
	return []Sub{
		{Name: "webhooks", Usage: "/clerk-incident webhooks pause [INC-n] <reason…> | resume [INC-n] | status",
			Summary: "pause the app's processing of Clerk's webhooks during a resync (apps reading GET /v1/webhooks answer them 503 and Svix retries them; the resync's own deliveries still go through), and resume it", Who: Responder,
			ReadForms: []string{"", "status"}, Run: w.webhooksCmd,
			Verbs: []string{"pause", "resume", "status"}, NoIDVerbs: []string{"status"}, Text: true},
	}
}

// Buttons implements Family.
func (w *Webhooks) Buttons() []Button { return nil }

func (w *Webhooks) webhooksCmd(ctx context.Context, r Req, p Parsed) {
	if w.webhooks == nil {
		w.ReplyText(ctx, r, "The webhook pause is not configured.")
		return
	}
	// The incident may follow the form too: `webhooks pause INC-2 …`.
	_, rest := SplitWord(p.Rest)
	if first, after := SplitWord(rest); first != "" && p.ID == "" {
		if id, ok := incident.ParseID(first); ok {
			p.ID, rest = id, after
		} else if strings.HasPrefix(strings.ToUpper(first), "INC-") {
			w.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not an incident ID (they look like INC-12)", render.Esc(first)), Usage: p.Sub.Usage})
			return
		}
	}
	switch p.Form() {
	case "", "status":
		st, err := w.webhooks.Get(ctx)
		if err != nil {
			w.Fail(ctx, r, err)
			return
		}
		if !st.Paused {
			w.ReplyText(ctx, r, ":arrow_forward: Webhook processing is *not paused*: the app handles Clerk's deliveries as they come.")
			return
		}
		w.ReplyText(ctx, r, render.WebhooksPausedLine(st))
	case "pause":
		w.webhooksPause(ctx, r, p, strings.TrimSpace(rest))
	case "resume":
		if rest != "" {
			w.Fail(ctx, r, &UsageError{Problem: "`webhooks resume` takes only an incident ID.", Usage: p.Sub.Usage})
			return
		}
		w.webhooksResume(ctx, r, p)
	default:
		w.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: say pause, resume or status.", render.Esc(p.Args[0])), Usage: p.Sub.Usage})
	}
}

func (w *Webhooks) webhooksPause(ctx context.Context, r Req, p Parsed, reason string) {
	if reason == "" {
		w.Fail(ctx, r, &UsageError{Problem: "Say why, such as `webhooks pause resync after the outage`.", Usage: p.Sub.Usage})
		return
	}
	if n := len([]rune(reason)); n > MaxText {
		w.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("The reason is %d characters; the limit is %d. Nothing changed.", n, MaxText), Usage: p.Sub.Usage})
		return
	}
	inc, err := w.optionalIncident(ctx, p)
	if err != nil {
		w.Fail(ctx, r, err)
		return
	}
	id := ""
	if inc != nil {
		id = inc.ID
	}
	by := r.Who.ID
	if !strings.HasPrefix(by, "U") && !strings.HasPrefix(by, "W") {
		by = r.Who.Name
	}
	st, err := w.webhooks.Pause(ctx, by, render.OneLine(reason), id)
	if errors.Is(err, webhookpause.ErrAlreadyPaused) {
		w.ReplyText(ctx, r, "Webhook processing is already paused; nothing changed.\n"+render.WebhooksPausedLine(st))
		return
	}
	if err != nil {
		w.Fail(ctx, r, err)
		return
	}
	w.log.WithField("incident", id).WithField("by", by).Warn("webhook processing paused")
	w.pub.System(ctx, r.Who.ID, "webhooks paused", st.Reason, id)
	if inc != nil {
		w.pub.BypassNotice(ctx, id, r.Who, "Webhook processing paused: "+st.Reason,
			fmt.Sprintf(":double_vertical_bar: %s *paused webhook processing*: %s. Apps reading `GET /v1/webhooks` answer Clerk's deliveries 503 and Svix retries each for about a day; the resync's own deliveries still go through.",
				render.Who(r.Who), render.Esc(st.Reason)))
		w.pub.AutoTick(ctx, id, r.Who, incident.StepPauseWebhooks, "webhooks pause")
		w.pub.Rerender(ctx, id)
	}
	w.ReplyText(ctx, r, ":double_vertical_bar: Webhook processing is paused. Run `/clerk-incident resync` now; `/clerk-incident webhooks resume` when it is done (you are reminded every 30 minutes until then).")
}

func (w *Webhooks) webhooksResume(ctx context.Context, r Req, p Parsed) {
	was, err := w.webhooks.Resume(ctx)
	if errors.Is(err, webhookpause.ErrNotPaused) {
		w.ReplyText(ctx, r, "Webhook processing is not paused; nothing changed.")
		return
	}
	if err != nil {
		w.Fail(ctx, r, err)
		return
	}
	// The step belongs to the incident named, else the pause's own.
	id := cmp.Or(p.ID, was.Incident)
	if id == "" {
		if inc, err := w.optionalIncident(ctx, p); err == nil && inc != nil {
			id = inc.ID
		}
	}
	w.log.WithField("incident", id).Warn("webhook processing resumed")
	w.pub.System(ctx, r.Who.ID, "webhooks resumed", "paused since "+was.Since.Format("2006-01-02T15:04:05Z07:00"), id)
	if id != "" {
		w.pub.BypassNotice(ctx, id, r.Who, "Webhook processing resumed",
			fmt.Sprintf(":arrow_forward: %s *resumed webhook processing* (paused since %s): the app handles Clerk's deliveries again and Svix's retries of the held ones arrive over the next hours.",
				render.Who(r.Who), render.SlackDate(was.Since)))
		w.pub.AutoTick(ctx, id, r.Who, incident.StepResumeWebhooks, "webhooks resume")
		w.pub.Rerender(ctx, cmp.Or(was.Incident, id))
	}
	w.ReplyText(ctx, r, ":arrow_forward: Webhook processing resumed.")
}
