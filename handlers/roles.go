package handlers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/slack-go/slack"
)

// The roles family: who commands, who writes the updates, the reminders
// to write them, and a first draft of one.

func rolesCommands() []Sub {
	return []Sub{
		{Name: "role", Usage: "/clerk-incident role [INC-n] commander|comms <@user>", Summary: "name the incident commander or the comms person (on the card, reminded to post updates)", Who: OnIncident,
			Run:   (*Handlers).role,
			Verbs: []string{"commander", "comms"}},
		{Name: "update", Usage: "/clerk-incident update draft [INC-n]", Summary: "draft a customer-facing status update from the incident", Who: OnIncident,
			Run:   (*Handlers).update,
			Verbs: []string{"draft"}},
	}
}

func rolesButtons() []Button {
	return []Button{
		{ActionID: render.ActRemindDraft, Who: OnIncident, Run: withButtonIncident((*Handlers).draft), Label: "draft an update"},
		{ActionID: render.ActRemindSnooze, Who: OnIncident, Run: withButtonIncident((*Handlers).snooze), Label: "snooze the reminder"},
		{ActionID: render.ActDraftEdit, Who: OnIncident, Quiet: true, Run: (*Handlers).draftEdit, Label: "edit the draft"},
		{ActionID: render.ActDraftPost, Who: OnIncident, Run: withButtonIncident((*Handlers).draftPost), Label: "post the update"},
		{ActionID: render.ActDraftDiscard, Who: OnIncident, Run: withButtonIncident((*Handlers).draftDiscard), Label: "discard the draft"},
		{ActionID: "view:" + render.ViewDraftEdit, Who: OnIncident, Run: (*Handlers).draftSaved, Label: "save the draft"},
	}
}

// Modals opens Slack modals (bot.Slack).
type Modals interface {
	OpenView(ctx context.Context, triggerID string, v slack.ModalViewRequest) error
}

// StatusPage posts customer updates to a hosted status page (statuspage).
type StatusPage interface {
	// Create marks the incident with ref (our INC-n) and finds it by that
	// instead of creating it twice.
	Create(ctx context.Context, ref, name, status, body, impact string) (string, error)
	Update(ctx context.Context, id, status, body string) error
}

