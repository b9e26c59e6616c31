package handlers

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// wiring is what the tests give the handlers; the rest is not configured.
type wiring struct {
	stores    incident.Stores
	out       *bot.Slack
	pub       *publish.Publisher
	rb        *incident.Runbook
	auth      *Authorizer
	approvals *approval.Store
	bypass    *bypass.Store
	executor  *approval.Executor
	audit     *audit.Log
	log       logrus.FieldLogger
	now       func() time.Time // nil: time.Now
}

// delivery is the publisher's parts and the recording use cases as one
// value the tests hand every family (package app hands each family only
// the parts it uses: cmd/internal/app/outputs.go).
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

func newDelivery(p *publish.Publisher, ticks *usecase.Ticks, notices *usecase.Notices) delivery {
	return delivery{Cards: p.Cards, Outbox: p.Outbox, Pages: p.Pages, Files: p.Files, Posts: p.Posts, Notes: p.Notes,
		Approvals: p.Approvals, Names: p.Names, Ticks: ticks, notices: notices, progress: p.Progress}
}

func (d delivery) BypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string) {
	d.notices.BypassNotice(ctx, incID, who, entry, line)
}

func (d delivery) StartProgress(ctx context.Context, inc *incident.Incident, what string, total int) usecase.Progress {
	return d.progress.StartProgress(ctx, inc, what, total)
}

func (d delivery) PostResyncProgress(ctx context.Context, channel, thread string, j *resync.Job) (string, error) {
	return d.progress.PostResyncProgress(ctx, channel, thread, j)
}

// wire builds the families and the handlers as the program does (package
// app), over what the test gives, channel C1.
func wire(w wiring) *Handlers {
	// The ticks use case as the program builds it, without an audit log.
	ticks := usecase.NewTicks(w.stores.Incidents, w.rb, nil, w.log)
	pub := newDelivery(w.pub, ticks, usecase.NewNotices(w.stores.Incidents, ticks, w.pub.Notes, w.log))
	now := w.now
	if now == nil {
		now = time.Now
	}
	kit := commands.NewKit(w.out, w.stores.Incidents, pub, w.log, now, nil)
	access := commands.NewAccess(kit, w.auth, w.auth, nil)
	requests := commands.NewRequests(kit, pub, w.approvals, nil, w.auth)
	voider := usecase.NewVoider(w.approvals, usecase.NewApprovalNews(ticks, w.pub.Approvals, nil), w.log)
	opener := usecase.NewOpener(w.stores.Incidents, usecase.OpenerOutput{Cards: w.pub.Cards, Thread: w.pub.Outbox, Alerts: w.pub.Posts}, nil, nil, w.log, nil, usecase.WithTicks(ticks))
	resolver := usecase.NewResolver(usecase.ResolverDeps{Store: w.stores.Incidents, Pub: pub, Voider: voider, Bypass: w.bypass, Log: w.log})
	var decider commands.Executor
	if w.executor != nil {
		decider = w.executor
	}
	var auditLog interface {
		Auditor
		commands.AuditReader
	}
	if w.audit != nil {
		auditLog = w.audit
	}
	security := commands.NewSecurity(kit, usecase.NewSessions(nil, w.stores.Incidents, w.stores.Affected, pub, now, w.log), nil, requests)
	drafts := commands.NewDrafts(kit, commands.DraftsDeps{Store: w.stores.Drafts, Pub: pub})
	fams := []commands.Family{
		commands.NewOpening(kit, w.stores.Incidents, pub, opener, w.rb, "C1"),
		commands.NewLifecycle(kit, pub, w.rb, resolver),
		commands.NewReports(kit, nil, w.stores.Incidents, w.stores.Affected, pub, nil),
		commands.NewChecklist(kit, w.stores.Incidents, pub, w.rb, access),
		commands.NewEscalation(kit, nil, opener, nil),
		commands.NewContacts(kit, access, nil, nil, nil),
		security,
		commands.NewHardening(kit, commands.HardeningDeps{Controls: usecase.NewControls(nil, w.stores.Incidents, pub, w.log), Reviews: usecase.NewAccessReview(nil), Pub: pub, Affected: w.stores.Affected, Requests: requests,
			Notices: commands.NewNotices(kit, w.stores.Notices, pub, nil, w.rb)}),
		commands.NewInvestigate(kit, struct {
			*incident.AffectedAccounts
			*incident.Markers
		}{w.stores.Affected, w.stores.Markers}, pub, usecase.NewInvestigation(nil, w.stores.Incidents, w.stores.Affected, pub, w.log), w.approvals, security, commands.NewSharing(w.out, w.auth, w.log)),
		commands.NewRoles(kit, nil, pub, access),
		commands.NewUpdates(kit, w.stores.Drafts, pub, w.rb, nil, drafts),
		drafts,
		commands.NewBypass(kit, w.bypass, voider, pub, requests, 0),
		commands.NewApprovals(kit, decider, access, pub, nil, w.approvals),
		commands.NewWatch(kit, nil, w.stores.Incidents, pub, w.rb, nil),
		commands.NewProbes(kit, nil, pub, nil, probe.CheckInput{}),
		commands.NewWebhookCheck(kit, nil, pub, nil),
		commands.NewResync(kit, commands.ResyncDeps{Pub: pub, Channel: "C1"}),
		commands.NewWebhooks(kit, nil, pub),
		commands.NewDeploys(kit, commands.AppDeps{}, requests),
		commands.NewAudit(kit, auditLog),
		commands.NewFollowups(kit, commands.FollowupDeps{}),
		commands.NewMilestones(kit, nil, w.stores.Incidents, pub),
	}
	return New(Deps{Families: fams, Kit: kit, Access: access, Auth: w.auth, People: pub, Approvals: w.approvals,
		Audit: auditLog, ReadLimit: nil, Views: drafts, Log: w.log})
}
