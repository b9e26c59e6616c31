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
func (h *Notices) Buttons() []Button {
	return []Button{
		{ActionID: render.ActNoticeEdit, Who: Responder, Quiet: true, Run: h.edit, Label: "edit the notice"},
		{ActionID: render.ActNoticePost, Who: Responder, Run: h.onNotice(h.final), Label: "make the notice final"},
		{ActionID: render.ActNoticeDiscard, Who: Responder, Run: h.onNotice(h.discard), Label: "discard the notice"},
		{ActionID: "view:" + render.ViewNoticeEdit, Who: Responder, Run: h.saved, Label: "save the notice"},
	}
}

// keep stores a new draft notice and posts it in the thread.
func (h *Notices) keep(ctx context.Context, inc *incident.Incident, text string, who incident.Person) error {
	if err := h.store.SetDraft(ctx, inc.ID, incident.Draft{Text: text, By: who}); err != nil {
		return err
	}
	ts, err := h.pub.PostNotice(ctx, inc, text)
	if err != nil {
		_, _ = h.store.ClearDraft(ctx, inc.ID)
		return err
	}
	_, err = h.store.EditDraft(ctx, inc.ID, func(d *incident.Draft) error {
		if d.TS == "" {
			d.TS = ts
		}
		return nil
	})
	return err
}

func (h *Notices) edit(ctx context.Context, r Req, a bot.Action) {
	id, ok := incident.ParseID(a.Value)
	if !ok {
		h.ReplyText(ctx, r, "That button does not name a valid incident; nothing changed.")
		return
	}
	d, err := h.store.GetDraft(ctx, id)
	if err != nil {
		h.ReplyText(ctx, r, fmt.Sprintf("There is no draft notice for %s any more (made final or discarded); `/clerk-incident notify draft %s` writes a new one.", id, id))
		return
	}
	if h.modals == nil || a.TriggerID == "" {
		h.ReplyText(ctx, r, "Editing needs Slack's modals; copy the notice and change it in your mail tool.")
		return
	}
	if err := h.modals.OpenView(ctx, a.TriggerID, render.NoticeModal(id, d.Version(), d.Text)); err != nil {
		h.Fail(ctx, r, err)
	}
}

// saved takes the modal's text as the notice, unless it changed since
// the editor opened.
func (h *Notices) saved(ctx context.Context, r Req, a bot.Action) {
	id, version, ok := render.DraftMeta(a.Value)
	text := strings.TrimSpace(a.ViewText)
	if !ok || text == "" {
		return
	}
	if n := len([]rune(text)); n > 2900 {
		text = string([]rune(text)[:2900])
	}
	d, err := h.store.EditDraft(ctx, id, func(d *incident.Draft) error {
		if version != "" && d.Version() != version && d.Text != text {
			return incident.ErrDraftChanged
		}
		d.Text, d.By = text, r.Who
		return nil
	})
	if err != nil {
		if msg := draftRefusal(id, err); msg != "" {
			h.ReplyText(ctx, r, strings.ReplaceAll(msg, "update draft", "notify draft"))
			return
		}
		h.Fail(ctx, r, withID(err, id))
		return
	}
	if inc, err := h.incidents.Current(ctx, id); err == nil {
		_ = h.pub.ShowDraft(ctx, inc, d.TS, render.NoticeMsg(id, text))
	}
}

func (h *Notices) onNotice(fn func(ctx context.Context, r Req, id, msgTS string)) func(ctx context.Context, r Req, a bot.Action) {
	return func(ctx context.Context, r Req, a bot.Action) {
		h.withButtonIncident(func(ctx context.Context, r Req, id string) { fn(ctx, r, id, a.MessageTS) })(ctx, r, a)
	}
}

// take claims the draft once: a second click finds none.
func (h *Notices) take(ctx context.Context, r Req, id, msgTS string) (incident.Draft, bool) {
	d, err := h.store.GetDraft(ctx, id)
	if err == nil && d.TS == "" {
		d.TS = msgTS
	}
	if err != nil {
		h.ReplyText(ctx, r, "That notice was already made final or discarded.")
		return d, false
	}
	if first, err := h.store.ClearDraft(ctx, id); err != nil || !first {
		h.ReplyText(ctx, r, "That notice was already made final or discarded.")
		return d, false
	}
	return d, true
}

func (h *Notices) final(ctx context.Context, r Req, id, msgTS string) {
	d, ok := h.take(ctx, r, id, msgTS)
	if !ok {
		return
	}
	inc, err := h.incidents.Current(ctx, id)
	if err != nil {
		h.Fail(ctx, r, withID(err, id))
		return
	}
	_, _ = h.incidents.Update(ctx, id, incident.Record(r.Who, "Notice to affected users made final: "+render.OneLine(render.Truncate(d.Text, 300))))
	_ = h.pub.ShowDraft(ctx, inc, d.TS, render.NoticeDoneMsg(id, d.Text, "final, by "+render.Who(r.Who)+"; send it from your mail tool"))
	h.pub.AutoTick(ctx, id, r.Who, incident.StepNotifyAffected, "notify draft")
	h.ReplyText(ctx, r, ":white_check_mark: The notice is final; send it to the addresses of `/clerk-incident notify draft "+id+"` from your mail tool.")
}

func (h *Notices) discard(ctx context.Context, r Req, id, msgTS string) {
	d, ok := h.take(ctx, r, id, msgTS)
	if !ok {
		return
	}
	if inc, err := h.incidents.Current(ctx, id); err == nil {
		_ = h.pub.ShowDraft(ctx, inc, d.TS, render.NoticeDoneMsg(id, d.Text, "discarded by "+render.Who(r.Who)))
	}
}