var mention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$`)

func (h *Handlers) role(ctx context.Context, r req, p Parsed) {
	if len(p.Args) != 2 || (p.Form() != incident.RoleCommander && p.Form() != incident.RoleComms) {
		h.fail(ctx, r, &UsageError{Problem: "Say which role and who, e.g. `role comms @dana`.", Usage: p.Sub.Usage})
		return
	}
	m := mention.FindStringSubmatch(p.Args[1])
	if m == nil {
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a Slack mention; type @ and pick the person.", p.Args[1]), Usage: p.Sub.Usage})
		return
	}
	who := incident.Person{ID: m[1], Name: m[2]}
	if who.Name == "" && h.contacts != nil {
		who.Name = h.contacts.Names()[who.ID]
	}
	who = h.person(ctx, who)
	role := p.Form()
	h.withIncident(ctx, r, p, false, func(ctx context.Context, r req, id string) {
		// Someone named to a role may act on this incident (OnIncident
		// accepts them): say so when that is new to them.
		extra := ""
		if ok, err := h.auth.Allowed(ctx, who.ID); !ok && err == nil && !h.onLadder(ctx, id, who.ID) {
			extra = fmt.Sprintf(" %s is not in SLACK_RESPONDERS; as %s of %s they may now act on this incident (post updates, note, tick, resolve…), and on no other.",
				render.Who(who), role, id)
		}
		h.change(ctx, r, id, incident.SetRole(r.who, role, who),
			fmt.Sprintf(":busts_in_silhouette: %s named %s %s.%s", render.Who(r.who), render.Who(who), role, extra),
			fmt.Sprintf("%s is now %s of %s.%s", render.Who(who), role, id, extra))
	})
}

// namedOn reports whether user is the incident's commander or comms
// person: naming someone to a role lets them act on that incident.
func (h *Handlers) namedOn(ctx context.Context, id, user string) bool {
	inc, err := h.store.Current(ctx, id)
	if err != nil {
		return false
	}
	return (inc.Commander != nil && inc.Commander.ID == user) || (inc.Comms != nil && inc.Comms.ID == user)
}

func (h *Handlers) update(ctx context.Context, r req, p Parsed) {
	if p.Form() != "draft" {
		h.fail(ctx, r, &UsageError{Problem: "Say `update draft`.", Usage: p.Sub.Usage})
		return
	}
	if len(p.Args) == 2 && p.ID == "" {
		if id, ok := incident.ParseID(p.Args[1]); ok {
			p.ID = id
		}
	}
	h.withIncident(ctx, r, p, true, func(ctx context.Context, r req, id string) { h.draft(ctx, r, id) })
}

// draft writes a customer-facing update from the incident and posts it
// in the thread with Edit, Post and Discard.
func (h *Handlers) draft(ctx context.Context, r req, id string) {
	inc, err := h.store.Current(ctx, id)
	if err != nil {
		h.fail(ctx, r, withID(err, id))
		return
	}
	next := h.updateEvery[inc.Severity]
	if next == 0 {
		next = time.Hour
	}
	text := render.DraftUpdate(inc, h.rb.Spec(inc.Category), next, h.now())
	if inc.Channel == "" {
		h.replyText(ctx, r, "*Draft customer update for "+id+"*:\n```"+text+"```")
		return
	}
	ts, err := h.pub.Posts.PostDraft(ctx, inc, text)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if err := h.store.SetDraft(ctx, id, incident.Draft{Text: text, TS: ts, By: r.who}); err != nil {
		h.fail(ctx, r, err)
		return
	}
	h.replyText(ctx, r, fmt.Sprintf(":memo: A draft update for %s is in its thread: Edit it, then Post it%s.", id, h.postTargets()))
}

// postTargets names where Post sends an update.
func (h *Handlers) postTargets() string {
	var where []string
	if h.updateChannel != "" {
		where = append(where, "<#"+h.updateChannel+">")
	}
	if h.statusPage != nil {
		where = append(where, "the status page")
	}
	if len(where) == 0 {
		return " (set STATUS_UPDATE_CHANNEL or STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID to say where)"
	}
	return " to " + strings.Join(where, " and ")
}

func (h *Handlers) draftEdit(ctx context.Context, r req, a bot.Action) {
	id, ok := incident.ParseID(a.Value)
	if !ok {
		h.replyText(ctx, r, "That button does not name a valid incident; nothing changed.")
		return
	}
	d, err := h.store.GetDraft(ctx, id)
	if err != nil {
		h.replyText(ctx, r, fmt.Sprintf("There is no draft for %s any more (posted or discarded); `/clerk-incident update draft %s` writes a new one.", id, id))
		return
	}
	if h.modals == nil || a.TriggerID == "" {
		h.replyText(ctx, r, "Editing needs Slack's modals; copy the draft, change it, and `note` it instead.")
		return
	}
	if err := h.modals.OpenView(ctx, a.TriggerID, render.DraftModal(id, d.Version(), d.Text)); err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && se.Err == "exchanged_trigger_id" {
			// Slack takes each click's trigger_id once; this one was used.
			h.replyText(ctx, r, "That click already opened the editor once (Slack lets one click open one window); click Edit again to edit the draft. The draft is unchanged.")
			return
		}
		if errors.As(err, &se) && (se.Err == "expired_trigger_id" || se.Err == "invalid_trigger_id") {
			// Slack takes a modal only within 3 s of the click.
			h.replyText(ctx, r, "Slack took too long to open the editor (it allows 3 seconds after the click); click Edit again. The draft is unchanged.")
			return
		}
		h.fail(ctx, r, err)
	}
}

// draftSaved takes the modal's text as the new draft, unless the draft
// it was opened on was posted or replaced since (CheckView refused that in
// the modal already; this catches a change in between).
func (h *Handlers) draftSaved(ctx context.Context, r req, a bot.Action) {
	id, version, ok := render.DraftMeta(a.Value)
	text := strings.TrimSpace(a.ViewText)
	if !ok || text == "" {
		return // nothing to save; the modal closed
	}
	if n := len([]rune(text)); n > 2900 {
		text = string([]rune(text)[:2900])
	}
	d, err := h.store.EditDraft(ctx, id, func(d *incident.Draft) error {
		if version != "" && d.Version() != version && d.Text != text {
			return incident.ErrDraftChanged
		}
		d.Text, d.By = text, r.who
		return nil
	})
	if err != nil {
		if msg := draftRefusal(id, err); msg != "" {
			h.replyText(ctx, r, msg)
			return
		}
		h.fail(ctx, r, withID(err, id))
		return
	}
	if inc, err := h.store.Current(ctx, id); err == nil {
		_ = h.pub.Posts.ShowDraft(ctx, inc, d.TS, render.DraftMsg(id, text))
	}
}

// CheckView answers a draft edit in the modal itself (bot.ViewChecker,
// before the ack): a draft posted, discarded or replaced since the editor
// opened is not overwritten, and the modal stays open with the text.
func (h *Handlers) CheckView(ctx context.Context, a bot.Action) map[string]string {
	if a.ActionID != "view:"+render.ViewDraftEdit {
		return nil
	}
	id, version, ok := render.DraftMeta(a.Value)
	if !ok {
		return nil
	}
	d, err := h.store.GetDraft(ctx, id)
	if err == nil && version != "" && d.Version() != version && d.Text != strings.TrimSpace(a.ViewText) {
		err = incident.ErrDraftChanged
	}
	if msg := draftRefusal(id, err); msg != "" {
		return map[string]string{render.DraftBlock: msg}
	}
	return nil // a store error: the save says what went wrong
}

// draftRefusal is what a refused draft edit says; "" for other errors.
func draftRefusal(id string, err error) string {
	switch {
	case errors.Is(err, incident.ErrNotFound):
		return fmt.Sprintf("This draft was already posted or discarded, so your text was not saved. Copy it, close this window, and /clerk-incident update draft %s writes a new draft to edit.", id)
	case errors.Is(err, incident.ErrDraftChanged):
		return "The draft changed since you opened it (a newer draft, or someone else's edit), so your text was not saved. Copy it, close this window, and click Edit on the draft again."
	}
	return ""
}

func (h *Handlers) draftDiscard(ctx context.Context, r req, id string) {
	d, err := h.store.GetDraft(ctx, id)
	if err != nil {
		h.replyText(ctx, r, "That draft was already posted or discarded.")
		return
	}
	if first, _ := h.store.ClearDraft(ctx, id); !first {
		return
	}
	if inc, err := h.store.Current(ctx, id); err == nil {
		_ = h.pub.Posts.ShowDraft(ctx, inc, d.TS, render.DraftDoneMsg(id, d.Text, "discarded by "+render.Who(r.who)))
	}
}

// draftPost sends the draft to the announcement channel and the status
// page, ticks "Notify users via status page", and counts as an update.
func (h *Handlers) draftPost(ctx context.Context, r req, id string) {
	if h.updateChannel == "" && h.statusPage == nil {
		h.replyText(ctx, r, "Nowhere to post: set STATUS_UPDATE_CHANNEL (the announcement channel) and/or STATUSPAGE_API_KEY with STATUSPAGE_PAGE_ID. The draft is kept.")
		return
	}
	d, err := h.store.GetDraft(ctx, id)
	if err != nil {
		h.replyText(ctx, r, "That draft was already posted or discarded.")
		return
	}
	// Claim it: a second click on Post finds no draft and posts nothing.
	if first, err := h.store.ClearDraft(ctx, id); err != nil || !first {
		h.replyText(ctx, r, "That draft was already posted or discarded.")
		return
	}
	inc, err := h.store.Current(ctx, id)
	if err != nil {
		h.fail(ctx, r, withID(err, id))
		return
	}
	var where, failed []string
	if h.updateChannel != "" {
		if err := h.pub.Posts.AnnounceUpdate(ctx, h.updateChannel, id, d.Text); err != nil {
			msg, _ := Sentence(err)
			failed = append(failed, "<#"+h.updateChannel+">: "+msg)
		} else {
			where = append(where, "<#"+h.updateChannel+">")
		}
	}
	spID := inc.StatuspageID
	if h.statusPage != nil {
		var err error
		spID, err = h.postStatusPage(ctx, id, d.Text)
		if err != nil {
			msg, _ := Sentence(err)
			failed = append(failed, "the status page: "+msg)
			spID = inc.StatuspageID
		} else {
			where = append(where, "the status page")
		}
	}
	if len(where) == 0 {
		_ = h.store.SetDraft(ctx, id, d) // nothing went out: keep it for another try
		h.replyText(ctx, r, ":x: The update was not posted: "+strings.Join(failed, "; "))
		return
	}
	plainWhere := strings.NewReplacer("<#", "#", ">", "").Replace(strings.Join(where, " and "))
	updated, err := h.store.UpdateThen(ctx, id, incident.UpdatePosted(r.who, plainWhere, spID),
		incident.After{Line: fmt.Sprintf(":mega: %s posted the customer update to %s.", render.Who(r.who), strings.Join(where, " and ")), Render: true})
	if err == nil {
		_ = h.pub.Cards.Changed(ctx, updated)
	}
	h.pub.Ticks.AutoTick(ctx, id, r.who, incident.StepNotifyUsers, "update")
	_ = h.pub.Posts.ShowDraft(ctx, inc, d.TS, render.DraftDoneMsg(id, d.Text, "posted to "+strings.Join(where, " and ")+" by "+render.Who(r.who)))
	msg := ":white_check_mark: Posted to " + strings.Join(where, " and ") + "."
	if len(failed) > 0 {
		msg += " :warning: Not posted to " + strings.Join(failed, "; ")
	}
	h.replyText(ctx, r, msg)
}

func statuspageStatus(s incident.Status) string {
	switch s {
	case incident.Mitigated:
		return "monitoring"
	case incident.Resolved:
		return "resolved"
	}
	return "investigating"
}

func statuspageImpact(s incident.Severity) string {
	switch s {
	case incident.P1:
		return "critical"
	case incident.P2:
		return "major"
	}
	return "minor"
}

// snooze holds the update reminders off for 30 minutes. A snooze that did
// not happen says why, and only that.
func (h *Handlers) snooze(ctx context.Context, r req, id string) {
	inc, err := h.store.UpdateThen(ctx, id, incident.Snooze(r.who, 30*time.Minute), incident.After{Render: true})
	switch {
	case errors.Is(err, incident.ErrAlreadyResolved):
		r.setOutcome("refused: resolved")
		h.replyText(ctx, r, fmt.Sprintf("%s is resolved, so it has no update reminders to snooze; nothing changed.", id))
		return
	case err != nil:
		msg, internal := Sentence(withID(err, id))
		if internal {
			h.log.WithError(err).WithField("incident", id).Warn("could not snooze update reminders")
		}
		r.setOutcome("failed")
		h.replyText(ctx, r, "The update reminders of "+id+" were not snoozed: "+msg)
		return
	}
	_ = h.pub.Cards.Changed(ctx, inc)
	h.replyText(ctx, r, fmt.Sprintf(":zzz: Update reminders for %s are snoozed for 30 minutes, until %s UTC.", id, inc.SnoozedUntil.UTC().Format("15:04")))
}
