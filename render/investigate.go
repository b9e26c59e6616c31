package render

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/slack-go/slack"
)

// Action IDs of the buttons under a user investigation, and of the
// "Share in thread" buttons under the private answers of `user` and
// `affected export`.
const (
	ActUserRevoke  = "user_revoke"
	ActUserLockout = "user_lockout"
	ActShareUser   = "user_share"
	ActShareExport = "affected_share"
)

// Private marks an answer only its asker sees (it holds personal data:
// IPs, cities, e-mail addresses) and, when value is set, adds a "Share in
// thread" button (action, value) that posts it for the responders.
func Private(m bot.Msg, action, value string) bot.Msg {
	note := ":lock: Only you can see this: it holds personal data."
	blocks := append([]slack.Block(nil), m.Blocks...)
	if value != "" {
		note += " *Share in thread* first shows who reads the thread, guests included, and shares with the responders only."
		blocks = append(blocks, slack.NewContextBlock("private", slack.NewTextBlockObject(slack.MarkdownType, note, false, false)),
			slack.NewActionBlock("share", Button(action, "Share in thread", value, "")))
	} else {
		blocks = append(blocks, slack.NewContextBlock("private", slack.NewTextBlockObject(slack.MarkdownType, note, false, false)))
	}
	return bot.Msg{Text: m.Text, Blocks: blocks}
}

// UserMsg renders `user`: the profile, the active sessions grouped by IP
// and country with outliers flagged, and Revoke / Lock out buttons
// (values "INC-n|user_…", or "|user_…" without an incident).
func UserMsg(incID string, p account.Profile, ss []account.SessionInfo, now time.Time) bot.Msg {
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return SlackDate(t)
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":mag: *%s*", Esc(p.Label()))
	if p.Name != "" {
		b.WriteString(" · " + Esc(p.Name))
	}
	fmt.Fprintf(&b, "\nCreated %s · last sign-in %s · last active %s", when(p.Created), when(p.LastSignIn), when(p.LastActive))
	fmt.Fprintf(&b, "\nBanned: %s · locked: %s · two-factor: %s · e-mail verified: %s", yes(p.Banned), yes(p.Locked), yes(p.TwoFactor), yes(p.EmailVerified))
	g := account.GroupSessions(ss)
	fmt.Fprintf(&b, "\n*%d active session(s)*", len(ss))
	if len(ss) > 0 {
		fmt.Fprintf(&b, " · by country: %s · by IP: %s", counts(g.ByCountry), counts(g.ByIP))
	}
	sorted := append([]account.SessionInfo(nil), ss...)
	sort.SliceStable(sorted, func(i, j int) bool {
		_, fi := g.Flagged[sorted[i].ID]
		_, fj := g.Flagged[sorted[j].ID]
		if fi != fj {
			return fi // outliers first
		}
		return sorted[i].LastActive.After(sorted[j].LastActive)
	})
	const shown = 15
	for i, s := range sorted {
		if i == shown {
			fmt.Fprintf(&b, "\n…and %d more", len(sorted)-shown)
			break
		}
		device := strings.TrimSpace(s.Device + " " + s.Browser)
		if device == "" {
			device = "no activity recorded"
		}
		place := strings.Trim(strings.Join([]string{s.City, s.Country}, ", "), ", ")
		line := fmt.Sprintf("\n• `%s` %s · %s %s · last active %s · created %s", s.ID, Esc(device), Esc(orDash(s.IP)), Esc(orDash(place)),
			when(s.LastActive), when(s.Created))
		if why, ok := g.Flagged[s.ID]; ok {
			line = "\n:warning: " + strings.TrimPrefix(line, "\n") + " — *" + Esc(why) + "*"
		}
		b.WriteString(line)
	}
	value := incID + "|" + p.ID
	return bot.Msg{Text: "Investigation of " + p.ID, Blocks: []slack.Block{Section(b.String()),
		slack.NewActionBlock("user_actions", Button(ActUserRevoke, "Revoke all sessions", value, slack.StyleDanger),
			Button(ActUserLockout, "Lock out", value, ""))}}
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", Esc(k), m[k]))
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// AffectedCSV is the affected-accounts export: one row per user, what
// was done and when, ready for the "notify affected users" step.
func AffectedCSV(users []incident.AffectedUser) string {
	var b strings.Builder
	w := csvWriter{&b}
	w.row("user_id", "primary_email", "name", "what_was_done")
	for _, u := range users {
		var deeds []string
		for _, d := range u.Deeds {
			who := d.By.Name
			if who == "" {
				who = d.By.ID
			}
			deeds = append(deeds, fmt.Sprintf("%s at %s by %s", d.What, d.At.UTC().Format(time.RFC3339), who))
		}
		w.row(u.ID, u.Email, u.Name, strings.Join(deeds, "; "))
	}
	return b.String()
}

