package usecase

import (
	"context"
	"fmt"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// PageDelivery delivers pages in Slack (publish.Pages).
type PageDelivery interface {
	Members(ctx context.Context, id string) ([]string, error)
	Notify(ctx context.Context, inc *incident.Incident, pg escalation.Page, user string) (escalation.DM, error)
	SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm escalation.DM) error
	ThreadURL(inc *incident.Incident) string
	AfterPage(ctx context.Context, id string)
	// Announced wakes the line poster once a page's line is queued.
	Announced()
}

// Namer names a paged person (or user group) the way the timeline does
// (publish.Names).
type Namer interface {
	Name(ctx context.Context, id string) string
}

// Paging is the escalation engine's Pager and CallNoter: the publisher
// delivers the pages, and what the thread and the report must keep (who
// was paged, a call nobody picked up) is recorded here first, with its
// thread line queued in the same write.
type Paging struct {
	deliver PageDelivery
	names   Namer
	ticks   *Ticks
}

// NewPaging wires the use case.
func NewPaging(deliver PageDelivery, names Namer, ticks *Ticks) *Paging {
	return &Paging{deliver: deliver, names: names, ticks: ticks}
}

// escalationPerson is who the engine's timeline entries are from.
var escalationPerson = incident.Person{Name: "escalation"}

// Members implements escalation.Pager.
func (p *Paging) Members(ctx context.Context, id string) ([]string, error) {
	return p.deliver.Members(ctx, id)
}

// Notify implements escalation.Pager.
func (p *Paging) Notify(ctx context.Context, inc *incident.Incident, pg escalation.Page, user string) (escalation.DM, error) {
	return p.deliver.Notify(ctx, inc, pg, user)
}

// SettlePage implements escalation.Pager.
func (p *Paging) SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm escalation.DM) error {
	return p.deliver.SettlePage(ctx, inc, reason, dm)
}

// ThreadURL implements escalation.Pager.
func (p *Paging) ThreadURL(inc *incident.Incident) string { return p.deliver.ThreadURL(inc) }

// AfterPage implements escalation.Pager: the card shows the page.
func (p *Paging) AfterPage(ctx context.Context, id string) { p.deliver.AfterPage(ctx, id) }

// Announce names who was paged on the timeline and in the thread (one
// write), and in the audit log. The timeline and the audit log keep
// names: the report is read outside Slack.
func (p *Paging) Announce(ctx context.Context, inc *incident.Incident, pg escalation.Page) error {
	line, plain := render.PageAnnouncement(pg, func(id string) string { return p.names.Name(ctx, id) })
	if err := p.ticks.RecordLine(ctx, inc.ID, escalationPerson, plain, line); err != nil {
		return err
	}
	p.deliver.Announced()
	p.ticks.System(ctx, "escalation", "page", plain, inc.ID)
	return nil
}

// CallUnanswered says on the timeline and in the thread that a paged
// person's phone call went unanswered (no answer, busy, failed, or taken
// by voicemail or a fax), so nobody counts on that call.
func (p *Paging) CallUnanswered(ctx context.Context, inc *incident.Incident, user string, cause escalation.CallCause) error {
	line := fmt.Sprintf(":warning: %s did not pick up: %s.", render.Mention(user), cause)
	plain := fmt.Sprintf("%s did not pick up: %s", p.names.Name(ctx, user), cause)
	if err := p.ticks.RecordLine(ctx, inc.ID, escalationPerson, plain, line); err != nil {
		return err
	}
	p.deliver.Announced()
	return nil
}
