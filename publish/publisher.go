// Package publish is the Slack publisher: everything that turns domain
// state into Slack messages lives here (the incident card, the checklist
// message, thread lines, page DMs, progress messages, approval messages and
// the catch-up of stale cards). It implements the escalation Pager, the
// statuswatch and resync Reporters, the bypass Notifier and the approval
// Announcer, so those domain packages never speak Slack themselves.
package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/sirupsen/logrus"
)

// Store is what the publisher needs of the incident store.
type Store interface {
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
	Current(ctx context.Context, id string) (*incident.Incident, error)
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	MarkStale(ctx context.Context, id string) error
	Stale(ctx context.Context) ([]string, error)
	ClearStale(ctx context.Context, id string) error
	StaleRetry(ctx context.Context, id string) (int, time.Time, error)
	SetStaleRetry(ctx context.Context, id string, attempts int, next time.Time) error
	Lease(name, owner string) *redisx.Lease
	QueueRender(ctx context.Context, id string, at time.Time) error
	DueRenders(ctx context.Context, now time.Time) ([]string, error)
	ClaimRender(ctx context.Context, id string) (bool, error)
	PaceRender(ctx context.Context, id string, gap time.Duration) (time.Duration, error)
	QueueLine(ctx context.Context, channel, incidentID, text string) error
	LineChannels(ctx context.Context, now time.Time) ([]string, error)
	PendingLines(ctx context.Context, channel string, n int) ([]incident.Line, error)
	DoneLines(ctx context.Context, channel string, lines []incident.Line) error
	DeferLines(ctx context.Context, channel string, t time.Time) error
}

// Slack is the outbound Slack API.
type Slack interface {
	Post(ctx context.Context, channel, threadTS string, m bot.Msg) (string, error)
	Update(ctx context.Context, channel, ts string, m bot.Msg) error
	Upload(ctx context.Context, channel, threadTS, filename, title, content, comment string) error
	OpenDM(ctx context.Context, user string) (string, error)
}

// GroupLister expands a Slack user group into its members.
type GroupLister interface {
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Ladders reads escalation state for the card (escalation.States).
type Ladders interface {
	Get(ctx context.Context, id string) (*escalation.State, error)
}

// Auditor records what the bot did by itself.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry)
}

// Observer counts approvals (metrics).
type Observer interface {
	Approval(outcome string)
}

// Publisher turns domain state into Slack messages.
type Publisher struct {
	store     Store
	slack     Slack
	groups    GroupLister
	rb        *incident.Runbook
	ladders   Ladders
	audit     Auditor
	observe   Observer
	channel   string
	names     map[string]string
	owner     string // this process, for catch-up leases
	kick      chan struct{}
	renderGap time.Duration
	mu        sync.Mutex
	lineFails map[string]int    // channel → posts refused in a row
	dms       map[string]string // user → DM channel
	users     UserNames
	userNames map[string]cachedName // user → Slack display name
	log       logrus.FieldLogger
	now       func() time.Time
	guard     *guard.Guard // runs the publisher's own goroutines (SetGuard)
	webhooks  WebhookPause // the card's pause line (SetWebhookPause; nil: none)
	rooms     CardWatcher  // nil: no incident channels
}

// Deps lists what the publisher is built from. Ladders, Audit and
// Observe may be nil.
type Deps struct {
	Store   Store
	Slack   Slack
	Groups  GroupLister
	Runbook *incident.Runbook
	Ladders Ladders
	Audit   Auditor
	Observe Observer
	Channel string // SLACK_CHANNEL_ID, may be empty
	// Names maps Slack IDs to the names contacts.yml gives them.
	Names map[string]string
	// Users looks up Slack display names (nil: contacts.yml names only).
	Users UserNames
	// RenderGap paces card refreshes per incident (0: DefaultRenderGap).
	RenderGap time.Duration
	Log       logrus.FieldLogger
	Now       func() time.Time
	// Rooms follows each card render (rooms.Rooms; nil: INCIDENT_CHANNELS off).
	Rooms CardWatcher
}

// New builds the publisher.
func New(d Deps) *Publisher {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	if d.RenderGap <= 0 {
		d.RenderGap = DefaultRenderGap
	}
	return &Publisher{owner: hex.EncodeToString(b), kick: make(chan struct{}, 1), renderGap: d.RenderGap, lineFails: map[string]int{}, dms: map[string]string{}, userNames: map[string]cachedName{}, users: d.Users, store: d.Store, slack: d.Slack, groups: d.Groups, rb: d.Runbook, ladders: d.Ladders, audit: d.Audit,
		observe: d.Observe, channel: d.Channel, names: d.Names, log: d.Log, now: d.Now, rooms: d.Rooms}
}

