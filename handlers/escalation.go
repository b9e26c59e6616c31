package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// ActPageAck is the Acknowledge button of a page DM; it acts as inc_ack.
const ActPageAck = "page_ack"

func (h *Handlers) ladderState(ctx context.Context, id string) *escalation.State {
	if h.esc == nil {
		return nil
	}
	st, err := h.esc.Get(ctx, id)
	if err != nil {
		return nil
	}
	return st
}

// startLadder starts paging for a new incident (by hand or by the poller).
func (h *Handlers) startLadder(ctx context.Context, inc *incident.Incident) {
	if h.esc == nil || h.ladder == nil {
		return
	}
	if err := h.esc.Start(ctx, inc, *h.ladder); err != nil {
		h.log.WithError(err).WithField("incident", inc.ID).Error("could not start escalation")
		h.thread(ctx, inc, ":warning: The escalation ladder could not be started; page people by hand. The error was logged.")
	}
}

func (h *Handlers) stopLadder(ctx context.Context, inc *incident.Incident, reason, by string) {
	if h.esc == nil {
		return
	}
	if err := h.esc.Stop(ctx, inc.ID, reason, by); err != nil {
		// The engine re-reads the incident before paging, so it stops anyway.
		h.log.WithError(err).WithField("incident", inc.ID).Warn("could not stop escalation")
		return
	}
	h.refresh(ctx, inc)
}

func (h *Handlers) escalate(ctx context.Context, r req, id string) {
	if h.esc == nil {
		h.replyText(ctx, r, "Escalation is not configured: no contacts file was loaded (CONTACTS_FILE).")
		return
	}
	inc, err := h.store.Current(ctx, id)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if !inc.Open() {
		h.fail(ctx, r, withID(incident.ErrAlreadyResolved, id))
		return
	}
	rung, err := h.esc.Escalate(ctx, id)
	if errors.Is(err, escalation.ErrNoLadder) {
		if h.ladder == nil {
			h.replyText(ctx, r, fmt.Sprintf("%s has no escalation ladder and none is configured.", id))
			return
		}
		h.startLadder(ctx, inc)
		rung, err = h.esc.Escalate(ctx, id)
	}
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if _, err := h.store.Update(ctx, id, incident.Record(r.who, fmt.Sprintf("Escalation requested: paging level %d (%s) now", rung.Level, rung.Name))); err != nil {
		h.log.WithError(err).Warn("could not record escalation")
	}
	h.replyText(ctx, r, fmt.Sprintf(":rotating_light: Paging level %d (%s) of %s now.", rung.Level, rung.Name, id))
}

// threadLink points at the incident card (its thread holds everything).
func threadLink(inc *incident.Incident) string {
	if inc.Channel == "" || inc.CardTS == "" {
		return ""
	}
	return fmt.Sprintf("<https://slack.com/archives/%s/p%s|Open the incident thread>", inc.Channel, strings.ReplaceAll(inc.CardTS, ".", ""))
}

// LadderLine summarises the ladder for the card and status.
func LadderLine(st *escalation.State) string {
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
			fmt.Fprintf(&b, "level %d (%s) re-paged %s (%d of %d)", last.Level, last.Name, slackDate(last.At), last.Repeat, st.Ladder.RepeatTimes)
		default:
			fmt.Fprintf(&b, "level %d (%s) paged %s", last.Level, last.Name, slackDate(last.At))
		}
	} else {
		b.WriteString("nobody paged yet")
	}
	switch {
	case st.Stopped == "acknowledged":
		fmt.Fprintf(&b, " · stopped: acknowledged by <@%s>", st.StopBy)
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
		fmt.Fprintf(&b, " · next: %s at %s", what, slackDate(st.NextAt))
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
	impact := inc.Impact
	if impact == "" {
		impact = "not recorded yet"
	}
	text := fmt.Sprintf(":rotating_light: *%s · %s*\n%s · %s · %s for %s\nImpact: %s\n%s. Acknowledge to take the lead and stop the escalation. %s",
		inc.ID, inc.Title, inc.Category, inc.Severity, inc.Status, incident.FormatDuration(inc.Duration(now)), truncate(impact, 500), why, threadLink(inc))
	return bot.Msg{Text: fmt.Sprintf("Paged: %s %s (%s)", inc.ID, inc.Title, inc.Severity), Blocks: []slack.Block{
		section(text),
		slack.NewActionBlock("page:"+inc.ID, button(ActPageAck, "Acknowledge", inc.ID, slack.StylePrimary)),
	}}
}

