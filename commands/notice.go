package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Notices edits the draft notice to affected users the way a customer
// update is edited: Edit opens a modal on the kept draft, Final marks the
// text the team sends from its mail tool, Discard drops it. A second
// click finds no draft and does nothing.

// NoticePublisher shows the notice draft and its fate.
type NoticePublisher interface {
	PostNotice(ctx context.Context, inc *incident.Incident, text string) (string, error)
	ShowDraft(ctx context.Context, inc *incident.Incident, ts string, m bot.Msg) error
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// Notices is the notice draft's buttons.
type Notices struct {
	*Kit
	store  DraftStore
	pub    NoticePublisher
	modals Modals            // nil: Edit explains it cannot
	rb     *incident.Runbook // the notice templates
}

// NewNotices wires the notice draft's buttons.
func NewNotices(k *Kit, store DraftStore, pub NoticePublisher, modals Modals, rb *incident.Runbook) *Notices {
	return &Notices{Kit: k, store: store, pub: pub, modals: modals, rb: rb}
}

// Buttons are the notice draft's rows of the button table.
func (no *Notices) Buttons() []Button {
	return []Button{
		{ActionID: render.ActNoticeEdit, Who: Responder, Quiet: true, Run: no.edit, Label: "edit the notice"},
		{ActionID: render.ActNoticePost, Who: Responder, Run: no.onNotice(no.final), Label: "make the notice final"},
		{ActionID: render.ActNoticeDiscard, Who: Responder, Run: no.onNotice(no.discard), Label: "discard the notice"},
		{ActionID: "view:" + render.ViewNoticeEdit, Who: Responder, Run: no.saved, Label: "save the notice"},
	}
}

// keep stores a new draft notice and posts it in the thread.
func (no *Notices) keep(ctx context.Context, inc *incident.Incident, text string, who incident.Person) error {
	if err := no.store.SetDraft(ctx, inc.ID, incident.Draft{Text: text, By: who}); err != nil {
		return err
	}
	ts, err := no.pub.PostNotice(ctx, inc, text)
	if err != nil {
		_, _ = no.store.ClearDraft(ctx, inc.ID)
		return err
	}
	_, err = no.store.EditDraft(ctx, inc.ID, func(d *incident.Draft) error {
		if d.TS == "" {
			d.TS = ts
		}
		return nil
	})
	return err
}

func (no *Notices) edit(ctx context.Context, r Req, a bot.Action) {
	id, ok := incident.ParseID(a.Value)
	if !ok {
		no.ReplyText(ctx, r, "That button does not name a valid incident; nothing changed.")
		return
	}
	d, err := no.store.GetDraft(ctx, id)
	if err != nil {
		no.ReplyText(ctx, r, fmt.Sprintf("There is no draft notice for %s any more (made final or discarded); `/clerk-incident notify draft %s` writes a new one.", id, id))
		return
	}
	if no.modals == nil || a.TriggerID == "" {
		no.ReplyText(ctx, r, "Editing needs Slack's modals; copy the notice and change it in your mail tool.")
		return
	}
	if err := no.modals.OpenView(ctx, a.TriggerID, render.NoticeModal(id, d.Version(), d.Text)); err != nil {
		if why, ok := editorRefused(err, "notice"); ok {
			no.ReplyText(ctx, r, why)
			return
		}
		no.Fail(ctx, r, err)
	}
}

// saved takes the modal's text as the notice, unless it changed since
// the editor opened.
func (no *Notices) saved(ctx context.Context, r Req, a bot.Action) {
	id, version, ok := render.DraftMeta(a.Value)
	text := strings.TrimSpace(a.ViewText)
	if !ok || text == "" {
		return
	}
	if n := len([]rune(text)); n > 2900 {
		text = string([]rune(text)[:2900])
	}
	d, err := no.store.EditDraft(ctx, id, func(d *incident.Draft) error {
		if version != "" && d.Version() != version && d.Text != text {
			return incident.ErrDraftChanged
		}
		d.Text, d.By = text, r.Who
		return nil
	})
	if err != nil {
		if msg := draftRefusal(id, err); msg != "" {
			no.ReplyText(ctx, r, strings.ReplaceAll(msg, "update draft", "notify draft"))
			return
		}
		no.Fail(ctx, r, withID(err, id))
		return
	}
	if inc, err := no.incidents.Current(ctx, id); err == nil {
		_ = no.pub.ShowDraft(ctx, inc, d.TS, render.NoticeMsg(id, text))
	}
}

func (no *Notices) onNotice(fn func(ctx context.Context, r Req, id, msgTS string)) func(ctx context.Context, r Req, a bot.Action) {
	return func(ctx context.Context, r Req, a bot.Action) {
		no.withButtonIncident(func(ctx context.Context, r Req, id string) { fn(ctx, r, id, a.MessageTS) })(ctx, r, a)
	}
}

// take claims the draft once: a second click finds none.
func (no *Notices) take(ctx context.Context, r Req, id, msgTS string) (incident.Draft, bool) {
	d, err := no.store.GetDraft(ctx, id)
	if err == nil && d.TS == "" {
		d.TS = msgTS
	}
	if err != nil {
		no.ReplyText(ctx, r, "That notice was already made final or discarded.")
		return d, false
	}
	if first, err := no.store.ClearDraft(ctx, id); err != nil || !first {
		no.ReplyText(ctx, r, "That notice was already made final or discarded.")
		return d, false
	}
	return d, true
}

func (no *Notices) final(ctx context.Context, r Req, id, msgTS string) {
	d, ok := no.take(ctx, r, id, msgTS)
	if !ok {
		return
	}
	inc, err := no.incidents.Current(ctx, id)
	if err != nil {
		no.Fail(ctx, r, withID(err, id))
		return
	}
	_, _ = no.incidents.Update(ctx, id, incident.Record(r.Who, "Notice to affected users made final: "+render.OneLine(render.Truncate(d.Text, 300))))
	_ = no.pub.ShowDraft(ctx, inc, d.TS, render.NoticeDoneMsg(id, d.Text, "final, by "+render.Who(r.Who)+"; send it from your mail tool"))
	no.pub.AutoTick(ctx, id, r.Who, incident.StepNotifyAffected, "notify draft")
	no.ReplyText(ctx, r, ":white_check_mark: The notice is final; send it to the addresses of `/clerk-incident notify draft "+id+"` from your mail tool.")
}

func (no *Notices) discard(ctx context.Context, r Req, id, msgTS string) {
	d, ok := no.take(ctx, r, id, msgTS)
	if !ok {
		return
	}
	if inc, err := no.incidents.Current(ctx, id); err == nil {
		_ = no.pub.ShowDraft(ctx, inc, d.TS, render.NoticeDoneMsg(id, d.Text, "discarded by "+render.Who(r.Who)))
	}
}