// CardWatcher follows each render of a card: the incident channel's
// announcement and archive follow the incident's status.
type CardWatcher interface {
	CardChanged(ctx context.Context, inc *incident.Incident)
}

// SetGuard names the guard the publisher's goroutines run under (the
// guard reports through the publisher, so it is built after it).
func (p *Publisher) SetGuard(g *guard.Guard) { p.guard = g }

// Channel is where incidents without a channel of their own go.
func (p *Publisher) Channel() string { return p.channel }

// Refresh brings the card and checklist up to date with the incident. A
// card not posted yet is posted now (its thread is needed at once); an
// existing one is refreshed by the renderer, at most once a second per
// incident, from the latest state: a burst of changes is one chat.update,
// and the person who typed is answered first. The returned error is the
// post's, when the card could not be posted.
func (p *Publisher) Refresh(ctx context.Context, inc *incident.Incident) error {
	if inc.CardTS == "" && inc.Channel != "" {
		return p.refreshNow(ctx, inc)
	}
	if err := p.store.QueueRender(ctx, inc.ID, time.Now()); err != nil {
		return p.refreshNow(ctx, inc) // Redis hiccup: render now rather than lose it
	}
	p.wake()
	return nil
}

// Changed follows a change written with its line and refresh queued in
// the same transaction (incident.After): a card not posted yet is posted
// now; otherwise the renderer and the line poster are woken.
func (p *Publisher) Changed(ctx context.Context, inc *incident.Incident) error {
	if inc.CardTS == "" && inc.Channel != "" {
		return p.refreshNow(ctx, inc)
	}
	p.wake()
	return nil
}

// refreshNow re-renders at once. Concurrent changes may finish their
// updates in any order, so after writing it re-reads the incident and
// renders again until what it wrote is the latest version.
func (p *Publisher) refreshNow(ctx context.Context, inc *incident.Incident) error {
	var rerr error
	for range 8 {
		rerr = p.render(ctx, inc)
		latest, err := p.store.Current(ctx, inc.ID)
		if err != nil || latest.Version == inc.Version {
			return rerr
		}
		timeline := inc.Timeline
		*inc = *latest
		inc.Timeline = timeline
	}
	return rerr
}

// DefaultRenderGap is the least time between two refreshes of one
// incident's messages: Slack's chat.update is Tier 3 (about 50 a minute),
// and a busy incident has five people clicking. It is real time: it paces
// Slack, not the incident.
const DefaultRenderGap = time.Second

// RunRenderer refreshes queued cards and posts queued thread lines until
// ctx ends, on every replica; each refresh and each channel's lines are
// claimed in Redis, so one replica does each.
func (p *Publisher) RunRenderer(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
		p.RenderDue(ctx)
		p.PostDueLines(ctx)
	}
}

// RenderDue refreshes every card whose refresh is due.
func (p *Publisher) RenderDue(ctx context.Context) {
	ids, err := p.store.DueRenders(ctx, time.Now())
	if err != nil {
		return
	}
	for _, id := range ids {
		if ok, err := p.store.ClaimRender(ctx, id); err != nil || !ok {
			continue
		}
		if wait, err := p.store.PaceRender(ctx, id, p.renderGap); err == nil && wait > 0 {
			_ = p.store.QueueRender(ctx, id, time.Now().Add(wait))
			continue
		}
		inc, err := p.store.Current(ctx, id)
		if err != nil {
			continue
		}
		_ = p.render(ctx, inc)
	}
}

