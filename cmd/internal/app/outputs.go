package app

import (
	"context"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// A family, Doer or use case that shows its work through one publisher
// part (or records it through one recording use case) is handed that
// part. One that needs several is handed one of the values below, which
// holds exactly those parts, each as the small interface here naming what
// the families use of it.

// cardOutput is the incident card and checklist (publish.Cards).
type cardOutput interface {
	Changed(ctx context.Context, inc *incident.Incident) error
	Refresh(ctx context.Context, inc *incident.Incident) error
	PostChecklist(ctx context.Context, inc *incident.Incident)
	LadderState(ctx context.Context, id string) *escalation.State
	WithCard(ctx context.Context, inc *incident.Incident) *incident.Incident
}

// threadOutput is the incident thread's lines (publish.Outbox).
type threadOutput interface {
	Thread(ctx context.Context, inc *incident.Incident, text string)
	Rerender(ctx context.Context, id string)
}

// fileOutput is uploads to a thread or to one person (publish.Files).
type fileOutput interface {
	UploadToUser(ctx context.Context, user, name, title, content, comment string) error
	Attach(ctx context.Context, inc *incident.Incident, name, title, content, comment string)
	UploadReport(ctx context.Context, inc *incident.Incident, markdown string) error
}

// postOutput is the drafts, notices and updates posted (publish.Posts).
type postOutput interface {
	PostDraft(ctx context.Context, inc *incident.Incident, text string) (string, error)
	ShowDraft(ctx context.Context, inc *incident.Incident, ts string, m bot.Msg) error
	PostNotice(ctx context.Context, inc *incident.Incident, text string) (string, error)
	AnnounceUpdate(ctx context.Context, channel, incID, text string) error
}

// channelLines is the lines said in the incidents' channel (publish.Notes).
type channelLines interface {
	ChannelLine(ctx context.Context, text string)
}

// bypassNotices records a bypass or pause notice on the timeline and then
// has it shown (usecase.Notices).
type bypassNotices interface {
	BypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string)
}

// approvalOutput is the approval messages (publish.Approvals).
type approvalOutput interface {
	PostApproval(ctx context.Context, inc *incident.Incident, ar *approval.Request, approvers string) (string, bool)
	ShowDecision(ctx context.Context, ar *approval.Request)
}

// tickOutput ticks checklist steps and records what the bot did
// (usecase.Ticks).
type tickOutput interface {
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
	System(ctx context.Context, actor, action, detail, incidentID string)
}

// progressOutput is the progress messages of bulk actions and resyncs,
// each as its consumer declares it (publish.Progress).
type progressOutput struct{ progress *publish.Progress }

// StartProgress starts a bulk action's progress message in the thread.
func (p progressOutput) StartProgress(ctx context.Context, inc *incident.Incident, what string, total int) usecase.Progress {
	return p.progress.StartProgress(ctx, inc, what, total)
}

// PostResyncProgress posts a resync's progress message.
func (p progressOutput) PostResyncProgress(ctx context.Context, channel, thread string, j *resync.Job) (string, error) {
	return p.progress.PostResyncProgress(ctx, channel, thread, j)
}

// threadTicks is thread lines and ticks: the deploys and the deploy check
// after an open, the webhook check, the probes and Clerk's controls.
type threadTicks struct {
	threadOutput
	tickOutput
}

// threadFiles is what investigate shows through: thread lines and files to
// the one who asked.
type threadFiles struct {
	threadOutput
	fileOutput
}

// fileTicks is uploads and their ticks: the report and hardening.
type fileTicks struct {
	fileOutput
	tickOutput
}

// noticeOutput is the notice to affected users: its post, its preview and
// its tick.
type noticeOutput struct {
	postOutput
	tickOutput
}

// draftOutput is the status updates' drafts: their posts, the card they
// change and their ticks.
type draftOutput struct {
	cardOutput
	postOutput
	tickOutput
}

// sessionOutput is what revoking sessions shows through: thread lines,
// attachments, bulk progress and ticks.
type sessionOutput struct {
	threadOutput
	fileOutput
	progressOutput
	tickOutput
}

// pauseOutput is the webhook pause's notices, card re-renders and ticks.
type pauseOutput struct {
	threadOutput
	bypassNotices
	tickOutput
}

// requestOutput is the approval requests' messages and the card they sit
// under.
type requestOutput struct {
	approvalOutput
	cardOutput
}

// decisionOutput is an approver's decision: its message, what it hands the
// approver and its audit entry.
type decisionOutput struct {
	approvalOutput
	fileOutput
	tickOutput
}

// resyncOutput is the resync's progress message and the card it sits under.
type resyncOutput struct {
	progressOutput
	cardOutput
}

// resolveOutput is what resolving shows through: the card and the bypass
// notice when resolving ends the bypass.
type resolveOutput struct {
	cardOutput
	bypassNotices
}

// cardLines is the card and the channel's lines: PagerDuty's read-back.
type cardLines struct {
	cardOutput
	channelLines
}
