package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
)

// When is a time in a schedule's zone and, when it differs, in the
// reader's: "Mon 14 Dec 09:00 CET (03:00 EST your time)". asker nil: the
// reader's zone is unknown and UTC is shown instead.
func When(t time.Time, zone, asker *time.Location) string {
	local := t.In(zone)
	s := local.Format("Mon 2 Jan 15:04 MST")
	switch {
	case asker == nil:
		if _, off := local.Zone(); off != 0 {
			s += " (" + t.UTC().Format("15:04") + " UTC)"
		}
	case asker.String() != zone.String():
		mine := t.In(asker)
		f := "15:04 MST"
		if mine.YearDay() != local.YearDay() {
			f = "Mon 15:04 MST"
		}
		s += " (" + mine.Format(f) + " your time)"
	}
	return s
}

func memberLine(m *oncall.Member) string {
	if m == nil {
		return "nobody"
	}
	return Esc(m.Name) + " " + Mention(m.SlackID)
}

// OnCallMsg shows, for each schedule, who is on call now and next, with
// the handoff times in the schedule's zone and the asker's.
func OnCallMsg(views []oncall.Now, asker *time.Location) bot.Msg {
	if len(views) == 0 {
		return Text("No on-call schedules are defined: add a `schedules:` map to contacts.yml (see the README's paging section).")
	}
	var b strings.Builder
	b.WriteString("*On call*")
	for _, n := range views {
		s := n.Schedule
		fmt.Fprintf(&b, "\n\n*%s* · %s", Esc(s.Name), Esc(s.Describe()))
		if s.UserGroup != "" {
			b.WriteString(" · " + Mention(s.UserGroup))
		}
		cur := n.Current
		switch {
		case cur.Who == nil:
			fmt.Fprintf(&b, "\n• Now: nobody, the rotation starts %s", When(cur.Until, s.Loc, asker))
		case cur.Override != nil:
			fmt.Fprintf(&b, "\n• Now: %s, covering", memberLine(cur.Who))
			if cur.Override.Replaces.SlackID != "" {
				fmt.Fprintf(&b, " for %s", Esc(cur.Override.Replaces.Name))
			}
			fmt.Fprintf(&b, " (set by %s), until %s", Esc(cur.Override.ByName), When(cur.Until, s.Loc, asker))
		default:
			fmt.Fprintf(&b, "\n• Now: %s, since %s, until %s", memberLine(cur.Who), When(cur.From, s.Loc, asker), When(cur.Until, s.Loc, asker))
		}
		if !cur.Until.IsZero() {
			fmt.Fprintf(&b, "\n• Next: %s", memberLine(n.Next.Who))
			if n.Next.Override != nil {
				b.WriteString(" (covering)")
			}
			if n.Next.Who == nil && !n.Next.Until.IsZero() {
				fmt.Fprintf(&b, " (the rotation starts %s)", When(n.Next.Until, s.Loc, asker))
			}
		}
	}
	b.WriteString("\n\n_Swap or cover: `/clerk-incident oncall cover @person [for 4h|until 18:00] [schedule]`; undo: `/clerk-incident oncall cover cancel`._")
	return Text(b.String())
}

// HandoffText is the DM to the person coming on call; reader is their
// Slack time zone (nil: unknown, UTC is shown beside the schedule's).
func HandoffText(n oncall.Now, reader *time.Location) string {
	s := n.Schedule
	text := fmt.Sprintf(":pager: You are on call in *%s* now, until %s.", Esc(s.Name), When(n.Current.Until, s.Loc, reader))
	if n.Current.Override != nil {
		text = fmt.Sprintf(":pager: You are on call in *%s* now, covering", Esc(s.Name))
		if r := n.Current.Override.Replaces; r.SlackID != "" {
			text += " for " + Esc(r.Name)
		}
		text += fmt.Sprintf(", until %s.", When(n.Current.Until, s.Loc, reader))
	}
	if n.Next.Who != nil {
		text += " Then " + Esc(n.Next.Who.Name) + "."
	}
	return text + " Incidents whose ladder names this schedule page you. `/clerk-incident oncall` shows the rotation."
}

// CoverTexts are the DMs a new cover sends: to who covers, and to who
// they replace (times in the schedule's zone and UTC).
func CoverTexts(s *oncall.Schedule, o oncall.Override) (toCover, toReplaced string) {
	until := When(o.Until, s.Loc, nil)
	toCover = fmt.Sprintf(":pager: %s put you on call in *%s* until %s", Esc(o.ByName), Esc(s.Name), until)
	if o.Replaces.SlackID != "" {
		toCover += ", covering for " + Esc(o.Replaces.Name)
		toReplaced = fmt.Sprintf(":handshake: %s covers *%s* for you until %s (set by %s): you are not paged for it meanwhile.",
			Esc(o.Who.Name), Esc(s.Name), until, Esc(o.ByName))
	}
	return toCover + ". New incidents whose ladder names this schedule page you.", toReplaced
}

// CancelTexts are the DMs a cancelled cover sends: to who covered, and
// to who is on call again.
func CancelTexts(s *oncall.Schedule, o oncall.Override, n oncall.Now, by string) (toCover, toOnCall string) {
	toCover = fmt.Sprintf(":leftwards_arrow_with_hook: %s cancelled your cover of *%s*: you are no longer on call in it.", Esc(by), Esc(s.Name))
	if n.Current.Who != nil {
		toOnCall = fmt.Sprintf(":pager: %s cancelled %s's cover of *%s*: you are on call in it again, until %s.",
			Esc(by), Esc(o.Who.Name), Esc(s.Name), When(n.Current.Until, s.Loc, nil))
	}
	return toCover, toOnCall
}