// render writes the card and checklist; when Slack refuses, the incident
// is marked stale and the sweep catches the card up later.
func (p *Publisher) render(ctx context.Context, inc *incident.Incident) error {
	if p.rooms != nil {
		defer func() { p.rooms.CardChanged(ctx, inc) }()
	}
	spec := p.rb.Spec(inc.Category)
	card := p.withPause(ctx, inc, Card(inc, spec, p.LadderState(ctx, inc.ID), p.now()))
	var failed error
	if inc.CardTS == "" && inc.Channel != "" {
		// Only one request posts the card; the others wait for its ts.
		if first, err := p.store.Once(ctx, "card-post:"+inc.ID, 30*time.Second); err == nil && !first {
			if cur := p.WithCard(ctx, inc); cur.CardTS != "" {
				*inc = *cur
				card = p.withPause(ctx, inc, Card(inc, spec, p.LadderState(ctx, inc.ID), p.now()))
			}
		}
	}
	if inc.CardTS == "" {
		if inc.Channel == "" {
			return nil
		}
		ts, err := p.slack.Post(ctx, inc.Channel, "", card)
		if err != nil {
			p.log.WithError(err).WithField("incident", inc.ID).Warn("could not post incident card")
			_ = p.store.MarkStale(ctx, inc.ID)
			return fmt.Errorf("post the card of %s: %w", inc.ID, err)
		}
		if updated, err := p.store.Update(ctx, inc.ID, incident.SetCard(inc.Channel, ts)); err == nil {
			*inc = *updated
		}
	} else if err := p.slack.Update(ctx, inc.Channel, inc.CardTS, card); err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).Warn("could not update incident card")
		failed = fmt.Errorf("update the card of %s: %w", inc.ID, err)
	}
	if inc.ChecklistTS != "" && spec != nil {
		if err := p.slack.Update(ctx, inc.Channel, inc.ChecklistTS, ChecklistMsg(inc, spec)); err != nil {
			p.log.WithError(err).WithField("incident", inc.ID).Warn("could not update checklist")
			failed = cmpOr(failed, fmt.Errorf("update the checklist of %s: %w", inc.ID, err))
		}
	}
	if failed != nil {
		_ = p.store.MarkStale(ctx, inc.ID)
	}
	return failed
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// catchUp re-renders cards that could not be updated (Slack was down, or
// the change came from the break-glass CLI); a new card gets its checklist.
func (p *Publisher) CatchUp(ctx context.Context) {
	ids, err := p.store.Stale(ctx)
	if err != nil {
		return
	}
	now := p.now()
	for _, id := range ids {
		// A card Slack keeps refusing (the bot left the channel) is retried
		// with backoff up to every 5 minutes, not every sweep forever.
		attempts, next, err := p.store.StaleRetry(ctx, id)
		if err != nil || now.Before(next) {
			continue
		}
		// One replica at a time, or two would post two cards.
		lease := p.store.Lease("catch-up:"+id, p.owner)
		if ok, err := lease.Take(ctx, 30*time.Second); err != nil || !ok {
			continue
		}
		p.catchUp(ctx, id, attempts, now)
		_ = lease.Release(context.WithoutCancel(ctx))
	}
}

// maxCardRetry caps the backoff of a card Slack keeps refusing.
const maxCardRetry = 5 * time.Minute

func (p *Publisher) catchUp(ctx context.Context, id string, attempts int, now time.Time) {
	inc, err := p.store.Current(ctx, id)
	if err != nil {
		_ = p.store.ClearStale(ctx, id)
		return
	}
	hadCard := inc.CardTS != ""
	if err := p.render(ctx, inc); err != nil {
		wait := min(5*time.Second<<min(attempts, 6), maxCardRetry)
		_ = p.store.SetStaleRetry(ctx, id, attempts+1, now.Add(wait))
		p.log.WithError(err).WithField("incident", id).WithField("retry_in", wait).Warn("card still behind")
		return
	}
	_ = p.store.ClearStale(ctx, id)
	if !hadCard && inc.CardTS != "" {
		p.PostChecklist(ctx, inc)
		p.Thread(ctx, inc, fmt.Sprintf("This card caught up after Slack was unreachable; the timeline has everything done meanwhile (`/clerk-incident status %s`).", inc.ID))
	}
}

// withCard waits briefly for the card of a just-opened incident: a
// command typed right after `open` may run before the card's ts is stored,
// and its thread line belongs under the card, not at the top level.
func (p *Publisher) WithCard(ctx context.Context, inc *incident.Incident) *incident.Incident {
	if inc.CardTS != "" || inc.Channel == "" || p.now().Sub(inc.OpenedAt) > 30*time.Second {
		return inc
	}
	for range 20 {
		cur, err := p.store.Current(ctx, inc.ID)
		if err != nil {
			return inc
		}
		if cur.CardTS != "" {
			return cur
		}
		if stale, _ := p.store.Stale(ctx); slices.Contains(stale, inc.ID) {
			return inc // the card could not be posted: no point waiting
		}
		select {
		case <-ctx.Done():
			return inc
		case <-time.After(100 * time.Millisecond):
		}
	}
	return inc
}

func (p *Publisher) PostChecklist(ctx context.Context, inc *incident.Incident) {
	spec := p.rb.Spec(inc.Category)
	if spec == nil || inc.Channel == "" {
		return
	}
	ts, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, ChecklistMsg(inc, spec))
	if err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).Warn("could not post checklist")
		return
	}
	if _, err := p.store.Update(ctx, inc.ID, incident.SetChecklistMessage(ts)); err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).Warn("could not remember checklist message")
	}
}

