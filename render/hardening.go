package render

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Secret is a rotated secret and what it is for, for one person's eyes.
type Secret struct {
	What, Value, Incident, Request string
	OldUntil                       time.Time // zero: the old one stopped at once
	Kind                           string    // machine or oauth
}

// SecretMsg is the direct message that carries a new secret, once. Its
// notification text names only what was rotated, so the secret shows
// nowhere but inside the message.
func SecretMsg(s Secret) bot.Msg {
	old := "The old one stopped working at once."
	if !s.OldUntil.IsZero() {
		old = "The old key keeps working until " + SlackDate(s.OldUntil) + "; put the new one in place before then."
	}
	after := "Put it in the machine's secret store and redeploy what uses it."
	if s.Kind == "oauth" {
		after = "Put it in every OAuth client that uses this application."
	}
	text := fmt.Sprintf(":key: *New secret for %s* (%s, %s). Shown once, only to you; it is not kept by the bot.\n```%s```\n%s %s Delete this message once it is stored.",
		Esc(s.What), s.Incident, s.Request, Esc(s.Value), old, after)
	return bot.Msg{Text: "New secret for " + Esc(s.What), Blocks: []slack.Block{Section(text)}}
}

// ProtectText says Clerk Protect's switches as Clerk answered.
func ProtectText(p account.Protect) string {
	return fmt.Sprintf("Clerk Protect: rules *%s*, specter *%s*.", onOff(p.Rules), onOff(p.Specter))
}

