package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/slack-go/slack"
)

// Pages delivers pages (escalation.Pager): DMs, their settling, and the
// thread's account of who was paged.
type Pages struct {
	base
	cards  *Cards
	outbox *Outbox
	names  *Names
	dms    *dms
	groups GroupLister
	ticks  Ticker
}

// Members expands a user group (GroupLister and the auth cache share the
// Slack lookups).
func (p *Pages) Members(ctx context.Context, id string) ([]string, error) {
	if !strings.HasPrefix(id, "S") {
		return []string{id}, nil
	}
	if p.groups == nil {
		return nil, errors.New("no Slack user group lookup configured")
	}
	members, err := p.groups.GroupMembers(ctx, id)
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "no_such_subteam" || se.Err == "subteam_not_found" || se.Err == "plan_upgrade_required") {
		// The group does not exist: nobody to page, so the level is skipped.
		return nil, nil
	}
	return members, err
}

// Notify DMs one person with the page and an Acknowledge button.
func (p *Pages) Notify(ctx context.Context, inc *incident.Incident, pg escalation.Page, user string) (escalation.DM, error) {
	dm, err := p.dms.get(ctx, user)
	if err != nil {
		return escalation.DM{}, err
	}
	ts, err := p.slack.Post(ctx, dm, "", render.PageMsg(inc, pg, p.now()))
	return escalation.DM{Channel: dm, TS: ts}, err
}

// SettlePage rewrites a page DM once the incident is dealt with: who
// acknowledged or resolved it and when, and no Acknowledge button. It goes
// through the paced Slack client like every other update.
func (p *Pages) SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm escalation.DM) error {
	return p.slack.Update(ctx, dm.Channel, dm.TS, render.SettledPageMsg(inc, reason))
}

// ThreadURL is the incident thread's link, for PagerDuty.
func (p *Pages) ThreadURL(inc *incident.Incident) string {
	if inc.Channel == "" || inc.CardTS == "" {
		return ""
	}
	return fmt.Sprintf("https://slack.com/archives/%s/p%s", inc.Channel, strings.ReplaceAll(inc.CardTS, ".", ""))
}

// dms finds the DM channel with a user, asking Slack once per process:
// the channel never changes, and conversations.open is Tier 3.
type dms struct {
	slack Slack
	mu    sync.Mutex
	m     map[string]string // user → DM channel
}

func (d *dms) get(ctx context.Context, user string) (string, error) {
	d.mu.Lock()
	ch := d.m[user]
	d.mu.Unlock()
	if ch != "" {
		return ch, nil
	}
	ch, err := d.slack.OpenDM(ctx, user)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.m[user] = ch
	d.mu.Unlock()
	return ch, nil
}

// Announce names who was paged in the incident thread and on the timeline.
func (p *Pages) Announce(ctx context.Context, inc *incident.Incident, pg escalation.Page) error {
	line, plain := render.PageAnnouncement(pg, func(id string) string { return p.names.name(ctx, id) })
	// The timeline and the audit log keep names: the report is read
	// outside Slack.
	if err := p.ticks.RecordLine(ctx, inc.ID, incident.Person{Name: "escalation"}, plain, line); err != nil {
		return err
	}
	p.outbox.wake()
	p.ticks.System(ctx, "escalation", "page", plain, inc.ID)
	return nil
}

// CallUnanswered says in the thread and on the timeline that a paged
// person's phone call went unanswered (no answer, busy, failed, or taken
// by voicemail or a fax), so nobody counts on that call.
func (p *Pages) CallUnanswered(ctx context.Context, inc *incident.Incident, user string, cause escalation.CallCause) error {
	line := fmt.Sprintf(":warning: %s did not pick up: %s.", render.Mention(user), cause)
	plain := fmt.Sprintf("%s did not pick up: %s", p.names.name(ctx, user), cause)
	if err := p.ticks.RecordLine(ctx, inc.ID, incident.Person{Name: "escalation"}, plain, line); err != nil {
		return err
	}
	p.outbox.wake()
	return nil
}

// AfterPage re-renders the card once the engine has recorded the page.
func (p *Pages) AfterPage(ctx context.Context, id string) {
	inc, err := p.st.Incidents.Current(ctx, id)
	if err != nil {
		return
	}
	p.cards.Refresh(ctx, inc)
}
