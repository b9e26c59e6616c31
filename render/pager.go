package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/slack-go/slack"
)

// LadderLine summarises the ladder for the card and status.
func LadderLine(st *escalation.State, acked *incident.Person) string {
	if st == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(":rotating_light: Escalation: ")
	if n := len(st.Log); n > 0 {
		last := st.Log[n-1]
		switch {
		case last.Skipped:
			fmt.Fprintf(&b, "level %d (%s) skipped, nobody reachable", last.Level, last.Name)
		case last.Repeat > 0:
			fmt.Fprintf(&b, "level %d (%s) re-paged %s (%d of %d)", last.Level, last.Name, SlackDate(last.At), last.Repeat, st.Ladder.RepeatTimes)
		default:
			fmt.Fprintf(&b, "level %d (%s) paged %s", last.Level, last.Name, SlackDate(last.At))
		}
	} else {
		b.WriteString("nobody paged yet")
	}
	switch {
	case st.Stopped == "acknowledged" && acked != nil && acked.ID == st.StopBy:
		b.WriteString(" · stopped: " + AckedPhrase(*acked))
	case st.Stopped == "acknowledged":
		// A break-glass operator's ID is "cli:<name>": their name, not a mention.
		fmt.Fprintf(&b, " · stopped: acknowledged by %s", Who(incident.Person{ID: st.StopBy, Name: strings.TrimPrefix(st.StopBy, "cli:")}))
	case st.Stopped != "":
		b.WriteString(" · stopped: " + st.Stopped)
	case st.Next >= st.Ladder.Steps():
		b.WriteString(" · every level paged")
	default:
		rung, repeat := st.Ladder.Rung(st.Next)
		what := fmt.Sprintf("level %d (%s)", rung.Level, rung.Name)
		if repeat > 0 {
			what = fmt.Sprintf("re-page of level %d (%s)", rung.Level, rung.Name)
		}
		fmt.Fprintf(&b, " · next: %s at %s", what, SlackDate(st.NextAt))
	}
	return b.String()
}

// PageMsg is the DM sent to a person being paged.
func PageMsg(inc *incident.Incident, p escalation.Page, now time.Time) bot.Msg {
	why := fmt.Sprintf("You are paged as level %d (%s) of the escalation ladder", p.Level, p.Name)
	switch {
	case p.Manual:
		why = fmt.Sprintf("A responder escalated to level %d (%s)", p.Level, p.Name)
	case p.Repeat > 0:
		why = fmt.Sprintf("Still unacknowledged: re-page %d of level %d (%s)", p.Repeat, p.Level, p.Name)
	}
	impact := Esc(inc.Impact)
	if impact == "" {
		impact = "not recorded yet"
	}
	text := fmt.Sprintf(":rotating_light: *%s · %s*\n%s · %s · %s for %s\nImpact: %s\n%s. Acknowledge to take the lead and stop the escalation. %s",
		inc.ID, Esc(inc.Title), inc.Category, inc.Severity, inc.Status, incident.FormatDuration(inc.Duration(now)), Truncate(impact, 500), why, ThreadLink(inc))
	return bot.Msg{Text: fmt.Sprintf("Paged: %s %s (%s)", inc.ID, Esc(inc.Title), inc.Severity), Blocks: []slack.Block{
		Section(text),
		slack.NewActionBlock("page:"+inc.ID, Button(ActPageAck, "Acknowledge", inc.ID, slack.StylePrimary)),
	}}
}

