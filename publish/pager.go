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

// Pages delivers pages: DMs, their settling, the card after a page and the
// line poster's wake-up once the page is on the timeline (the use case
// usecase.Paging records it).
type Pages struct {
	base
	cards  *Cards
	outbox *Outbox
	dms    *dms
	groups GroupLister
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

// Announced wakes the line poster once a page's announcement (or an
// unanswered call) is on the timeline with its thread line queued.
func (p *Pages) Announced() { p.outbox.wake() }

// AfterPage re-renders the card once the engine has recorded the page.
func (p *Pages) AfterPage(ctx context.Context, id string) {
	inc, err := p.st.Incidents.Current(ctx, id)
	if err != nil {
		return
	}
	p.cards.Refresh(ctx, inc)
}