// RestrictionsText says the instance's restrictions as Clerk answered.
func RestrictionsText(r account.Restrictions) string {
	return fmt.Sprintf("Clerk answered: disposable e-mail domains blocked *%s*, e-mail subaddresses blocked *%s*, blocklist *%s*, allowlist *%s*.",
		onOff(r.Disposable), onOff(r.Subaddresses), onOff(r.Blocklist), onOff(r.Allowlist))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// DashboardKeysURL is where the instance's own secret keys are rotated:
// the Backend API has no call for them.
const DashboardKeysURL = "https://dashboard.clerk.com/last-active?path=api-keys"

// InstanceKeyAdvice is `rotate` of the instance's own sk_live_ keys.
func InstanceKeyAdvice() string {
	return ":key: *The instance's own secret keys (`sk_live_…`) are rotated in the Clerk Dashboard*, not through the Backend API:\n" +
		"1. Open <" + DashboardKeysURL + "|Clerk Dashboard → API keys>, create a new secret key, and copy it.\n" +
		"2. Put it in the app's environment (`CLERK_SECRET_KEY` of every deployment and environment that used the old one) and redeploy.\n" +
		"3. Put it in this bot's own `CLERK_SECRET_KEY` (its Kubernetes secret) and restart it, or the bot loses Clerk.\n" +
		"4. Delete the old key in the Dashboard once nothing uses it; check the app's logs for 401s.\n" +
		"`rotate machine &lt;mch_…&gt;` and `rotate oauth &lt;oa_…&gt;` rotate machine and OAuth application secrets here, after approval."
}

// hardeningOutcome words the outcomes of Procedure 2's approved changes.
func hardeningOutcome(a *approval.Request) (string, bool) {
	o := a.Outcome
	switch {
	case a.Action == approval.ProtectOff && o.Status == approval.Done:
		return ":shield: *Protect off* (" + a.ID + "): " + Esc(o.Summary), true
	case a.Action == approval.BlockDomain && o.Status == approval.Done:
		return ":lock: *Blocked* (" + a.ID + "): " + Esc(o.Summary), true
	case a.Action == approval.Rotate && o.Status == approval.Done:
		return ":key: *Rotated* (" + a.ID + "): " + Esc(o.Summary), true
	}
	return "", false
}

// AccessReview is the private file of `access review`: every affected
// account's sessions (IP, city, country, device, last activity), trusted
// devices and the outliers `user` flags.
type AccessReview struct {
	User     incident.AffectedUser
	Profile  account.Profile
	Sessions []account.SessionInfo
	Devices  []account.TrustedDevice
	Err      string // the account could not be read
}

// AccessReviewFile renders the review as plain text.
func AccessReviewFile(incID string, reviews []AccessReview, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Access review of %s, %s\n%d affected account(s). Personal data: keep it private, delete it once done.\n", incID, now.UTC().Format("2006-01-02 15:04 UTC"), len(reviews))
	for _, r := range reviews {
		label := r.User.ID
		if r.User.Email != "" {
			label = r.User.Email + " (" + r.User.ID + ")"
		}
		fmt.Fprintf(&b, "\n== %s\n", label)
		if r.Err != "" {
			fmt.Fprintf(&b, "Could not be read: %s\n", r.Err)
			continue
		}
		p := r.Profile
		fmt.Fprintf(&b, "Banned: %t  Locked: %t  Two-factor: %t  Last sign-in: %s  Last active: %s\n", p.Banned, p.Locked, p.TwoFactor, stamp(p.LastSignIn), stamp(p.LastActive))
		g := account.GroupSessions(r.Sessions)
		fmt.Fprintf(&b, "Active sessions: %d\n", len(r.Sessions))
		for _, s := range r.Sessions {
			flag := ""
			if why, ok := g.Flagged[s.ID]; ok {
				flag = "  FLAGGED: " + why
			}
			fmt.Fprintf(&b, "- %s  IP %s  %s, %s  %s %s  last active %s%s\n", s.ID, orDash(s.IP), orDash(s.City), orDash(s.Country), orDash(s.Device), orDash(s.Browser), stamp(s.LastActive), flag)
		}
		fmt.Fprintf(&b, "Trusted devices (skip MFA): %d\n", len(r.Devices))
		for _, d := range r.Devices {
			fmt.Fprintf(&b, "- %s  %s %s  last used %s\n", d.ID, orDash(d.Platform), orDash(d.Name), stamp(msTime(d.LastUsed)))
		}
	}
	return b.String()
}

// AccessReviewSummary is what the asker reads beside the file: counts,
// no IPs or places.
func AccessReviewSummary(reviews []AccessReview) (sessions, flagged, devices, failed int) {
	for _, r := range reviews {
		if r.Err != "" {
			failed++
			continue
		}
		sessions += len(r.Sessions)
		flagged += len(account.GroupSessions(r.Sessions).Flagged)
		devices += len(r.Devices)
	}
	return sessions, flagged, devices, failed
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// NoticeDraft is the draft notice to affected users, from the runbook's
// template ({title}, {what}, {when}, {done}, {advice}).
// {title} is the public name of the problem (the runbook's public_title,
// else the category's name), never the incident's own title, which is
// written for responders.
func NoticeDraft(inc *incident.Incident, tmpl, title string, done []string, now time.Time) string {
	if tmpl == "" {
		tmpl = DefaultNotice
	}
	sort.Strings(done)
	did := "we secured your account"
	if len(done) > 0 {
		did = "we " + strings.Join(done, ", ")
	}
	started := inc.OpenedAt
	if started.IsZero() {
		started = now
	}
	return strings.NewReplacer("{title}", title, "{when}", started.UTC().Format("January 2, 2006"), "{done}", did).Replace(tmpl)
}

// DefaultNotice is the notice used when the runbook's category has none.
const DefaultNotice = "Subject: Important: a security incident affecting your account\n\n" +
	"On {when} we detected suspicious activity affecting your account ({title}). As a precaution, {done}. " +
	"Please sign in again and review your recent activity. If you reused your password elsewhere, change it there too. " +
	"Reply to this e-mail if you notice anything unusual."

// Action IDs of the notice draft's buttons (value: INC-n) and its modal.
const (
	ActNoticeEdit    = "notice_edit"
	ActNoticePost    = "notice_post"
	ActNoticeDiscard = "notice_discard"
	ViewNoticeEdit   = "notice_edit"
)

// NoticeMsg shows the draft notice to affected users with Edit, Final
// and Discard. It holds no address: those went to the asker alone.
func NoticeMsg(incID, text string) bot.Msg {
	body := fmt.Sprintf(":envelope: *Draft notice to the affected users of %s* (for your mail tool; not sent by the bot):\n>%s", incID,
		strings.ReplaceAll(Esc(text), "\n", "\n>"))
	return bot.Msg{Text: "Draft notice to affected users of " + incID, Blocks: []slack.Block{Section(body),
		slack.NewActionBlock("notice", Button(ActNoticeEdit, "Edit", incID, ""), Button(ActNoticePost, "Final", incID, slack.StylePrimary),
			Button(ActNoticeDiscard, "Discard", incID, slack.StyleDanger))}}
}

// NoticeDoneMsg replaces the draft notice once final or discarded.
func NoticeDoneMsg(incID, text, outcome string) bot.Msg {
	body := fmt.Sprintf(":envelope: *Notice to the affected users of %s* — %s\n>%s", incID, outcome, strings.ReplaceAll(Esc(text), "\n", "\n>"))
	return bot.Msg{Text: "Notice to affected users of " + incID + ": " + outcome, Blocks: []slack.Block{Section(body)}}
}

// NoticeModal edits the draft notice (private_metadata "INC-n|version").
func NoticeModal(incID, version, text string) slack.ModalViewRequest {
	m := DraftModal(incID, version, text)
	m.CallbackID = ViewNoticeEdit
	m.Title = plain("Notice to users")
	m.Blocks = slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock(DraftBlock, plain("Notice for "+incID), nil, m.Blocks.BlockSet[0].(*slack.InputBlock).Element)}}
	return m
}