// SettledPageMsg is a page DM once the incident is acknowledged or
// resolved: the incident, who dealt with it and when, and the thread.
func SettledPageMsg(inc *incident.Incident, reason string) bot.Msg {
	verb, by, at := "Acknowledged", inc.AckedBy, inc.AckedAt
	if reason == "resolved" || !inc.Open() {
		verb, by, at = "Resolved", inc.ResolvedBy, inc.ResolvedAt
	}
	line := verb
	switch {
	case verb == "Acknowledged" && by != nil && by.PagerDuty():
		line = "Acknowledged in PagerDuty by " + PlainName(by.Name)
	case by != nil:
		line += " by " + PersonName(*by)
	}
	if verb == "Acknowledged" && inc.AckedVia != "" {
		line += " by " + Esc(inc.AckedVia)
	}
	if !at.IsZero() {
		line += " at " + at.UTC().Format("15:04") + " UTC"
	}
	text := fmt.Sprintf(":white_check_mark: *%s · %s*\n%s. No need to act on this page. %s", inc.ID, Esc(inc.Title), line, ThreadLink(inc))
	return bot.Msg{Text: fmt.Sprintf("%s %s: %s", inc.ID, Esc(inc.Title), line), Blocks: []slack.Block{Section(strings.TrimSpace(text))}}
}

// ContactsMsg renders the ladder, the on-call people and Clerk support.
// People's phones and e-mail addresses are shown to responders only
// (responder false: the ladder and names without them).
func ContactsMsg(c *escalation.Contacts, l *escalation.Ladder, problems []escalation.Problem, responder bool) bot.Msg {
	if c == nil {
		return Text("No contacts file is loaded (CONTACTS_FILE), so there is no escalation ladder.")
	}
	var b strings.Builder
	b.WriteString("*Escalation ladder*")
	for i, lv := range c.Levels {
		who := ""
		if l != nil && i < len(l.Rungs) {
			var ms []string
			for _, t := range l.Rungs[i].Targets {
				ms = append(ms, Mention(t))
			}
			for _, name := range l.Rungs[i].Schedules {
				ms = append(ms, "whoever is on call in "+Esc(name))
			}
			who = strings.Join(ms, ", ")
		}
		via := make([]string, 0, len(lv.Via))
		for _, ch := range lv.Via {
			via = append(via, map[string]string{escalation.ViaSlack: "Slack", escalation.ViaSMS: "SMS", escalation.ViaCall: "call", escalation.ViaPagerDuty: "PagerDuty"}[ch])
		}
		if len(via) == 0 {
			via = []string{"Slack"}
		}
		fmt.Fprintf(&b, "\n%d. %s · %s · %s · by %s", lv.Level, lv.Contact, lv.Time, who, strings.Join(via, ", "))
	}
	for _, pr := range problems {
		fmt.Fprintf(&b, "\n:warning: %s (%s) cannot be paged: %s. Fix contacts.yml.", pr.Name, Mention(pr.ID), pr.Why)
	}
	switch c.Policy.RepeatTimes {
	case 0:
		b.WriteString("\nThe last level is not re-paged.")
	case 1:
		fmt.Fprintf(&b, "\nUnacknowledged, the last level is re-paged once, after %s.", ShortDuration(c.Policy.RepeatEvery))
	default:
		fmt.Fprintf(&b, "\nUnacknowledged, the last level is re-paged every %s, %d times.", ShortDuration(c.Policy.RepeatEvery), c.Policy.RepeatTimes)
	}
	for _, g := range c.GroupOrder {
		people := c.Groups[g]
		if len(people) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n\n*%s*", strings.ReplaceAll(g, "_", " "))
		for _, p := range people {
			line := "\n• " + p.Name
			if p.SlackID != "" {
				line += " " + Mention(p.SlackID)
			} else if p.Slack != "" {
				line += " " + p.Slack
			} else if p.Schedule != "" {
				line += " · whoever is on call in " + Esc(p.Schedule) + " (`/clerk-incident oncall`)"
			}
			if p.Phone != "" && responder {
				line += " · :telephone_receiver: " + p.Phone
			}
			if p.Email != "" && responder {
				line += " · " + p.Email
			}
			b.WriteString(line)
		}
	}
	writeSchedules(&b, c, responder)
	if !responder {
		b.WriteString("\n\n_Phone numbers and e-mail addresses are shown to incident responders only._")
	}
	s := c.Support
	if s.URL != "" || s.Email != "" || s.Priority != "" {
		b.WriteString("\n\n*Clerk support*")
		if s.URL != "" {
			b.WriteString("\n• " + s.URL)
		}
		if s.Email != "" {
			b.WriteString("\n• " + s.Email)
		}
		if s.Priority != "" {
			b.WriteString("\n• " + s.Priority)
		}
	}
	return Text(b.String())
}

