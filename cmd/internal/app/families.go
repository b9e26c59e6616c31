package app

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/handlers"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/reminder"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// familyDeps is what assemble gathers for the command families: each
// optional part stays a nil interface when it is not configured, so a
// family sees "not configured" as nil.
type familyDeps struct {
	incidentDeps
	peopleDeps
	actionDeps
	watchDeps
	appDeps
}

// incidentDeps are the incident's stores, Slack and the publisher.
type incidentDeps struct {
	Store     *incident.Store
	Drafts    *incident.Drafts
	Affected  *incident.AffectedAccounts
	Markers   *incident.Markers
	Slack     handlers.Slack
	Publisher *publish.Publisher
	Opener    *usecase.Opener
	Runbook   *incident.Runbook
	Channel   string
	Log       logrus.FieldLogger
	Now       func() time.Time
	Rooms     commands.RoomLookup // nil: INCIDENT_CHANNELS off
}

// peopleDeps are who may do what, who is paged, and what is recorded.
type peopleDeps struct {
	Auth            *handlers.Authorizer
	Approvers       *handlers.Authorizer // nil: the responders approve
	Esc             *escalation.Engine   // nil without a contacts file
	Ladder          *escalation.Ladder
	Contacts        *escalation.Contacts
	ContactProblems []escalation.Problem
	Audit           interface {
		handlers.Auditor
		commands.AuditReader
	}
	Observe   handlers.Observer
	ReadLimit handlers.ReadLimiter
	Sharing   *commands.Sharing // who reads a thread; shares with the responders only
	// Roster is nil without schedules; OnCallSlack is the on-call side of Slack.
	Roster      *oncall.Roster
	OnCallSlack oncallSlack
}

// actionDeps are what the actions on Clerk, approvals and updates use.
type actionDeps struct {
	Clerk         clerkAccounts // nil when CLERK_SECRET_KEY is unset
	Approvals     *approval.Store
	Executor      *approval.Executor
	Bypass        usecase.BypassSwitch
	BypassMax     time.Duration
	StatusPage    usecase.StatusPage
	UpdateEvery   reminder.Intervals
	UpdateChannel string
	Modals        commands.Modals
	Notices       *incident.Drafts // the notice to affected users (`notify draft`)
	Guests        *handlers.Guests // Slack guests never get personal data
	Recorders     recorders        // what the bot did, recorded before the publisher shows it
}

// watchDeps are what watching Clerk and the app's webhooks use.
type watchDeps struct {
	Watch           commands.StatusSource
	DiagnoseTargets []probe.DiagnoseTarget
	Check           probe.CheckInput
	Pictures        commands.Pictures // nil: no charts
	Resync          commands.Resyncer
	CheckWebhook    commands.EndpointCheck
	Webhooks        commands.WebhookPause
}

// appDeps are the app's deployments and the follow-ups' export.
type appDeps struct {
	App       vercelParts
	Followups commands.FollowupDeps
}

// clerkAccounts is every Clerk operation the families use (clerkops.Client).
type clerkAccounts interface {
	usecase.SessionClerk
	usecase.AccountReader
	usecase.ControlsClerk
	usecase.ReviewClerk
	commands.Dashboard
}

// recorders are the use cases that write what the bot saw or did (the
// timeline, the checklist, the audit log, long actions in flight) and
// then have the publisher show it.
type recorders struct {
	ticks     *usecase.Ticks
	notices   *usecase.Notices
	approvals *usecase.ApprovalNews
	work      *usecase.Work // built after the opener (its report facts)
}

// delivery is the publisher's parts and the ticks use case as one value
// for wiring: each family declares the few methods it uses as its own
// small interface, and this value has them all. Nothing outside cmd sees it.
type delivery struct {
	*publish.Cards
	*publish.Outbox
	*publish.Pages
	*publish.Files
	*publish.Posts
	*publish.Notes
	*publish.Approvals
	*publish.Names
	*usecase.Ticks
	notices  *usecase.Notices
	progress *publish.Progress
}

func newDelivery(p *publish.Publisher, rec recorders) delivery {
	if p == nil { // the table alone (help, tests)
		return delivery{}
	}
	return delivery{Cards: p.Cards, Outbox: p.Outbox, Pages: p.Pages, Files: p.Files, Posts: p.Posts, Notes: p.Notes,
		Approvals: p.Approvals, Names: p.Names, Ticks: rec.ticks, notices: rec.notices, progress: p.Progress}
}

// BypassNotice gives the bypass and webhook families the notice that is
// recorded on the timeline and then broadcast.
func (d delivery) BypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string) {
	d.notices.BypassNotice(ctx, incID, who, entry, line)
}

// StartProgress gives the security family the progress message as the
// small interface it declares.
func (d delivery) StartProgress(ctx context.Context, inc *incident.Incident, what string, total int) usecase.Progress {
	return d.progress.StartProgress(ctx, inc, what, total)
}

