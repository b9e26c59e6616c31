package commands

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/reminder"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/slack-go/slack"
)

// The roles family: who commands, who writes the updates, the reminders
// to write them, and a first draft of one.

const rolesTitle = "Roles and updates"

// People gives someone the one name they go by (the publisher's names).
type People interface {
	Person(ctx context.Context, who incident.Person) incident.Person
}

// Roles names the incident commander and the comms person.
type Roles struct {
	*Kit
	names  map[string]string // contacts.yml names by Slack ID
	people People            // nil: names as given
	access *Access
}

// NewRoles wires the family; names are contacts.yml's (nil without one).
func NewRoles(k *Kit, names map[string]string, people People, access *Access) *Roles {
	return &Roles{Kit: k, names: names, people: people, access: access}
}

// Title implements Family.
func (ro *Roles) Title() string { return rolesTitle }

// Commands implements Family.
func (ro *Roles) Commands() []Sub {
	return []Sub{
		{Name: "role", Usage: "/clerk-incident role [INC-n] commander|comms <@user>", Summary: "name the incident commander or the comms person (on the card, reminded to post updates)", Who: OnIncident,
			Run:   ro.role,
			Verbs: []string{"commander", "comms"}},
	}
}

// Buttons implements Family.
func (ro *Roles) Buttons() []Button { return nil }

// DraftKeeper keeps a new draft before its message is posted.
type DraftKeeper interface {
	GetDraft(ctx context.Context, id string) (incident.Draft, error)
	SetDraft(ctx context.Context, id string, d incident.Draft) error
	ShownAt(ctx context.Context, id, token, ts string) error
	TakeBack(ctx context.Context, id, token string, prev *incident.Draft) error
}

// DraftPoster posts a draft in the thread.
type DraftPoster interface {
	PostDraft(ctx context.Context, inc *incident.Incident, text string) (string, error)
	Changed(ctx context.Context, inc *incident.Incident) error
}

// Updates drafts customer updates and snoozes their reminders.
type Updates struct {
	*Kit
	store       DraftKeeper
	pub         DraftPoster
	rb          *incident.Runbook
	updateEvery reminder.Intervals
	drafts      *Drafts // where Post sends an update
}

// NewUpdates wires the family; every is UPDATE_REMINDER.
func NewUpdates(k *Kit, store DraftKeeper, pub DraftPoster, rb *incident.Runbook, every reminder.Intervals, drafts *Drafts) *Updates {
	return &Updates{Kit: k, store: store, pub: pub, rb: rb, updateEvery: every, drafts: drafts}
}

// Title implements Family.
func (u *Updates) Title() string { return rolesTitle }

// Commands implements Family.
func (u *Updates) Commands() []Sub {
	return []Sub{
		{Name: "update", Usage: "/clerk-incident update draft [INC-n]", Summary: "draft a customer-facing status update from the incident", Who: OnIncident,
			Run:   u.update,
			Verbs: []string{"draft"}},
	}
}

// Buttons implements Family.
func (u *Updates) Buttons() []Button {
	return []Button{
		{ActionID: render.ActRemindDraft, Who: OnIncident, Run: u.withButtonIncident(u.draft), Label: "draft an update"},
		{ActionID: render.ActRemindSnooze, Who: OnIncident, Run: u.withButtonIncident(u.snooze), Label: "snooze the reminder"},
	}
}

// DraftStore is what editing, posting and discarding need of the drafts.
type DraftStore interface {
	GetDraft(ctx context.Context, id string) (incident.Draft, error)
	SetDraft(ctx context.Context, id string, d incident.Draft) error
	ClearDraft(ctx context.Context, id string) (bool, error)
	EditDraft(ctx context.Context, id string, fn func(d *incident.Draft) error) (incident.Draft, error)
}