// ContactsMsg renders the ladder, the on-call people and Clerk support.
func ContactsMsg(c *escalation.Contacts, l *escalation.Ladder) bot.Msg {
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
				ms = append(ms, mention(t))
			}
			who = strings.Join(ms, ", ")
		}
		fmt.Fprintf(&b, "\n%d. %s · %s · %s", lv.Level, lv.Contact, lv.Time, who)
	}
	switch c.Policy.RepeatTimes {
	case 0:
		b.WriteString("\nThe last level is not re-paged.")
	case 1:
		fmt.Fprintf(&b, "\nUnacknowledged, the last level is re-paged once, after %s.", shortDuration(c.Policy.RepeatEvery))
	default:
		fmt.Fprintf(&b, "\nUnacknowledged, the last level is re-paged every %s, %d times.", shortDuration(c.Policy.RepeatEvery), c.Policy.RepeatTimes)
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
				line += " " + mention(p.SlackID)
			} else if p.Slack != "" {
				line += " " + p.Slack
			}
			if p.Phone != "" {
				line += " · :telephone_receiver: " + p.Phone
			}
			if p.Email != "" {
				line += " · " + p.Email
			}
			b.WriteString(line)
		}
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

func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

func mention(id string) string {
	if strings.HasPrefix(id, "S") {
		return "<!subteam^" + id + ">"
	}
	return "<@" + id + ">"
}

// Pager delivers escalation pages through Slack.
type Pager struct{ h *Handlers }

// Pager returns the escalation pager backed by these handlers.
func (h *Handlers) Pager() *Pager { return &Pager{h: h} }

// GroupLister and the auth cache share the Slack lookups.
func (p *Pager) Members(ctx context.Context, id string) ([]string, error) {
	if !strings.HasPrefix(id, "S") {
		return []string{id}, nil
	}
	if p.h.auth == nil || p.h.auth.lister == nil {
		return nil, errors.New("no Slack user group lookup configured")
	}
	members, err := p.h.auth.lister.GroupMembers(ctx, id)
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "no_such_subteam" || se.Err == "subteam_not_found" || se.Err == "plan_upgrade_required") {
		// The group does not exist: nobody to page, so the level is skipped.
		return nil, nil
	}
	return members, err
}

// Notify DMs one person with the page and an Acknowledge button.
func (p *Pager) Notify(ctx context.Context, inc *incident.Incident, pg escalation.Page, user string) error {
	dm, err := p.h.slack.OpenDM(ctx, user)
	if err != nil {
		return err
	}
	_, err = p.h.slack.Post(ctx, dm, "", PageMsg(inc, pg, p.h.now()))
	return err
}

// Announce names who was paged in the incident thread and on the timeline.
func (p *Pager) Announce(ctx context.Context, inc *incident.Incident, pg escalation.Page) error {
	var line string
	if pg.Skipped {
		line = fmt.Sprintf(":warning: Level %d (%s) has nobody reachable in Slack; skipped to the next level at once.", pg.Level, pg.Name)
	} else {
		var who []string
		for _, u := range pg.Reached {
			who = append(who, "<@"+u+">")
		}
		verb := "Paged"
		if pg.Repeat > 0 {
			verb = fmt.Sprintf("Re-paged (%d)", pg.Repeat)
		}
		if pg.Manual {
			verb = "Escalated: paged"
		}
		line = fmt.Sprintf(":rotating_light: %s level %d (%s, %s): %s", verb, pg.Level, pg.Name, pg.Window, strings.Join(who, ", "))
	}
	if _, err := p.h.store.Update(ctx, inc.ID, incident.Record(incident.Person{Name: "escalation"}, line)); err != nil {
		return err
	}
	p.h.system(ctx, "escalation", "page", line, inc.ID)
	if inc.Channel != "" {
		if _, err := p.h.slack.Post(ctx, inc.Channel, inc.CardTS, Text(line)); err != nil {
			return err
		}
	}
	return nil
}

// AfterPage re-renders the card once the engine has recorded the page.
func (p *Pager) AfterPage(ctx context.Context, id string) {
	inc, err := p.h.store.Current(ctx, id)
	if err != nil {
		return
	}
	p.h.refresh(ctx, inc)
}