func (p *Publisher) LadderState(ctx context.Context, id string) *escalation.State {
	if p.ladders == nil {
		return nil
	}
	st, err := p.ladders.Get(ctx, id)
	if err != nil {
		return nil
	}
	return st
}

// system writes an audit entry for something the bot did by itself.
func (p *Publisher) System(ctx context.Context, actor, action, detail, incidentID string) {
	if p.audit == nil {
		return
	}
	p.audit.Record(context.WithoutCancel(ctx), audit.Entry{Actor: actor, Action: action, Detail: Truncate(OneLine(detail), 300), Incident: incidentID, Outcome: "ok"})
}

// AutoTick ticks the checklist step an action just performed (one of the
// incident.Step… phrases), as done by who through what. A step already
// ticked, or one the category lacks, is left as it is.
func (p *Publisher) AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string) {
	if incidentID == "" {
		return
	}
	inc, err := p.store.UpdateThen(ctx, incidentID, incident.AutoTick(p.rb, who, step, what), incident.After{Render: true})
	if err != nil {
		if !errors.Is(err, incident.ErrNoChange) {
			p.log.WithError(err).WithField("incident", incidentID).WithField("step", step).Warn("could not tick the step the action performed")
		}
		return
	}
	_ = p.Changed(ctx, inc)
}

// UpdateChecklist re-renders a checklist message (the current one, or an
// older copy someone clicked).
func (p *Publisher) UpdateChecklist(ctx context.Context, inc *incident.Incident, channel, ts string) error {
	spec := p.rb.Spec(inc.Category)
	if spec == nil {
		return nil
	}
	return p.slack.Update(ctx, channel, ts, ChecklistMsg(inc, spec))
}

// UploadReport attaches the post-incident report to the card's thread.
func (p *Publisher) UploadReport(ctx context.Context, inc *incident.Incident, markdown string) error {
	name := strings.ToLower(inc.ID) + "-postmortem.md"
	return p.slack.Upload(ctx, inc.Channel, inc.CardTS, name, "Incident Report: "+inc.Title, markdown, "Post-incident report for "+inc.ID)
}

// Failed implements guard.Alarm: once an hour per job and incident, the
// thread (or the channel) hears that a background job hit an internal
// error and carried on.
func (p *Publisher) Failed(ctx context.Context, job, incidentID string) {
	if first, err := p.store.Once(ctx, "panic:"+job+":"+incidentID, time.Hour); err != nil || !first {
		return
	}
	text := fmt.Sprintf(":warning: The bot's %s hit an internal error and carried on; the details and stack are in its logs. Check that the last step really happened.", job)
	if incidentID != "" {
		if inc, err := p.store.Current(ctx, incidentID); err == nil && inc.Channel != "" {
			p.Thread(ctx, inc, text)
			return
		}
	}
	if p.channel == "" {
		return
	}
	if _, err := p.slack.Post(ctx, p.channel, "", Text(text)); err != nil {
		p.log.WithError(err).Warn("could not report a failed job")
	}
}

// PostInThread posts a message with blocks (buttons) under the card at
// once: it is an answer someone is waiting for, not a thread line.
func (p *Publisher) PostInThread(ctx context.Context, inc *incident.Incident, m bot.Msg) error {
	inc = p.WithCard(ctx, inc)
	_, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, m)
	return err
}

// UploadFile uploads a file into the incident's thread and says whether
// Slack took it.
func (p *Publisher) UploadFile(ctx context.Context, inc *incident.Incident, name, title, content, comment string) error {
	inc = p.WithCard(ctx, inc)
	return p.slack.Upload(ctx, inc.Channel, inc.CardTS, name, title, content, comment)
}

// UploadToUser uploads a file into the bot's direct message with user:
// only they can open it (an ephemeral message cannot carry a file).
func (p *Publisher) UploadToUser(ctx context.Context, user, name, title, content, comment string) error {
	ch, err := p.dm(ctx, user)
	if err != nil {
		return fmt.Errorf("open a direct message with %s: %w", user, err)
	}
	return p.slack.Upload(ctx, ch, "", name, title, content, comment)
}

// Attach uploads a file into the incident's thread.
func (p *Publisher) Attach(ctx context.Context, inc *incident.Incident, name, title, content, comment string) {
	if inc == nil || inc.Channel == "" {
		return
	}
	inc = p.WithCard(ctx, inc)
	if err := p.slack.Upload(ctx, inc.Channel, inc.CardTS, name, title, content, comment); err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).Warn("could not attach " + name)
	}
}