type csvWriter struct{ b *strings.Builder }

// row writes one RFC 4180 row; a cell starting with = + - @, a tab or a
// carriage return is prefixed with ' so a spreadsheet does not run it as
// a formula (OWASP: some spreadsheets skip a leading tab or CR).
func (cs csvWriter) row(cells ...string) {
	for i, c := range cells {
		if i > 0 {
			cs.b.WriteByte(',')
		}
		if c != "" && strings.ContainsAny(c[:1], "=+-@\t\r") {
			c = "'" + c
		}
		if strings.ContainsAny(c, ",\"\n\r") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		cs.b.WriteString(c)
	}
	cs.b.WriteString("\r\n")
}

// Action IDs of "Share with the responders only" under a share warning.
const (
	ActShareUserTo   = "user_share_responders"
	ActShareExportTo = "affected_share_responders"
)

// ThreadReaders is who reads an incident's thread, as a share warning
// counts them (usecase.Readers, flattened for rendering).
type ThreadReaders struct {
	Channel   string
	Private   bool
	People    int
	Guests    []string
	Unchecked int
	// Closed: a private channel without guests; the responders-only share
	// goes to the thread itself.
	Closed bool
}

// ShareWarning answers a *Share in thread* click: who would read the
// thread (guests named), that the data is not posted there, and a button
// sharing it with the responders only (action, value).
func ShareWarning(what string, r ThreadReaders, action, value string) bot.Msg {
	var b strings.Builder
	kind := "public channel"
	if r.Private {
		kind = "private channel"
	}
	fmt.Fprintf(&b, ":warning: *Who reads the thread:* <#%s> is a %s with %d people", r.Channel, kind, r.People)
	switch {
	case len(r.Guests) > 0:
		fmt.Fprintf(&b, ", *%d of them guests* (%s)", len(r.Guests), mentions(r.Guests))
	default:
		b.WriteString(", none of them a guest")
	}
	if r.Unchecked > 0 {
		fmt.Fprintf(&b, "; %d more members were not checked and may be guests", r.Unchecked)
	}
	fmt.Fprintf(&b, ".\n%s holds personal data, so it is not posted where all of them read it.", what)
	target := "a group DM of the responders (you, the incident's lead, commander and comms, and the responders in the channel; guests never)"
	if r.Closed {
		target = "the thread: only the incident's people are in this private channel"
	}
	b.WriteString("\n*Share with the responders only* posts it in " + target + ".")
	return bot.Msg{Text: "Who reads the thread", Blocks: []slack.Block{Section(b.String()),
		slack.NewActionBlock("share_to", Button(action, "Share with the responders only", value, slack.StylePrimary))}}
}

func mentions(ids []string) string {
	var parts []string
	for i, id := range ids {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ids)-10))
			break
		}
		parts = append(parts, "<@"+id+">")
	}
	return strings.Join(parts, ", ")
}

// SharedNote is the thread's record of a responders-only share: who
// shared what with whom, no personal data.
func SharedNote(who incident.Person, what string, users []string, thread bool) string {
	if thread {
		return fmt.Sprintf(":lock: %s shared %s here, in the incident's private channel.", Who(who), what)
	}
	return fmt.Sprintf(":lock: %s shared %s with the responders only, in a group DM (%s); it holds personal data, so it is not posted here.", Who(who), what, mentions(users))
}

// UserSummary is an investigation as the thread may read it: the user ID
// and initials, counts of sessions and of those flagged; no IP or place.
func UserSummary(p account.Profile, ss []account.SessionInfo) string {
	g := account.GroupSessions(ss)
	return fmt.Sprintf("the investigation of %s (%d active session(s), %d flagged)", Account(p.ID, p.Name), len(ss), len(g.Flagged))
}