// threadLink points at the incident card (its thread holds everything).
func ThreadLink(inc *incident.Incident) string {
	if inc.Channel == "" || inc.CardTS == "" {
		return ""
	}
	return fmt.Sprintf("<https://slack.com/archives/%s/p%s|Open the incident thread>", inc.Channel, strings.ReplaceAll(inc.CardTS, ".", ""))
}

func ShortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

func Mention(id string) string {
	if strings.HasPrefix(id, "S") {
		return "<!subteam^" + id + ">"
	}
	return "<@" + id + ">"
}

// PageAnnouncement is what the thread says of a page (mentions) and what
// the timeline and the audit log keep (names, from name: the report is
// read outside Slack), with whoever could not be reached and why.
func PageAnnouncement(pg escalation.Page, name func(id string) string) (line, plain string) {
	if pg.Skipped {
		plain = fmt.Sprintf("Level %d (%s) has nobody reachable in Slack; skipped to the next level at once.", pg.Level, pg.Name)
		line = ":warning: " + plain
	} else {
		var who, names []string
		multi := len(pg.Channels) > 1 || (len(pg.Channels) == 1 && pg.Channels[0] != escalation.ViaSlack)
		for _, u := range pg.Reached {
			via := ""
			if multi {
				via = " (" + channelNames(pg, u) + ")"
			}
			who = append(who, Mention(u)+via)
			names = append(names, name(u)+via)
		}
		if pg.PagerDuty {
			who = append(who, "PagerDuty")
			names = append(names, "PagerDuty")
		}
		verb := "Paged"
		if pg.Repeat > 0 {
			verb = fmt.Sprintf("Re-paged (%d)", pg.Repeat)
		}
		if pg.Manual {
			verb = "Escalated: paged"
		}
		head := fmt.Sprintf("%s level %d (%s, %s): ", verb, pg.Level, pg.Name, pg.Window)
		line = ":rotating_light: " + head + strings.Join(who, ", ")
		plain = head + strings.Join(names, ", ")
	}
	// Whoever could not be reached is named with the reason, so someone
	// fixes contacts.yml before the next incident.
	for _, u := range pg.Unreachable {
		target := Mention(u.ID)
		if !strings.HasPrefix(u.ID, "U") && !strings.HasPrefix(u.ID, "W") && !strings.HasPrefix(u.ID, "S") {
			target = u.ID // PagerDuty
		}
		line += fmt.Sprintf("\n:warning: Could not reach %s: %s.", target, u.Why)
		plain += fmt.Sprintf("; could not reach %s: %s", name(u.ID), u.Why)
	}
	return line, plain
}

// channelNames says how one person was reached: "Slack, SMS, call".
func channelNames(pg escalation.Page, u string) string {
	var out []string
	for _, ch := range pg.Sent[u] {
		out = append(out, map[string]string{escalation.ViaSlack: "Slack", escalation.ViaSMS: "SMS", escalation.ViaCall: "call"}[ch])
	}
	return strings.Join(out, ", ")
}

// writeSchedules lists each on-call schedule and its members (phones to
// responders only).
func writeSchedules(b *strings.Builder, c *escalation.Contacts, responder bool) {
	for _, sc := range c.Schedules {
		fmt.Fprintf(b, "\n\n*schedule %s* · %s · `/clerk-incident oncall` shows who is on call", Esc(sc.Name), Esc(sc.Describe()))
		for _, m := range sc.Members {
			line := "\n• " + Esc(m.Name) + " " + Mention(m.SlackID)
			if m.Phone != "" && responder {
				line += " · :telephone_receiver: " + m.Phone
			}
			b.WriteString(line)
		}
	}
}