// NoticeCSV is the affected users' addresses for the team's mail tool:
// one row per account with an address.
func NoticeCSV(users []incident.AffectedUser) (string, int) {
	var b strings.Builder
	w := csvWriter{&b}
	w.row("email", "name", "user_id")
	n := 0
	for _, u := range users {
		if u.Email == "" {
			continue
		}
		w.row(u.Email, u.Name, u.ID)
		n++
	}
	return b.String(), n
}

// ProtectOnLine says Clerk Protect's rules were turned on, with what
// Clerk answered.
func ProtectOnLine(by incident.Person, pr account.Protect) string {
	return fmt.Sprintf(":shield: %s turned Clerk Protect's rules *on*. %s", Who(by), ProtectText(pr))
}

// RestrictLine says a sign-up restriction was turned on or off, with the
// instance's restrictions as Clerk answered.
func RestrictLine(by incident.Person, what string, on bool, res account.Restrictions) string {
	name := map[string]string{account.RestrictDisposable: "sign-ups from disposable e-mail domains", account.RestrictSubaddresses: "e-mail subaddresses (name+tag@)"}[what]
	verb := "now blocks"
	if !on {
		verb = "no longer blocks"
	}
	return fmt.Sprintf(":shield: %s: Clerk %s %s. %s", Who(by), verb, name, RestrictionsText(res))
}

// BlockedName is a blocklist identifier as the thread may show it: a
// domain as it is, an address or phone number only by its kind and ID
// (personal data goes to the asker alone).
func BlockedName(b account.Blocked, domain bool) string {
	if domain {
		return "`" + Esc(b.Identifier) + "`"
	}
	kind := "an e-mail address"
	if b.Type == "phone_number" {
		kind = "a phone number"
	}
	return kind + " (" + b.ID + ")"
}

// BlockedLine says an identifier went on Clerk's blocklist (the thread's
// words).
func BlockedLine(by incident.Person, b account.Blocked) string {
	return fmt.Sprintf(":lock: %s put %s on Clerk's blocklist: it can no longer sign up or sign in.", Who(by), BlockedName(b, false))
}

// UnblockedLine says an identifier came off Clerk's blocklist (the
// thread's words).
func UnblockedLine(by incident.Person, b account.Blocked, domain bool) string {
	return fmt.Sprintf(":white_check_mark: %s took %s off Clerk's blocklist.", Who(by), BlockedName(b, domain))
}
