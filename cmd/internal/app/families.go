package app

import (
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
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// familyDeps is what assemble gathers for the command families, by
// responsibility: each optional part stays a nil interface when it is not
// configured, so a family sees "not configured" as nil.
type familyDeps struct {
	incidents incidentDeps
	people    peopleDeps
	actions   actionDeps
	watch     watchDeps
	apps      appDeps
	// publisher and recorders are what the families show and record their
	// work through (publisher nil: the table alone, for help and tests).
	publisher *publish.Publisher
	recorders recorders
}

// incidentDeps are the incident's stores, Slack and the opener.
type incidentDeps struct {
	Store    *incident.Store
	Drafts   *incident.Drafts
	Affected *incident.AffectedAccounts
	Markers  *incident.Markers
	Slack    handlers.Slack
	Opener   *usecase.Opener
	Runbook  *incident.Runbook
	Channel  string
	Log      logrus.FieldLogger
	Now      func() time.Time
	Rooms    commands.RoomLookup // nil: INCIDENT_CHANNELS off
}

// peopleDeps are who may do what, who is paged, and what is recorded.
type peopleDeps struct {
	Auth            *handlers.Authorizer
	Approvers       *handlers.Authorizer // nil: the responders approve
	Esc             *escalation.Engine   // nil without a contacts file
	Ladder          *escalation.Ladder
	Contacts        *escalation.Contacts
	ContactProblems []escalation.Problem
	Audit           auditLog
	Observe         handlers.Observer
	ReadLimit       handlers.ReadLimiter
	Sharing         *commands.Sharing // who reads a thread; shares with the responders only
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

// auditLog records each command and reads the log back (audit.Log).
type auditLog interface {
	handlers.Auditor
	commands.AuditReader
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

// handlers wires the families, in help order, and the handlers over them.
func (f familyDeps) handlers() *handlers.Handlers {
	in, pe, ac := f.incidents, f.people, f.actions
	if f.publisher == nil {
		f.publisher = &publish.Publisher{}
	}
	pub := f.publisher
	kit := commands.NewKit(in.Slack, in.Store, pub.Cards, in.Log, in.Now, in.Rooms)
	approvers := pe.Approvers
	if approvers == nil {
		approvers = pe.Auth
	}
	var ladders commands.LadderReader
	if pe.Esc != nil {
		ladders = pe.Esc
	}
	var accessOpts []commands.AccessOption
	if pe.Roster != nil {
		accessOpts = append(accessOpts, commands.WithRota(pe.Roster))
	}
	w := familyWiring{familyDeps: f, kit: kit, charts: commands.NewCharts(kit, f.watch.Pictures),
		access:   commands.NewAccess(kit, pe.Auth, approvers, ladders, accessOpts...),
		requests: commands.NewRequests(kit, requestOutput{pub.Approvals, pub.Cards}, ac.Approvals, pe.Observe, approvers),
		voider:   usecase.NewVoider(ac.Approvals, f.recorders.approvals, in.Log),
		pages:    usecase.NewStatusPages(storeMarkers{in.Store, in.Markers}, ac.StatusPage, in.Log)}
	fams, drafts := w.families()
	return handlers.New(handlers.Deps{Families: fams, Kit: kit, Access: w.access, Auth: pe.Auth, People: pub.Names, Approvals: ac.Approvals,
		Audit: pe.Audit, Observe: pe.Observe, ReadLimit: pe.ReadLimit, Views: drafts, Guests: ac.Guests, Log: in.Log})
}

// familyWiring is what several families share while they are built: the
// kit, the charts, who may do what, approval requests, voiding and the
// status page.
type familyWiring struct {
	familyDeps
	kit      *commands.Kit
	charts   *commands.Charts
	access   *commands.Access
	requests *commands.Requests
	voider   *usecase.Voider
	pages    *usecase.StatusPages // nil: no status page
}

// families are the command families in help order, and the drafts family
// that also serves the handlers' views.
func (f familyWiring) families() ([]commands.Family, *commands.Drafts) {
	in, pe, ac, wa, ap := f.incidents, f.people, f.actions, f.watch, f.apps
	pub, kit, ticks := f.publisher, f.kit, f.recorders.ticks
	var esc commands.Escalator
	if pe.Esc != nil {
		esc = pe.Esc
	}
	var roster commands.Roster
	if pe.Roster != nil {
		roster = pe.Roster
	}
	var decider commands.Executor
	if ac.Executor != nil {
		decider = ac.Executor
	}
	clerk := f.clerkCases()
	thread := threadTicks{pub.Outbox, ticks}
	security := commands.NewSecurity(kit, clerk.sessions, clerk.finder, f.requests)
	drafts := commands.NewDrafts(kit, commands.DraftsDeps{Store: in.Drafts, Pub: draftOutput{pub.Cards, pub.Posts, ticks}, Modals: ac.Modals,
		UpdateChannel: ac.UpdateChannel, StatusPage: f.statusPoster()})
	return []commands.Family{
		commands.NewOpening(kit, in.Store, pub.Cards, in.Opener, in.Runbook, in.Channel),
		commands.NewLifecycle(kit, pub.Outbox, in.Runbook, f.resolver()),
		commands.NewReports(kit, f.charts, in.Store, in.Affected, fileTicks{pub.Files, ticks}, followupLister(ap.Followups)),
		commands.NewChecklist(kit, in.Store, pub.Cards, in.Runbook, f.access),
		commands.NewEscalation(kit, esc, in.Opener, pe.Ladder),
		commands.NewContacts(kit, f.access, pe.Contacts, pe.Ladder, pe.ContactProblems),
		commands.NewOnCall(kit, f.access, roster, pe.OnCallSlack, pe.Contacts),
		security,
		commands.NewHardening(kit, commands.HardeningDeps{Controls: clerk.controls, Reviews: clerk.reviews, Pub: fileTicks{pub.Files, ticks},
			Affected: in.Affected, Requests: f.requests,
			Notices: commands.NewNotices(kit, ac.Notices, noticeOutput{pub.Posts, ticks}, ac.Modals, in.Runbook)}),
		commands.NewInvestigate(kit, affectedMarkers{in.Affected, in.Markers}, threadFiles{pub.Outbox, pub.Files}, clerk.accounts, ac.Approvals, security, pe.Sharing),
		commands.NewRoles(kit, pe.Contacts.Names(), pub.Names, f.access),
		commands.NewUpdates(kit, in.Drafts, draftOutput{pub.Cards, pub.Posts, ticks}, in.Runbook, ac.UpdateEvery, drafts),
		drafts,
		commands.NewBypass(kit, ac.Bypass, f.voider, f.recorders.notices, f.requests, ac.BypassMax),
		commands.NewApprovals(kit, decider, f.access, decisionOutput{pub.Approvals, pub.Files, ticks}, pe.Observe, ac.Approvals),
		commands.NewWatch(kit, f.charts, in.Store, pub.Cards, in.Runbook, wa.Watch),
		commands.NewProbes(kit, f.charts, thread, wa.DiagnoseTargets, wa.Check),
		commands.NewWebhookCheck(kit, wa.CheckWebhook, thread, clerk.dashboard),
		commands.NewResync(kit, commands.ResyncDeps{Runner: wa.Resync, Webhooks: wa.Webhooks, Check: wa.CheckWebhook,
			Pub: resyncOutput{progressOutput{pub.Progress}, pub.Cards}, Channel: in.Channel}),
		commands.NewWebhooks(kit, wa.Webhooks, pauseOutput{pub.Outbox, f.recorders.notices, ticks}),
		commands.NewDeploys(kit, ap.App.family(in.Store, pub.Outbox, ticks, in.Now), f.requests),
		commands.NewAudit(kit, pe.Audit),
		commands.NewFollowups(kit, ap.Followups),
		commands.NewMilestones(kit, f.charts, in.Store, pub.Cards),
	}, drafts
}

// affectedMarkers are the affected accounts and the markers investigate
// reads and sets.
type affectedMarkers struct {
	*incident.AffectedAccounts
	*incident.Markers
}

// statusPoster posts to the status page (nil when it is not configured).
func (f familyWiring) statusPoster() commands.StatusPoster {
	if f.pages != nil {
		return f.pages
	}
	return nil
}

// storeMarkers are the incidents and the markers the status page posts
// read and claim.
type storeMarkers struct {
	*incident.Store
	*incident.Markers
}

// resolver resolves incidents: it stops the ladder, voids what waits for
// approval, ends the bypass and updates the status page.
func (f familyWiring) resolver() *usecase.Resolver {
	in := f.incidents
	var stopper usecase.LadderStopper
	if f.people.Esc != nil {
		stopper = f.people.Esc
	}
	return usecase.NewResolver(usecase.ResolverDeps{Store: in.Store, Pub: resolveOutput{f.publisher.Cards, f.recorders.notices}, Esc: stopper,
		Voider: f.voider, Bypass: f.actions.Bypass, Pages: f.pages, Runbook: in.Runbook, Log: in.Log})
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

func (f familyWiring) clerkCases() clerkCases {
	in, pub, ticks := f.incidents, f.publisher, f.recorders.ticks
	var c clerkCases
	var sessionClerk usecase.SessionClerk
	var accountClerk usecase.AccountReader
	var controlsClerk usecase.ControlsClerk
	var reviewClerk usecase.ReviewClerk
	if cl := f.actions.Clerk; cl != nil { // no typed nil: a nil interface is "not configured"
		sessionClerk, accountClerk, controlsClerk, reviewClerk, c.finder, c.dashboard = cl, cl, cl, cl, cl, cl
	}
	c.sessions = usecase.NewSessions(sessionClerk, in.Store, in.Affected, sessionOutput{pub.Outbox, pub.Files, progressOutput{pub.Progress}, ticks}, in.Now, in.Log)
	c.accounts = usecase.NewInvestigation(accountClerk, in.Store, in.Affected, ticks, in.Log)
	c.controls = usecase.NewControls(controlsClerk, in.Store, threadTicks{pub.Outbox, ticks}, in.Log)
	c.reviews = usecase.NewAccessReview(reviewClerk)
	return c
}

// followupLister is the follow-ups the report lists (nil when off).
func followupLister(d commands.FollowupDeps) commands.FollowupLister {
	if d.Store == nil {
		return nil
	}
	return d.Store
}