// DraftPublisher shows a draft's fate and sends the update out.
type DraftPublisher interface {
	ShowDraft(ctx context.Context, inc *incident.Incident, ts string, m bot.Msg) error
	AnnounceUpdate(ctx context.Context, channel, incID, text string) error
	Changed(ctx context.Context, inc *incident.Incident) error
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// Modals opens Slack modals (bot.Slack).
type Modals interface {
	OpenView(ctx context.Context, triggerID string, v slack.ModalViewRequest) error
}

// StatusPoster posts an update to the incident's public incident
// (usecase.StatusPages).
type StatusPoster interface {
	Post(ctx context.Context, id, text string) (string, error)
}

// Drafts edits, posts and discards a draft update.
type Drafts struct {
	*Kit
	store         DraftStore
	pub           DraftPublisher
	modals        Modals       // nil: Edit explains it cannot
	updateChannel string       // STATUS_UPDATE_CHANNEL
	statusPage    StatusPoster // nil without STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID
}

// DraftsDeps lists what the drafts need.
type DraftsDeps struct {
	Store         DraftStore
	Pub           DraftPublisher
	Modals        Modals
	UpdateChannel string
	StatusPage    StatusPoster
}

// NewDrafts wires the family.
func NewDrafts(k *Kit, d DraftsDeps) *Drafts {
	return &Drafts{Kit: k, store: d.Store, pub: d.Pub, modals: d.Modals, updateChannel: d.UpdateChannel, statusPage: d.StatusPage}
}

// Title implements Family.
func (dr *Drafts) Title() string { return rolesTitle }

// Commands implements Family.
func (dr *Drafts) Commands() []Sub { return nil }

// Buttons implements Family.
func (dr *Drafts) Buttons() []Button {
	return []Button{
		{ActionID: render.ActDraftEdit, Who: OnIncident, Quiet: true, Run: dr.draftEdit, Label: "edit the draft"},
		{ActionID: render.ActDraftPost, Who: OnIncident, Run: dr.onDraft(dr.draftPost), Label: "post the update"},
		{ActionID: render.ActDraftDiscard, Who: OnIncident, Run: dr.onDraft(dr.draftDiscard), Label: "discard the draft"},
		{ActionID: "view:" + render.ViewDraftEdit, Who: OnIncident, Run: dr.draftSaved, Label: "save the draft"},
	}
}

var mention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$`)

func (ro *Roles) role(ctx context.Context, r Req, p Parsed) {
	if len(p.Args) != 2 || (p.Form() != incident.RoleCommander && p.Form() != incident.RoleComms) {
		ro.Fail(ctx, r, &UsageError{Problem: "Say which role and who, e.g. `role comms @dana`.", Usage: p.Sub.Usage})
		return
	}
	m := mention.FindStringSubmatch(p.Args[1])
	if m == nil {
		ro.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a Slack mention; type @ and pick the person.", render.Esc(p.Args[1])), Usage: p.Sub.Usage})
		return
	}
	who := incident.Person{ID: m[1], Name: m[2]}
	if who.Name == "" {
		who.Name = ro.names[who.ID]
	}
	if ro.people != nil {
		who = ro.people.Person(ctx, who)
	}
	role := p.Form()
	ro.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
		// Someone named to a role may act on this incident (OnIncident
		// accepts them): say so when that is new to them.
		extra := ""
		if ok, err := ro.access.Responder(ctx, who.ID); !ok && err == nil && !ro.access.OnLadder(ctx, id, who.ID) {
			extra = fmt.Sprintf(" %s is not in SLACK_RESPONDERS; as %s of %s they may now act on this incident (post updates, note, tick, resolve…), and on no other.",
				render.Who(who), role, id)
		}
		ro.change(ctx, r, id, incident.SetRole(r.Who, role, who),
			fmt.Sprintf(":busts_in_silhouette: %s named %s %s.%s", render.Who(r.Who), render.Who(who), role, extra),
			fmt.Sprintf("%s is now %s of %s.%s", render.Who(who), role, id, extra))
	})
}

func (u *Updates) update(ctx context.Context, r Req, p Parsed) {
	if p.Form() != "draft" {
		u.Fail(ctx, r, &UsageError{Problem: "Say `update draft`.", Usage: p.Sub.Usage})
		return
	}
	if len(p.Args) == 2 && p.ID == "" {
		if id, ok := incident.ParseID(p.Args[1]); ok {
			p.ID = id
		}
	}
	u.withIncident(ctx, r, p, true, func(ctx context.Context, r Req, id string) { u.draft(ctx, r, id) })
}

// draft writes a customer-facing update from the incident and posts it
// in the thread with Edit, Post and Discard.
func (u *Updates) draft(ctx context.Context, r Req, id string) {
	inc, err := u.incidents.Current(ctx, id)
	if err != nil {
		u.Fail(ctx, r, withID(err, id))
		return
	}
	next := u.updateEvery[inc.Severity]
	if next == 0 {
		next = time.Hour
	}
	if !r.IsCommand && inc.Channel != "" {
		// A reminder's *Draft an update* never writes over a draft
		// waiting in the thread: it may hold comms' wording.
		if d, err := u.store.GetDraft(ctx, id); err == nil {
			u.ReplyText(ctx, r, fmt.Sprintf(":memo: A draft update for %s by %s is already in its thread, kept as written: Edit it, then Post it. (`/clerk-incident update draft %s` writes a fresh one in its place.)",
				id, render.Who(d.By), id))
			return
		}
	}
	text := render.DraftUpdate(inc, u.rb.Spec(inc.Category), next, u.now())
	if inc.Channel == "" {
		u.ReplyText(ctx, r, "*Draft customer update for "+id+"*:\n```"+text+"```")
		return
	}
	ts, token, err := u.keepAndPost(ctx, inc, text, r.Who)
	if err != nil {
		u.Fail(ctx, r, err)
		return
	}
	// A Post or Discard clicked before this knows ts took the ts from the
	// click; then the draft is gone and this changes nothing.
	if err := u.store.ShownAt(ctx, id, token, ts); err != nil {
		u.log.WithError(err).WithField("incident", id).Warn("could not record where the draft is shown")
	}
	u.ReplyText(ctx, r, fmt.Sprintf(":memo: A draft update for %s is in its thread: Edit it, then Post it%s.", id, u.drafts.postTargets()))
}

// keepAndPost keeps the draft, then posts its message: a Post clicked the
// moment the message shows must find the draft. When Slack refuses the
// message, the draft it replaced comes back (unless a newer one came).
func (u *Updates) keepAndPost(ctx context.Context, inc *incident.Incident, text string, who incident.Person) (ts, token string, err error) {
	var prev *incident.Draft
	if d, err := u.store.GetDraft(ctx, inc.ID); err == nil {
		prev = &d
	}
	token = rand.Text()
	if err := u.store.SetDraft(ctx, inc.ID, incident.Draft{Text: text, By: who, Token: token}); err != nil {
		return "", "", err
	}
	ts, err = u.pub.PostDraft(ctx, inc, text)
	if err != nil {
		if berr := u.store.TakeBack(ctx, inc.ID, token, prev); berr != nil {
			u.log.WithError(berr).WithField("incident", inc.ID).Warn("could not take back a draft whose message Slack refused")
		}
		return "", "", err
	}
	return ts, token, nil
}

// postTargets names where Post sends an update.
func (dr *Drafts) postTargets() string {
	var where []string
	if dr.updateChannel != "" {
		where = append(where, "<#"+dr.updateChannel+">")
	}
	if dr.statusPage != nil {
		where = append(where, "the status page")
	}
	if len(where) == 0 {
		return " (set STATUS_UPDATE_CHANNEL or STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID to say where)"
	}
	return " to " + strings.Join(where, " and ")
}

func (dr *Drafts) draftEdit(ctx context.Context, r Req, a bot.Action) {
	id, ok := incident.ParseID(a.Value)
	if !ok {
		dr.ReplyText(ctx, r, "That button does not name a valid incident; nothing changed.")
		return
	}
	d, err := dr.store.GetDraft(ctx, id)
	if err != nil {
		dr.ReplyText(ctx, r, fmt.Sprintf("There is no draft for %s any more (posted or discarded); `/clerk-incident update draft %s` writes a new one.", id, id))
		return
	}
	if dr.modals == nil || a.TriggerID == "" {
		dr.ReplyText(ctx, r, "Editing needs Slack's modals; copy the draft, change it, and `note` it instead.")
		return
	}
	if err := dr.modals.OpenView(ctx, a.TriggerID, render.DraftModal(id, d.Version(), d.Text)); err != nil {
		if why, ok := editorRefused(err, "draft"); ok {
			dr.ReplyText(ctx, r, why)
			return
		}
		dr.Fail(ctx, r, err)
	}
}

// editorRefused words Slack's refusal to open an editor for a click's
// trigger_id (what: "draft", "notice"), which clicking again mends.
func editorRefused(err error, what string) (string, bool) {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return "", false
	}
	switch se.Err {
	case "exchanged_trigger_id": // Slack takes each click's trigger_id once; this one was used
		return fmt.Sprintf("That click already opened the editor once (Slack lets one click open one window); click Edit again to edit the %s. The %s is unchanged.", what, what), true
	case "expired_trigger_id", "invalid_trigger_id": // Slack takes a modal only within 3 s of the click
		return fmt.Sprintf("Slack took too long to open the editor (it allows 3 seconds after the click); click Edit again. The %s is unchanged.", what), true
	}
	return "", false
}

// draftSaved takes the modal's text as the new draft, unless the draft
// it was opened on was posted or replaced since (CheckView refused that in
// the modal already; this catches a change in between).
func (dr *Drafts) draftSaved(ctx context.Context, r Req, a bot.Action) {
	id, version, ok := render.DraftMeta(a.Value)
	text := strings.TrimSpace(a.ViewText)
	if !ok || text == "" {
		return // nothing to save; the modal closed
	}
	if n := len([]rune(text)); n > 2900 {
		text = string([]rune(text)[:2900])
	}
	d, err := dr.store.EditDraft(ctx, id, func(d *incident.Draft) error {
		if version != "" && d.Version() != version && d.Text != text {
			return incident.ErrDraftChanged
		}
		d.Text, d.By = text, r.Who
		return nil
	})
	if err != nil {
		if msg := draftRefusal(id, err); msg != "" {
			dr.ReplyText(ctx, r, msg)
			return
		}
		dr.Fail(ctx, r, withID(err, id))
		return
	}
	if inc, err := dr.incidents.Current(ctx, id); err == nil {
		_ = dr.pub.ShowDraft(ctx, inc, d.TS, render.DraftMsg(id, text))
	}
}

// CheckView answers a draft edit in the modal itself (bot.ViewChecker,
// before the ack): a draft posted, discarded or replaced since the editor
// opened is not overwritten, and the modal stays open with the text.
func (dr *Drafts) CheckView(ctx context.Context, a bot.Action) map[string]string {
	if a.ActionID != "view:"+render.ViewDraftEdit {
		return nil
	}
	id, version, ok := render.DraftMeta(a.Value)
	if !ok {
		return nil
	}
	d, err := dr.store.GetDraft(ctx, id)
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

// onDraft runs a Post or Discard click with the clicked message's ts: a
// click that comes before `update draft` heard Slack's answer finds the
// draft without its ts.
func (dr *Drafts) onDraft(fn func(ctx context.Context, r Req, id, msgTS string)) func(ctx context.Context, r Req, a bot.Action) {
	return func(ctx context.Context, r Req, a bot.Action) {
		dr.withButtonIncident(func(ctx context.Context, r Req, id string) { fn(ctx, r, id, a.MessageTS) })(ctx, r, a)
	}
}

// getDraft reads the draft, shown where the click came from when its own
// ts is not known yet.
func (dr *Drafts) getDraft(ctx context.Context, id, msgTS string) (incident.Draft, error) {
	d, err := dr.store.GetDraft(ctx, id)
	if err == nil && d.TS == "" {
		d.TS = msgTS
	}
	return d, err
}

func (dr *Drafts) draftDiscard(ctx context.Context, r Req, id, msgTS string) {
	d, err := dr.getDraft(ctx, id, msgTS)
	if err != nil {
		dr.ReplyText(ctx, r, "That draft was already posted or discarded.")
		return
	}
	if first, _ := dr.store.ClearDraft(ctx, id); !first {
		return
	}
	if inc, err := dr.incidents.Current(ctx, id); err == nil {
		_ = dr.pub.ShowDraft(ctx, inc, d.TS, render.DraftDoneMsg(id, d.Text, "discarded by "+render.Who(r.Who)))
	}
}

// draftPost sends the draft to the announcement channel and the status
// page, ticks "Notify users via status page", and counts as an update.
func (dr *Drafts) draftPost(ctx context.Context, r Req, id, msgTS string) {
	if dr.updateChannel == "" && dr.statusPage == nil {
		dr.ReplyText(ctx, r, "Nowhere to post: set STATUS_UPDATE_CHANNEL (the announcement channel) and/or STATUSPAGE_API_KEY with STATUSPAGE_PAGE_ID. The draft is kept.")
		return
	}
	d, err := dr.getDraft(ctx, id, msgTS)
	if err != nil {
		dr.ReplyText(ctx, r, "That draft was already posted or discarded.")
		return
	}
	// Claim it: a second click on Post finds no draft and posts nothing.
	if first, err := dr.store.ClearDraft(ctx, id); err != nil || !first {
		dr.ReplyText(ctx, r, "That draft was already posted or discarded.")
		return
	}
	inc, err := dr.incidents.Current(ctx, id)
	if err != nil {
		dr.Fail(ctx, r, withID(err, id))
		return
	}
	var where, failed []string
	if dr.updateChannel != "" {
		if err := dr.pub.AnnounceUpdate(ctx, dr.updateChannel, id, d.Text); err != nil {
			msg, _ := Sentence(err)
			failed = append(failed, "<#"+dr.updateChannel+">: "+msg)
		} else {
			where = append(where, "<#"+dr.updateChannel+">")
		}
	}
	spID := inc.StatuspageID
	if dr.statusPage != nil {
		var err error
		spID, err = dr.statusPage.Post(ctx, id, d.Text)
		if err != nil {
			msg, _ := Sentence(err)
			failed = append(failed, "the status page: "+msg)
			spID = inc.StatuspageID
		} else {
			where = append(where, "the status page")
		}
	}
	if len(where) == 0 {
		_ = dr.store.SetDraft(ctx, id, d) // nothing went out: keep it for another try
		dr.ReplyText(ctx, r, ":x: The update was not posted: "+strings.Join(failed, "; "))
		return
	}
	plainWhere := strings.NewReplacer("<#", "#", ">", "").Replace(strings.Join(where, " and "))
	updated, err := dr.incidents.UpdateThen(ctx, id, incident.UpdatePosted(r.Who, plainWhere, spID, d.Text),
		incident.After{Line: fmt.Sprintf(":mega: %s posted the customer update to %s.", render.Who(r.Who), strings.Join(where, " and ")), Render: true})
	if err == nil {
		_ = dr.pub.Changed(ctx, updated)
	}
	dr.pub.AutoTick(ctx, id, r.Who, incident.StepNotifyUsers, "update")
	_ = dr.pub.ShowDraft(ctx, inc, d.TS, render.DraftDoneMsg(id, d.Text, "posted to "+strings.Join(where, " and ")+" by "+render.Who(r.Who)))
	msg := ":white_check_mark: Posted to " + strings.Join(where, " and ") + "."
	if len(failed) > 0 {
		msg += " :warning: Not posted to " + strings.Join(failed, "; ")
	}
	dr.ReplyText(ctx, r, msg)
}

// snooze holds the update reminders off for 30 minutes. A snooze that did
// not happen says why, and only that.
func (u *Updates) snooze(ctx context.Context, r Req, id string) {
	inc, err := u.incidents.UpdateThen(ctx, id, incident.Snooze(r.Who, 30*time.Minute), incident.After{Render: true})
	switch {
	case errors.Is(err, incident.ErrAlreadyResolved):
		r.SetOutcome("refused: resolved")
		u.ReplyText(ctx, r, fmt.Sprintf("%s is resolved, so it has no update reminders to snooze; nothing changed.", id))
		return
	case err != nil:
		msg, internal := Sentence(withID(err, id))
		if internal {
			u.log.WithError(err).WithField("incident", id).Warn("could not snooze update reminders")
		}
		r.SetOutcome("failed")
		u.ReplyText(ctx, r, "The update reminders of "+id+" were not snoozed: "+msg)
		return
	}
	_ = u.pub.Changed(ctx, inc)
	u.ReplyText(ctx, r, fmt.Sprintf(":zzz: Update reminders for %s are snoozed for 30 minutes, until %s UTC.", id, inc.SnoozedUntil.UTC().Format("15:04")))
}