// handlers wires the families, in help order, and the handlers over them.
func (d familyDeps) handlers() *handlers.Handlers {
	pub := newDelivery(d.Publisher, d.Recorders)
	kit := commands.NewKit(d.Slack, d.Store, pub, d.Log, d.Now, d.Rooms)
	approvers := d.Approvers
	if approvers == nil {
		approvers = d.Auth
	}
	var ladders commands.LadderReader
	var esc commands.Escalator
	var stopper usecase.LadderStopper
	if d.Esc != nil {
		ladders, esc, stopper = d.Esc, d.Esc, d.Esc
	}
	charts := commands.NewCharts(kit, d.Pictures)
	var roster commands.Roster
	var accessOpts []commands.AccessOption
	if d.Roster != nil {
		roster = d.Roster
		accessOpts = append(accessOpts, commands.WithRota(d.Roster))
	}
	access := commands.NewAccess(kit, d.Auth, approvers, ladders, accessOpts...)
	requests := commands.NewRequests(kit, pub, d.Approvals, d.Observe, approvers)
	voider := usecase.NewVoider(d.Approvals, d.Recorders.approvals, d.Log)
	pages := usecase.NewStatusPages(struct {
		*incident.Store
		*incident.Markers
	}{d.Store, d.Markers}, d.StatusPage, d.Log)
	var poster commands.StatusPoster
	if pages != nil {
		poster = pages
	}
	resolver := usecase.NewResolver(usecase.ResolverDeps{Store: d.Store, Pub: pub, Esc: stopper, Voider: voider, Bypass: d.Bypass, Pages: pages, Runbook: d.Runbook, Log: d.Log})
	clerk := d.clerkCases(pub)
	var decider commands.Executor
	if d.Executor != nil {
		decider = d.Executor
	}
	security := commands.NewSecurity(kit, clerk.sessions, clerk.finder, requests)
	drafts := commands.NewDrafts(kit, commands.DraftsDeps{Store: d.Drafts, Pub: pub, Modals: d.Modals, UpdateChannel: d.UpdateChannel, StatusPage: poster})
	fams := []commands.Family{
		commands.NewOpening(kit, d.Store, pub, d.Opener, d.Runbook, d.Channel),
		commands.NewLifecycle(kit, pub, d.Runbook, resolver),
		commands.NewReports(kit, charts, d.Store, d.Affected, pub, followupLister(d.Followups)),
		commands.NewChecklist(kit, d.Store, pub, d.Runbook, access),
		commands.NewEscalation(kit, esc, d.Opener, d.Ladder),
		commands.NewContacts(kit, access, d.Contacts, d.Ladder, d.ContactProblems),
		commands.NewOnCall(kit, access, roster, d.OnCallSlack, d.Contacts),
		security,
		commands.NewHardening(kit, commands.HardeningDeps{Controls: clerk.controls, Reviews: clerk.reviews, Pub: pub, Affected: d.Affected, Requests: requests,
			Notices: commands.NewNotices(kit, d.Notices, pub, d.Modals, d.Runbook)}),
		commands.NewInvestigate(kit, struct {
			*incident.AffectedAccounts
			*incident.Markers
		}{d.Affected, d.Markers}, pub, clerk.accounts, d.Approvals, security, d.Sharing),
		commands.NewRoles(kit, d.Contacts.Names(), pub, access),
		commands.NewUpdates(kit, d.Drafts, pub, d.Runbook, d.UpdateEvery, drafts),
		drafts,
		commands.NewBypass(kit, d.Bypass, voider, pub, requests, d.BypassMax),
		commands.NewApprovals(kit, decider, access, pub, d.Observe, d.Approvals),
		commands.NewWatch(kit, charts, d.Store, pub, d.Runbook, d.Watch),
		commands.NewProbes(kit, charts, pub, d.DiagnoseTargets, d.Check),
		commands.NewWebhookCheck(kit, d.CheckWebhook, pub, clerk.dashboard),
		commands.NewResync(kit, commands.ResyncDeps{Runner: d.Resync, Webhooks: d.Webhooks, Check: d.CheckWebhook, Pub: pub, Channel: d.Channel}),
		commands.NewWebhooks(kit, d.Webhooks, pub),
		commands.NewDeploys(kit, d.App.family(d.Store, pub, pub, d.Now), requests),
		commands.NewAudit(kit, d.Audit),
		commands.NewFollowups(kit, d.Followups),
		commands.NewMilestones(kit, charts, d.Store, pub),
	}
	return handlers.New(handlers.Deps{Families: fams, Kit: kit, Access: access, Auth: d.Auth, People: pub, Approvals: d.Approvals,
		Audit: d.Audit, Observe: d.Observe, ReadLimit: d.ReadLimit, Views: drafts, Guests: d.Guests, Log: d.Log})
}

// clerkCases are the use cases over Clerk that the families call; without
// Clerk each says it is not configured.
type clerkCases struct {
	sessions  *usecase.Sessions
	accounts  *usecase.Investigation
	controls  *usecase.Controls
	reviews   *usecase.AccessReview
	finder    usecase.UserFinder // nil without Clerk
	dashboard commands.Dashboard // nil without Clerk
}

func (d familyDeps) clerkCases(pub delivery) clerkCases {
	var c clerkCases
	var sessionClerk usecase.SessionClerk
	var accountClerk usecase.AccountReader
	var controlsClerk usecase.ControlsClerk
	var reviewClerk usecase.ReviewClerk
	if d.Clerk != nil { // no typed nil: a nil interface is "not configured"
		sessionClerk, accountClerk, controlsClerk, reviewClerk, c.finder, c.dashboard = d.Clerk, d.Clerk, d.Clerk, d.Clerk, d.Clerk, d.Clerk
	}
	c.sessions = usecase.NewSessions(sessionClerk, d.Store, d.Affected, pub, d.Now, d.Log)
	c.accounts = usecase.NewInvestigation(accountClerk, d.Store, d.Affected, pub, d.Log)
	c.controls = usecase.NewControls(controlsClerk, d.Store, pub, d.Log)
	c.reviews = usecase.NewAccessReview(reviewClerk)
	return c
}

// PostResyncProgress gives the resync family the progress part's post.
func (d delivery) PostResyncProgress(ctx context.Context, channel, thread string, j *resync.Job) (string, error) {
	return d.progress.PostResyncProgress(ctx, channel, thread, j)
}

// followupLister is the follow-ups the report lists (nil when off).
func followupLister(d commands.FollowupDeps) commands.FollowupLister {
	if d.Store == nil {
		return nil
	}
	return d.Store
}
