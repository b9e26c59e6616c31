package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// The investigation family: look at one account, and keep the list of
// accounts an incident touched (for "notify affected users").

// Investigator looks at accounts in Clerk and records what the incident
// learned (usecase.Investigation).
type Investigator interface {
	Configured() bool
	Read(ctx context.Context, ref string) (account.Profile, []account.SessionInfo, error)
	Investigate(ctx context.Context, inc *incident.Incident, who incident.Person, ref string) (account.Profile, []account.SessionInfo, error)
	AddAffected(ctx context.Context, id string, refs []string, who incident.Person) ([]account.User, []string, error)
}

// AffectedStore keeps the accounts an incident touched, and the
// once-markers of shared answers.
type AffectedStore interface {
	RemoveAffected(ctx context.Context, id string, userIDs []string) (int, error)
	Affected(ctx context.Context, id string) ([]incident.AffectedUser, error)
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// SharePublisher posts what the asker chose to share, and files.
type SharePublisher interface {
	UploadToUser(ctx context.Context, user, name, title, content, comment string) error
	Thread(ctx context.Context, inc *incident.Incident, text string)
}

// Investigate is the investigation family's rows: one account looked at
// (UserLookup), and the accounts an incident touched (AffectedList).
type Investigate struct {
	lookup   *UserLookup
	affected *AffectedList
}

// UserLookup is `user` and the buttons under its answer: revoke, lock
// out, share.
type UserLookup struct {
	*Kit
	accounts Investigator
	shares   *Shares
	security *Security // the account buttons run its revoke and lockout
}

// AffectedList is `affected`: list, add, remove, export, and the share
// of an export.
type AffectedList struct {
	*Kit
	store      AffectedStore
	pub        SharePublisher
	accounts   Investigator
	unfinished Unfinished // nil: exports do not wait
	shares     *Shares
}

// ShareMarks lets each private answer be shared once (incident.Markers).
type ShareMarks interface {
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Shares is sharing a private answer with the responders only: who
// reads the thread, once per answer, recorded without personal data.
type Shares struct {
	*Kit
	once    ShareMarks
	pub     SharePublisher
	sharing Sharer
}

// Sharer shares personal data with the responders only (usecase.Sharing).
type Sharer interface {
	Readers(ctx context.Context, channel string) (usecase.Readers, error)
	Destination(ctx context.Context, inc *incident.Incident, asker string) (usecase.Destination, usecase.Readers, error)
	Post(ctx context.Context, d usecase.Destination, m bot.Msg) error
	Upload(ctx context.Context, d usecase.Destination, name, title, content, comment string) error
}

// NewInvestigate wires the family.
func NewInvestigate(k *Kit, store AffectedStore, pub SharePublisher, accounts Investigator, unfinished Unfinished, security *Security, sharing Sharer) *Investigate {
	shares := &Shares{Kit: k, once: store, pub: pub, sharing: sharing}
	return &Investigate{
		lookup:   &UserLookup{Kit: k, accounts: accounts, shares: shares, security: security},
		affected: &AffectedList{Kit: k, store: store, pub: pub, accounts: accounts, unfinished: unfinished, shares: shares},
	}
}

// Title implements Family.
func (i *Investigate) Title() string { return "Investigation" }

// Commands implements Family.
func (i *Investigate) Commands() []Sub {
	return []Sub{
		{Name: "user", Usage: "/clerk-incident user [INC-n] <user_… | e-mail>", Summary: "investigate an account: profile, active sessions by IP and country, outliers flagged", Who: Responder, Personal: true,
			Run: i.lookup.user},
		{Name: "affected", Usage: "/clerk-incident affected [INC-n] [add <users…> | remove <users…> | export]", Summary: "the accounts this incident touched; `export` sends them to you as CSV", Who: Responder, Personal: true,
			Run:   i.affected.affected,
			Verbs: []string{"add", "remove", "export"}},
	}
}

// Buttons implements Family.
func (i *Investigate) Buttons() []Button {
	return []Button{
		{ActionID: render.ActUserRevoke, Who: Responder, Run: i.lookup.userButton("revoke"), Label: "revoke all sessions"},
		{ActionID: render.ActUserLockout, Who: Responder, Run: i.lookup.userButton("lockout"), Label: "lock out"},
		{ActionID: render.ActShareUser, Who: Responder, Run: i.lookup.shareUser, Label: "share in the thread"},
		{ActionID: render.ActShareExport, Who: Responder, Run: i.affected.shareExport, Label: "share in the thread"},
		{ActionID: render.ActShareUserTo, Who: Responder, Run: i.lookup.shareUserTo, Label: "share with the responders"},
		{ActionID: render.ActShareExportTo, Who: Responder, Run: i.affected.shareExportTo, Label: "share with the responders"},
	}
}

func (u *UserLookup) user(ctx context.Context, r Req, p Parsed) {
	refs, inc, ok := oneUser(ctx, u.Kit, r, p, configured(u.accounts))
	if !ok {
		return
	}
	prof, sessions, err := u.accounts.Investigate(ctx, inc, r.Who, refs[0])
	if apperr.CodeOf(err) == apperr.NotFound {
		u.ReplyText(ctx, r, fmt.Sprintf("No Clerk user matches %s; nothing was looked up.", render.Esc(refs[0])))
		return
	}
	if err != nil {
		u.Fail(ctx, r, err)
		return
	}
	incID := ""
	if inc != nil {
		incID = inc.ID
	}
	// The answer names IPs and cities: the asker alone sees it, and may
	// share it in the thread.
	msg := render.UserMsg(incID, prof, sessions, u.now())
	if inc == nil || inc.Channel == "" {
		u.Reply(ctx, r, render.Private(msg, "", ""))
		return
	}
	u.Reply(ctx, r, render.Private(msg, render.ActShareUser, inc.ID+"|"+prof.ID))
}

// sharedOnce lets one private answer be shared once: a double click
// posts nothing twice.
func (s *Shares) sharedOnce(ctx context.Context, a bot.Action) bool {
	if a.MessageTS == "" {
		return true
	}
	first, err := s.once.Once(ctx, "share:"+a.ChannelID+":"+a.MessageTS, 24*time.Hour)
	return err != nil || first
}

// shareUser answers *Share in thread* under an investigation: it says
// who reads the thread, guests counted, and offers the responders only;
// IPs and cities never go where every member reads them.
func (u *UserLookup) shareUser(ctx context.Context, r Req, a bot.Action) {
	inc, _, ok := u.shareUserTarget(ctx, r, a)
	if !ok {
		return
	}
	u.shares.warnReaders(ctx, r, inc, "The investigation", render.ActShareUserTo, a.Value)
}

// warnReaders tells the clicker who reads inc's thread and offers the
// responders-only share (action, value).
func (s *Shares) warnReaders(ctx context.Context, r Req, inc *incident.Incident, what, action, value string) {
	readers, err := s.sharing.Readers(ctx, inc.Channel)
	if err != nil {
		s.Fail(ctx, r, err)
		return
	}
	s.Reply(ctx, r, render.ShareWarning(what, threadReaders(readers), action, value))
}

func threadReaders(r usecase.Readers) render.ThreadReaders {
	return render.ThreadReaders{Channel: r.Channel, Private: r.Private, People: r.People, Guests: r.Guests, Unchecked: r.Unchecked, Closed: r.Closed()}
}

// shareUserTarget reads a share button's "INC-n|user_…" (untrusted).
func (u *UserLookup) shareUserTarget(ctx context.Context, r Req, a bot.Action) (*incident.Incident, string, bool) {
	incPart, userID, ok := strings.Cut(a.Value, "|")
	id, okID := incident.ParseID(incPart)
	if !ok || !okID || !account.IsUserID(userID) {
		u.ReplyText(ctx, r, "That button's data is not valid; nothing was shared.")
		return nil, "", false
	}
	if !clerkReady(ctx, u.Kit, r, configured(u.accounts)) {
		return nil, "", false
	}
	inc, ok := u.shares.shareTarget(ctx, r, id)
	return inc, userID, ok
}

// shareUserTo posts an investigation, looked up afresh, for the
// responders only: the thread of a closed private channel, else a group
// DM of them; the thread records the share without personal data.
func (u *UserLookup) shareUserTo(ctx context.Context, r Req, a bot.Action) {
	inc, userID, ok := u.shareUserTarget(ctx, r, a)
	if !ok {
		return
	}
	prof, sessions, err := u.accounts.Read(ctx, userID)
	if err != nil {
		u.Fail(ctx, r, err)
		return
	}
	if !u.shares.sharedOnce(ctx, a) {
		u.ReplyText(ctx, r, "This investigation is already shared with the responders.")
		return
	}
	d, _, err := u.shares.sharing.Destination(ctx, inc, r.Who.ID)
	if err != nil {
		u.Fail(ctx, r, err)
		return
	}
	if err := u.shares.sharing.Post(ctx, d, render.UserMsg(inc.ID, prof, sessions, u.now())); err != nil {
		u.Fail(ctx, r, err)
		return
	}
	what := render.UserSummary(prof, sessions)
	u.shares.sharedDone(ctx, r, inc, d, what, usecase.InvestigatedLine("Shared with the responders the investigation of", prof.ID, sessions))
}

// sharedDone records a responders-only share on the timeline and, when
// it went to a group DM, in the thread; and tells the clicker.
func (s *Shares) sharedDone(ctx context.Context, r Req, inc *incident.Incident, d usecase.Destination, what, entry string) {
	_, _ = s.incidents.Update(ctx, inc.ID, incident.Record(r.Who, entry))
	if !d.Thread {
		s.pub.Thread(ctx, inc, render.SharedNote(r.Who, what, d.Users, false))
	}
	reply := fmt.Sprintf(":lock: Shared %s with the responders only (%s).", what, render.SharedNote(r.Who, what, d.Users, d.Thread))
	if d.Thread {
		reply = fmt.Sprintf(":lock: Shared %s in the %s thread: a private channel without guests.", what, inc.ID)
	}
	if len(d.Left) > 0 {
		reply += fmt.Sprintf(" A group DM takes 8 people: %d responder(s) were left out; share with them yourself if they need it.", len(d.Left))
	}
	s.ReplyText(ctx, r, reply)
}

// userButton runs revoke or lockout for the investigated user.
func (u *UserLookup) userButton(sub string) func(ctx context.Context, r Req, a bot.Action) {
	return func(ctx context.Context, r Req, a bot.Action) {
		incPart, userID, ok := strings.Cut(a.Value, "|")
		id, okID := incident.ParseID(incPart)
		if !ok || !account.IsUserID(userID) || (incPart != "" && !okID) {
			u.ReplyText(ctx, r, "That button's data is not valid; nothing was done.")
			return
		}
		s := rowNamed(u.security.Commands(), sub)
		rest := userID
		if sub == "lockout" {
			rest += " -- after investigating the account"
		}
		r.IsCommand = true // the clicker hears the outcome, as if they had typed it
		s.Run(ctx, r, Parsed{Sub: s, ID: id, Rest: rest, Args: strings.Fields(rest)})
	}
}

func (af *AffectedList) affected(ctx context.Context, r Req, p Parsed) {
	form := p.Form()
	args := p.Args
	if len(args) > 0 {
		args = args[1:]
	}
	if form == "export" && len(args) == 1 && p.ID == "" {
		if id, ok := incident.ParseID(args[0]); ok {
			p.ID, args = id, nil
		}
	}
	switch form {
	case "", "add", "remove", "export":
	default:
		af.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not something `affected` does.", render.Esc(form)), Usage: p.Sub.Usage})
		return
	}
	af.withIncident(ctx, r, p, form == "export" || form == "", func(ctx context.Context, r Req, id string) {
		switch form {
		case "":
			af.affectedList(ctx, r, id)
		case "export":
			af.affectedExport(ctx, r, id)
		case "add", "remove":
			refs, invalid := account.ParseRefs(strings.Join(args, " "))
			if len(refs) == 0 || len(invalid) > 0 {
				af.Fail(ctx, r, &UsageError{Problem: "Give Clerk user IDs (user_…) or e-mail addresses." + notRefs(invalid), Usage: p.Sub.Usage})
				return
			}
			if form == "add" {
				af.affectedAdd(ctx, r, id, refs)
			} else {
				af.affectedRemove(ctx, r, id, refs)
			}
		}
	})
}

func notRefs(invalid []string) string {
	if len(invalid) == 0 {
		return ""
	}
	return " Not one: " + refsText(invalid) + ". Nothing changed."
}

func (af *AffectedList) affectedList(ctx context.Context, r Req, id string) {
	users, err := af.store.Affected(ctx, id)
	if err != nil {
		af.Fail(ctx, r, err)
		return
	}
	if len(users) == 0 {
		af.ReplyText(ctx, r, fmt.Sprintf("No accounts are recorded as affected by %s yet. `user`, `revoke`, `lockout` and `unlock` record them, or `/clerk-incident affected %s add &lt;users…&gt;`.", id, id))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d account(s) affected by %s*", len(users), id)
	for i, u := range users {
		if i == 10 {
			fmt.Fprintf(&b, "\n…and %d more: `/clerk-incident affected export %s`", len(users)-10, id)
			break
		}
		var what []string
		for _, d := range u.Deeds {
			what = append(what, d.What)
		}
		label := u.ID
		if u.Email != "" {
			label = u.Email + " (" + u.ID + ")"
		}
		fmt.Fprintf(&b, "\n• %s: %s", render.Esc(label), strings.Join(what, ", "))
	}
	af.ReplyText(ctx, r, b.String())
}

func (af *AffectedList) affectedAdd(ctx context.Context, r Req, id string, refs []string) {
	users, unknown, err := af.accounts.AddAffected(ctx, id, refs, r.Who)
	if err != nil {
		af.Fail(ctx, r, err)
		return
	}
	msg := fmt.Sprintf(":white_check_mark: %d account(s) added to the affected list of %s.", len(users), id)
	if len(unknown) > 0 {
		msg += " Not found in Clerk, not added: " + refsText(unknown) + "."
	}
	af.ReplyText(ctx, r, msg)
}

func (af *AffectedList) affectedRemove(ctx context.Context, r Req, id string, refs []string) {
	users, err := af.store.Affected(ctx, id)
	if err != nil {
		af.Fail(ctx, r, err)
		return
	}
	var ids []string
	for _, ref := range refs {
		for _, u := range users {
			if strings.EqualFold(u.ID, ref) || (u.Email != "" && strings.EqualFold(u.Email, ref)) {
				ids = append(ids, u.ID)
			}
		}
	}
	n, err := af.store.RemoveAffected(ctx, id, ids)
	if err != nil {
		af.Fail(ctx, r, err)
		return
	}
	if n > 0 {
		_, _ = af.incidents.Update(ctx, id, incident.Record(r.Who, fmt.Sprintf("Affected accounts: %d removed by hand", n)))
	}
	af.ReplyText(ctx, r, fmt.Sprintf(":white_check_mark: %d account(s) removed from the affected list of %s.", n, id))
}

func (af *AffectedList) affectedExport(ctx context.Context, r Req, id string) {
	inc, err := af.incidents.Current(ctx, id)
	if err != nil {
		af.Fail(ctx, r, err)
		return
	}
	unfinished := af.awaitApproved(ctx, r, id)
	users, err := af.store.Affected(ctx, id)
	if err != nil {
		af.Fail(ctx, r, err)
		return
	}
	if len(users) == 0 {
		af.ReplyText(ctx, r, fmt.Sprintf("No accounts are recorded as affected by %s; there is nothing to export.", id))
		return
	}
	name := strings.ToLower(id) + "-affected-accounts.csv"
	csv := render.AffectedCSV(users)
	if r.Operator { // the break-glass CLI: the operator's terminal is private
		af.ReplyText(ctx, r, name+"\n"+csv)
		return
	}
	// E-mail addresses go to the asker alone: a file cannot be ephemeral,
	// so it goes to their direct message with the bot.
	if err := af.pub.UploadToUser(ctx, r.Who.ID, name, "Affected accounts of "+id, csv,
		fmt.Sprintf("%d affected account(s) of %s, for notifying them", len(users), id)); err != nil {
		af.Fail(ctx, r, err)
		return
	}
	_, _ = af.incidents.Update(ctx, id, incident.Record(r.Who, fmt.Sprintf("Affected accounts exported privately: %d", len(users))))
	text := fmt.Sprintf(":page_facing_up: %s is in your direct messages with the bot: %d account(s). :warning: It holds personal data (e-mail addresses and names); delete it from Slack once the users are notified.", name, len(users))
	if len(unfinished) > 0 {
		text += fmt.Sprintf(" :hourglass: %s was still being carried out: accounts it acts on from now are not in this file; export again once its result is in the thread.", approval.Describe(unfinished))
	}
	share := ""
	if inc.Channel != "" {
		share = id
	}
	af.Reply(ctx, r, render.Private(render.Text(text), render.ActShareExport, share))
}

// approvedWait bounds how long an export waits for an approved action
// (a lockout) of its incident to be carried out.
const approvedWait = 2 * time.Minute

// Unfinished lists an incident's approved requests still being carried
// out (approval.Store).
type Unfinished interface {
	Unfinished(ctx context.Context, incidentID string) ([]*approval.Request, error)
}

// awaitApproved waits while an approved request of the incident is being
// carried out: a lockout records its accounts as affected when it ends,
// so an export taken right after the approval would miss them. It
// returns the requests still unfinished when the wait ends.
func (af *AffectedList) awaitApproved(ctx context.Context, r Req, id string) []string {
	src := af.unfinished
	if src == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, approvedWait)
	defer cancel()
	told := false
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		reqs, err := src.Unfinished(ctx, id)
		if err != nil || len(reqs) == 0 {
			return nil
		}
		if !told {
			var ids []string
			for _, ar := range reqs {
				ids = append(ids, ar.ID)
			}
			af.ReplyText(ctx, r, fmt.Sprintf(":hourglass: Waiting for %s (approved, being carried out) to finish, so the export includes its accounts.", approval.Describe(ids)))
			told = true
		}
		select {
		case <-ctx.Done():
			var ids []string
			for _, ar := range reqs {
				ids = append(ids, ar.ID)
			}
			return ids
		case <-tick.C:
		}
	}
}

// shareExport answers *Share in thread* under an export: who reads the
// thread, and the responders-only share; e-mails never go to everyone.
func (af *AffectedList) shareExport(ctx context.Context, r Req, a bot.Action) {
	id, ok := incident.ParseID(a.Value)
	if !ok {
		af.ReplyText(ctx, r, "That button does not name a valid incident; nothing was shared.")
		return
	}
	inc, ok := af.shares.shareTarget(ctx, r, id)
	if !ok {
		return
	}
	af.shares.warnReaders(ctx, r, inc, "The export (e-mail addresses and names)", render.ActShareExportTo, id)
}

// shareExportTo uploads the affected-accounts export for the responders
// only.
func (af *AffectedList) shareExportTo(ctx context.Context, r Req, a bot.Action) {
	id, ok := incident.ParseID(a.Value)
	if !ok {
		af.ReplyText(ctx, r, "That button does not name a valid incident; nothing was shared.")
		return
	}
	inc, ok := af.shares.shareTarget(ctx, r, id)
	if !ok {
		return
	}
	users, err := af.store.Affected(ctx, id)
	if err != nil {
		af.Fail(ctx, r, err)
		return
	}
	if len(users) == 0 {
		af.ReplyText(ctx, r, fmt.Sprintf("No accounts are recorded as affected by %s any more; nothing was shared.", id))
		return
	}
	if !af.shares.sharedOnce(ctx, a) {
		af.ReplyText(ctx, r, "This export is already shared with the responders.")
		return
	}
	d, _, err := af.shares.sharing.Destination(ctx, inc, r.Who.ID)
	if err != nil {
		af.Fail(ctx, r, err)
		return
	}
	name := strings.ToLower(id) + "-affected-accounts.csv"
	if err := af.shares.sharing.Upload(ctx, d, name, "Affected accounts of "+id, render.AffectedCSV(users),
		fmt.Sprintf("%d affected account(s) of %s, shared by %s. It holds personal data: delete it once the users are notified.", len(users), id, render.Who(r.Who))); err != nil {
		af.Fail(ctx, r, err)
		return
	}
	what := fmt.Sprintf("the affected-accounts export of %s (%d account(s))", id, len(users))
	af.shares.sharedDone(ctx, r, inc, d, what, fmt.Sprintf("Affected accounts export shared with the responders: %d", len(users)))
}

// shareTarget is the incident whose thread a "Share in thread" click posts
// into; it tells the clicker when there is none.
func (s *Shares) shareTarget(ctx context.Context, r Req, id string) (*incident.Incident, bool) {
	inc, err := s.incidents.Current(ctx, id)
	if err != nil {
		s.Fail(ctx, r, err)
		return nil, false
	}
	if inc.Channel == "" {
		s.ReplyText(ctx, r, fmt.Sprintf("%s has no thread to share into; nothing was shared.", id))
		return nil, false
	}
	return inc, true
}
