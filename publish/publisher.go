// Package publish is the Slack publisher: it delivers what package render
// renders (the incident card, the checklist message, thread lines, page
// DMs, progress messages, approval messages) and catches up stale cards.
// It shows; it does not record: timeline entries, checklist ticks and
// audit entries are written by the use cases (usecase.Ticks and the ones
// built on it: Paging, Notices, ApprovalNews, Work) before they ask it to
// show them, so those domain packages never speak Slack themselves. Its
// only incident writes are where it posted a card and a checklist message
// (Incidents.SetCard, SetChecklistMessage): delivery's own bookkeeping,
// without which the next render would post them again.
package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/sirupsen/logrus"
)

// Incidents reads incidents and records where their card and checklist
// message were posted (incident.Store). The publisher runs its own render
// loop, so nobody else learns a new card's ts in time to record it; it
// records nothing else about an incident.
type Incidents interface {
	Current(ctx context.Context, id string) (*incident.Incident, error)
	SetCard(ctx context.Context, id, channel, ts string) (*incident.Incident, error)
	SetChecklistMessage(ctx context.Context, id, ts string) error
}

// StaleQueue keeps the incidents whose card is behind, with their backoff.
type StaleQueue interface {
	MarkStale(ctx context.Context, id string) error
	Stale(ctx context.Context) ([]string, error)
	ClearStale(ctx context.Context, id string) error
	StaleRetry(ctx context.Context, id string) (int, time.Time, error)
	SetStaleRetry(ctx context.Context, id string, attempts int, next time.Time) error
}

// RenderQueue keeps the card refreshes due, paced per incident.
type RenderQueue interface {
	QueueRender(ctx context.Context, id string, at time.Time) error
	DueRenders(ctx context.Context, now time.Time) ([]string, error)
	ClaimRender(ctx context.Context, id string) (bool, error)
	PaceRender(ctx context.Context, id string, gap time.Duration) (time.Duration, error)
}

// LineQueue keeps the thread lines waiting, one queue per channel.
type LineQueue interface {
	QueueLine(ctx context.Context, channel, incidentID, text string) error
	QueueChannelLine(ctx context.Context, channel, text string) error
	LineChannels(ctx context.Context, now time.Time) ([]string, error)
	PendingLines(ctx context.Context, channel string, n int) ([]incident.Line, error)
	DoneLines(ctx context.Context, channel string, lines []incident.Line) error
	DeferLines(ctx context.Context, channel string, t time.Time) error
}

// Locks are the "once" markers and leases shared by the replicas.
type Locks interface {
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	Lease(name, owner string) *redisx.Lease
}

// Stores groups what the publisher keeps in Redis (one incident.Store
// serves them all).
type Stores struct {
	Incidents Incidents
	Stale     StaleQueue
	Renders   RenderQueue
	Lines     LineQueue
	Locks     Locks
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

// Lookups are what the card and the names read besides the incident.
// Each may be nil.
type Lookups struct {
	Groups   GroupLister
	Users    UserNames // Slack display names (nil: contacts.yml names only)
	Names    map[string]string
	Ladders  Ladders
	Webhooks WebhookPause // the card's pause line
	// Rooms follows each card render (rooms.Rooms; nil: INCIDENT_CHANNELS off).
	Rooms CardWatcher
}

// CardWatcher follows each render of a card: the incident channel's
// announcement and archive follow the incident's status.
type CardWatcher interface {
	CardChanged(ctx context.Context, inc *incident.Incident)
}

// Deps lists what the publisher is built from; a nil Guard is one whose
// alarm is the publisher's own (tests).
type Deps struct {
	Store   Stores
	Slack   Slack
	Guard   *guard.Guard
	Runbook *incident.Runbook
	Lookups Lookups
	Channel string // SLACK_CHANNEL_ID, may be empty
	// RenderGap paces card refreshes per incident (0: DefaultRenderGap).
	RenderGap time.Duration
	Log       logrus.FieldLogger
	Now       func() time.Time
}

// Publisher is the set of the publisher's parts, each implementing what
// one consumer needs; it has no behaviour of its own.
type Publisher struct {
	Cards     *Cards
	Outbox    *Outbox
	Pages     *Pages
	Files     *Files
	Posts     *Posts
	Notes     *Notes
	Approvals *Approvals
	Progress  *Progress
	Names     *Names
	Alarm     *Alarm
}

// base is what every part delivers with.
type base struct {
	st      Stores
	slack   Slack
	channel string
	log     logrus.FieldLogger
	now     func() time.Time
}

// New builds the publisher's parts.
func New(d Deps) *Publisher {
	b := base{st: d.Store, slack: d.Slack, channel: d.Channel, log: d.Log, now: d.Now}
	if d.RenderGap <= 0 {
		d.RenderGap = DefaultRenderGap
	}
	alarm := NewAlarm(d.Store, d.Slack, d.Channel, d.Log)
	if d.Guard == nil {
		d.Guard = guard.New(d.Log, alarm, nil)
	}
	owner := make([]byte, 8)
	_, _ = rand.Read(owner)
	out := &Outbox{base: b, guard: d.Guard, owner: hex.EncodeToString(owner), kick: make(chan struct{}, 1), retry: &lineRetry{fails: map[string]int{}}}
	cards := &Cards{base: b, outbox: out, rb: d.Runbook, ladders: d.Lookups.Ladders, webhooks: d.Lookups.Webhooks, rooms: d.Lookups.Rooms, renderGap: d.RenderGap}
	names := &Names{users: d.Lookups.Users, names: d.Lookups.Names, cache: map[string]cachedName{}, log: d.Log, now: d.Now}
	dms := &dms{slack: d.Slack, m: map[string]string{}}
	files := &Files{base: b, cards: cards, dms: dms}
	return &Publisher{
		Cards:     cards,
		Outbox:    out,
		Pages:     &Pages{base: b, cards: cards, outbox: out, dms: dms, groups: d.Lookups.Groups},
		Files:     files,
		Posts:     &Posts{base: b, cards: cards},
		Notes:     &Notes{base: b, outbox: out},
		Approvals: &Approvals{base: b, outbox: out, files: files},
		Progress:  &Progress{base: b, outbox: out, guard: d.Guard},
		Names:     names,
		Alarm:     alarm,
	}
}
