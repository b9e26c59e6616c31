package escalation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
)

// IncidentReader re-reads an incident right before paging.
type IncidentReader interface {
	Current(ctx context.Context, id string) (*incident.Incident, error)
}

// Page describes one page of the ladder.
type Page struct {
	Incident string
	Step     int
	Level    int
	Name     string
	Window   string
	Repeat   int      // 0 for the first page of a level
	Reached  []string // users paged (groups expanded)
	Skipped  bool     // nobody reachable: skipped at once
	Manual   bool     // /clerk-incident escalate
	// Unreachable are the people (or groups) this page could not reach,
	// and why: a departed or deactivated user, or a failure that lasted
	// until the next level was due.
	Unreachable []Unreached
	// Sent is how each reached user was paged ("slack", "sms", "call"),
	// and PagerDuty whether the step triggered PagerDuty.
	Sent      map[string][]string
	PagerDuty bool
	// Channels are the rung's channels (slack when only Slack).
	Channels []string
}

// Phones texts and calls people (paging.Twilio). Call returns the call's
// ID: being accepted only means queued, CallStatus says whether it was
// answered (queued, ringing, in-progress, completed, busy, failed,
// no-answer, canceled) and by whom as answering-machine detection
// decided (human, machine_*, fax, unknown; "" before it decides).
type Phones interface {
	SMS(ctx context.Context, to, body string) error
	Call(ctx context.Context, to, text string) (string, error)
	CallStatus(ctx context.Context, sid string) (status, answeredBy string, err error)
}

// Alerts is an external paging service keyed by incident (paging.PagerDuty).
type Alerts interface {
	Trigger(ctx context.Context, dedup, summary, severity, link string) error
	Acknowledge(ctx context.Context, dedup string) error
	Resolve(ctx context.Context, dedup string) error
}

// Option adds a channel to the engine at construction.
type Option func(*settings)

// settings are what the options set; NewEngine hands each to the part
// that uses it.
type settings struct {
	via   channels
	guard Guard
	pages PageObserver
}

// WithPhones lets levels page by sms and call; notes says in the thread
// when a call goes unanswered (nil: it is only logged).
func WithPhones(p Phones, notes CallNoter) Option {
	return func(s *settings) { s.via.phones, s.via.calls = p, notes }
}

// WithReplies says SMS replies texted to number are read (Replies): page
// texts tell people to answer ACK or ESC, and each phone paged is
// remembered in log so a reply finds its incident. Without it texts say
// to acknowledge in Slack.
func WithReplies(number string, log *PhoneLog) Option {
	return func(s *settings) { s.via.replyTo, s.via.phoneLog = number, log }
}

// PagedObserver hears who each page reached (rooms: invite them to the
// incident's channel).
type PagedObserver interface {
	Paged(ctx context.Context, incidentID string, users []string)
}

// WithPaged tells o who each page reached.
func WithPaged(o PagedObserver) Option { return func(s *settings) { s.via.paged = o } }

// WithAlerts lets levels page through PagerDuty.
func WithAlerts(a Alerts) Option { return func(s *settings) { s.via.alerts = a } }

// WithGuard runs the engine's work under g (internal/guard.Guard): a
// panic is logged with its stack and told once in Slack, and the work is
// retried next tick. Without it a panic is only logged.
func WithGuard(g Guard) Option { return func(s *settings) { s.guard = g } }

// WithPageObserver has o observe each page (metrics).
func WithPageObserver(o PageObserver) Option { return func(s *settings) { s.pages = o } }

// Guard runs fn, recovering a panic (internal/guard.Guard): Run reports
// it, Call returns it as an error.
type Guard interface {
	Run(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) bool
	Go(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) <-chan struct{}
	Call(ctx context.Context, job, incidentID string, fn func(ctx context.Context) error) error
}

// PageObserver observes each page: how late it went out and to how many
// people.
type PageObserver interface {
	Page(late time.Duration, people int)
}

type noPages struct{}

func (noPages) Page(time.Duration, int) {}

// Unreached is one target a page could not reach.
type Unreached struct {
	ID  string `json:"id"`
	Why string `json:"why"`
}

// permanent reports an error that will not change on retry (an unknown or
// deactivated user, a bad request): that person is skipped, not retried.
func permanent(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.SlackUser, apperr.Invalid, apperr.NotFound:
		return true
	}
	return false
}

// Pager delivers pages and records who was paged (usecase.Paging: the
// timeline through its use case, delivery through the publisher).
type Pager interface {
	// Members expands a user group (S…) into users; a user ID is itself.
	Members(ctx context.Context, id string) ([]string, error)
	// Notify pages one user (a DM with an Acknowledge button) and says
	// where the DM is, so it can be rewritten once the incident is dealt with.
	Notify(ctx context.Context, inc *incident.Incident, p Page, user string) (DM, error)
	// Announce records on the timeline, with its thread line, who was
	// paged (or that the level was skipped).
	Announce(ctx context.Context, inc *incident.Incident, p Page) error
	// AfterPage runs once the page is recorded (to re-render the card).
	AfterPage(ctx context.Context, incidentID string)
	// SettlePage rewrites a page DM once the incident is acknowledged or
	// resolved: who did it and when, no Acknowledge button.
	SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm DM) error
	// ThreadURL links the incident's thread ("" when it has none), for
	// PagerDuty.
	ThreadURL(inc *incident.Incident) string
}

// DM is a page sent as a Slack message: its channel and timestamp.
type DM struct {
	Channel string
	TS      string
}

// State is one incident's ladder, stored as JSON in Redis.
type State struct {
	Incident string    `json:"incident"`
	Ladder   Ladder    `json:"ladder"`
	Base     time.Time `json:"base"`    // step s is due at Base + Offset(s)
	Next     int       `json:"next"`    // next step to page
	NextAt   time.Time `json:"next_at"` // when it is due (or when to retry)
	Attempts int       `json:"attempts"`
	Forced   bool      `json:"forced"` // escalate: page even if acknowledged
	// Escalated is when each level was last asked for by hand
	// (/clerk-incident escalate), to refuse a page storm.
	Escalated map[int]time.Time `json:"escalated,omitempty"`
	Stopped   string            `json:"stopped,omitempty"`
	StopBy    string            `json:"stop_by,omitempty"`
	Log       []Paged           `json:"log,omitempty"`
}

// Paged records a page that went out.
type Paged struct {
	Step    int       `json:"step"`
	Level   int       `json:"level"`
	Name    string    `json:"name"`
	Repeat  int       `json:"repeat,omitempty"`
	At      time.Time `json:"at"`
	Reached []string  `json:"reached,omitempty"`
	Skipped bool      `json:"skipped,omitempty"`
	Manual  bool      `json:"manual,omitempty"`
	// Unreachable lists who could not be paged, and why.
	Unreachable []Unreached `json:"unreachable,omitempty"`
}

// Done reports whether nothing more will be paged.
func (s *State) Done() bool { return s.Stopped != "" || s.Next >= s.Ladder.Steps() }

// Engine runs ladders from Redis: a sorted set of due times, claimed
// atomically with a lease, the incident re-read before each page. Any
// replica may run it; a restart loses nothing. It runs the loop and
// decides what each ladder does next; the state and the due set are the
// dueLadders', sending a step the pageSender's, following a call to its
// end the callWatch's, and carrying an ack or resolve to what was sent
// the acks'.
type Engine struct {
	ladders *dueLadders
	reader  IncidentReader
	now     func() time.Time
	log     logrus.FieldLogger
	Tuning
	kick     chan struct{}
	guard    Guard
	watchers *pageWatchers
	sender   *pageSender
	calls    *callWatch // nil without phones
	acks     *acks
}

// keys is where the engine keeps its state in Redis.
type keys struct{ prefix string }

// Tuning is how the engine's loop works.
type Tuning struct {
	Lease    time.Duration // how long a claim is held (real time)
	Interval time.Duration // the longest the loop sleeps
	Workers  int
}

// channels are the ways to page besides Slack (each optional).
type channels struct {
	phones   Phones
	calls    CallNoter
	alerts   Alerts
	paged    PagedObserver
	replyTo  string    // the number replies are read from ("": replies off)
	phoneLog *PhoneLog // nil: replies off
}

// NewEngine builds an engine; its loop runs in Run.
func NewEngine(rdb redis.UniversalClient, prefix string, reader IncidentReader, pager Pager, now func() time.Time, log logrus.FieldLogger, opts ...Option) *Engine {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	s := settings{guard: guard.New(log, nil, nil), pages: noPages{}}
	for _, o := range opts {
		o(&s)
	}
	k := keys{prefix}
	e := &Engine{ladders: &dueLadders{rdb: rdb, keys: k, owner: hex.EncodeToString(b)}, reader: reader, now: now, log: log,
		Tuning: Tuning{Lease: 15 * time.Second, Interval: time.Second, Workers: 64}, kick: make(chan struct{}, 1),
		guard: s.guard, watchers: &pageWatchers{pager: pager, paged: s.via.paged, metrics: s.pages},
		acks: &acks{rdb: rdb, keys: k, reader: reader, pager: pager, alerts: s.via.alerts, log: log}}
	if s.via.phones != nil {
		e.calls = &callWatch{rdb: rdb, keys: k, reader: reader, phones: s.via.phones, noter: s.via.calls, guard: s.guard, log: log}
	}
	e.sender = &pageSender{rdb: rdb, keys: k, pager: pager, guard: s.guard, phones: s.via.phones, alerts: s.via.alerts,
		replyTo: s.via.replyTo, phoneLog: s.via.phoneLog, calls: e.calls, log: log}
	return e
}

func (k keys) keyDue() string            { return k.prefix + "escalation:due" }
func (k keys) keyAlertWatch() string     { return k.prefix + "escalation:pagerduty:watch" }
func (k keys) keyState(id string) string { return k.prefix + "escalation:" + id }
func (k keys) keyLease(id string) string { return k.prefix + "escalation:" + id + ":lease" }
func (k keys) keyDMs(id string) string   { return k.prefix + "escalation:" + id + ":dms" }
func (k keys) keyDMsDone(id string) string {
	return k.prefix + "escalation:" + id + ":dms:done"
}
func (k keys) keySent(id string, step int) string {
	return fmt.Sprintf("%sescalation:%s:sent:%d", k.prefix, id, step)
}

// Kick wakes the loop now (a new incident pages level 1 at once).
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// ErrNoLadder means the incident has no escalation ladder.
var ErrNoLadder = errors.New("no escalation ladder for this incident")

// Start freezes the ladder for an incident and makes level 1 due at once.
// Starting twice keeps the first ladder.
func (e *Engine) Start(ctx context.Context, inc *incident.Incident, l Ladder) error {
	if len(l.Rungs) == 0 {
		return errors.New("escalation ladder has no levels")
	}
	st := State{Incident: inc.ID, Ladder: l, Base: inc.OpenedAt, NextAt: inc.OpenedAt}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := e.ladders.start(ctx, inc.ID, raw, st.NextAt); err != nil {
		return err
	}
	e.Kick()
	return nil
}

// Stop ends the ladder (ack or resolve). Stopping twice is harmless.
func (e *Engine) Stop(ctx context.Context, id, reason, by string) error {
	_, err := e.ladders.update(ctx, id, func(st *State) error {
		if st.Stopped == "" {
			st.Stopped, st.StopBy = reason, by
		}
		st.Forced = false
		return nil
	})
	if errors.Is(err, ErrNoLadder) {
		return nil
	}
	e.acks.follow(ctx, id, reason, by)
	return err
}

// EscalateEvery is how often the ladder may be escalated by hand: each
// page is a DM and, with phones, an SMS, a call and a PagerDuty event,
// and the level just paged needs a moment to answer before the next one
// (the CTO) is woken.
const EscalateEvery = time.Minute

// TooSoonError refuses a manual escalation asked for less than
// EscalateEvery after the last one; nothing changed.
type TooSoonError struct {
	Level int
	Name  string
	Last  time.Time // when Level was escalated to by hand
	Next  time.Time // the earliest the next manual escalation
	// NextLevel, NextName: the level the refused escalation would page.
	NextLevel int
	NextName  string
}

func (t *TooSoonError) Error() string {
	return fmt.Sprintf("level %d (%s) was escalated to at %s; the next manual escalation is possible at %s",
		t.Level, t.Name, t.Last.UTC().Format(time.TimeOnly), t.Next.UTC().Format(time.TimeOnly))
}

// lastEscalated is the level most recently escalated to by hand, and when.
func (s *State) lastEscalated() (level int, at time.Time, ok bool) {
	for l, t := range s.Escalated {
		if !ok || t.After(at) {
			level, at, ok = l, t, true
		}
	}
	return level, at, ok
}

// Escalate makes the next step due now; later levels keep their spacing
// from it. If the ladder was stopped by an acknowledgement, the next level
// is paged once anyway: someone asked for more help. A level escalated to
// less than EscalateEvery ago is refused with a *TooSoonError (the state
// is in Redis, so every replica refuses it).
func (e *Engine) Escalate(ctx context.Context, id string) (Rung, error) {
	var r Rung
	now := e.now()
	_, err := e.ladders.update(ctx, id, func(st *State) error {
		if st.Stopped == "resolved" {
			return errors.New("the incident is resolved")
		}
		// Past the last step this is the last level again.
		next, _ := st.Ladder.Rung(st.Next)
		// One manual escalation a minute, whatever the level: a second
		// one seconds after the first would wake the next level before
		// the one just paged could answer.
		if level, last, ok := st.lastEscalated(); ok && now.Sub(last) < EscalateEvery {
			return &TooSoonError{Level: level, Name: st.Ladder.LevelName(level), Last: last, Next: last.Add(EscalateEvery), NextLevel: next.Level, NextName: next.Name}
		}
		if st.Escalated == nil {
			st.Escalated = map[int]time.Time{}
		}
		st.Escalated[next.Level] = now
		if st.Next >= st.Ladder.Steps() {
			// Past the last re-page: page the last level once more.
			st.Ladder.RepeatTimes++
		}
		r, _ = st.Ladder.Rung(st.Next)
		st.Base = now.Add(-st.Ladder.Offset(st.Next))
		st.NextAt = now
		st.Attempts = 0
		st.Forced = true
		if st.Stopped != "" {
			st.Stopped, st.StopBy = "", ""
		}
		return nil
	})
	if err != nil {
		return Rung{}, err
	}
	e.Kick()
	return r, nil
}

// Get returns the ladder state, or ErrNoLadder.
func (e *Engine) Get(ctx context.Context, id string) (*State, error) {
	return e.ladders.get(ctx, id)
}

// Tick pages everything due at the engine's now and returns how many
// ladders it worked on.
func (e *Engine) Tick(ctx context.Context) (int, error) {
	now := e.now()
	// Calls placed earlier are checked beside the ladders, never holding
	// a page back.
	if e.calls != nil {
		calls := e.guard.Go(ctx, "call check", "", func(ctx context.Context) { e.calls.checkDue(ctx, now) })
		defer func() { <-calls }()
	}
	ids, err := e.ladders.due(ctx, now)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	work := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for range min(e.Workers, len(ids)) {
		wg.Go(func() {
			for id := range work {
				if e.process(ctx, id, now) {
					mu.Lock()
					n++
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	return n, nil
}

// process pages what is due on one ladder, under its lease; a panic is
// logged and told once, and the step is retried next tick.
func (e *Engine) process(ctx context.Context, id string, now time.Time) (worked bool) {
	e.guard.Run(ctx, "escalation", id, func(ctx context.Context) { worked = e.claimAndPage(ctx, id, now) })
	return worked
}

// claimAndPage takes the ladder's lease and pages its due steps.
func (e *Engine) claimAndPage(ctx context.Context, id string, now time.Time) bool {
	log := e.log.WithField("incident", id)
	ok, err := e.ladders.claim(ctx, id, now, e.Lease)
	if err != nil {
		log.WithError(err).Warn("claim failed")
		return false
	}
	if !ok {
		return false
	}
	defer e.ladders.release(context.WithoutCancel(ctx), id)
	pageCtx, cancel := context.WithTimeout(ctx, e.Lease*3/4)
	defer cancel()
	// Several steps may be due at once (after a restart); page them in order.
	for range 50 {
		if !e.pageDue(pageCtx, log, id, now) {
			break
		}
	}
	return true
}

// pageDue pages the ladder's next step if it is due and still wanted, and
// reports whether another step may be due after it.
func (e *Engine) pageDue(ctx context.Context, log logrus.FieldLogger, id string, now time.Time) (more bool) {
	st, err := e.Get(ctx, id)
	if errors.Is(err, ErrNoLadder) {
		e.ladders.drop(ctx, id)
		return false
	}
	if err != nil {
		log.WithError(err).Warn("read ladder failed")
		return false
	}
	if st.Done() {
		e.ladders.drop(ctx, id)
		return false
	}
	if st.NextAt.After(now) {
		return false
	}
	inc, err := e.reader.Current(ctx, id)
	if err != nil {
		log.WithError(err).Warn("re-read incident failed; will retry")
		return false
	}
	if !inc.Open() {
		_ = e.Stop(ctx, id, "resolved", "")
		return false
	}
	if inc.AckedBy != nil && !st.Forced {
		_ = e.Stop(ctx, id, "acknowledged", inc.AckedBy.ID)
		return false
	}
	step, due := st.Next, st.NextAt
	page, err := e.sender.page(ctx, inc, st, now)
	if err != nil {
		e.retryLater(ctx, log, id, st, page.Level, err, now)
		return false
	}
	if err := e.recordPage(ctx, id, step, page, now); err != nil {
		log.WithError(err).Warn("record page failed")
		return false
	}
	log.WithFields(logrus.Fields{"level": page.Level, "repeat": page.Repeat, "reached": len(page.Reached), "skipped": page.Skipped}).Info("escalation page sent")
	e.watchers.tell(ctx, id, page, max(e.now().Sub(due), 0))
	return true
}

// retryLater backs off a step whose page failed.
func (e *Engine) retryLater(ctx context.Context, log logrus.FieldLogger, id string, st *State, level int, err error, now time.Time) {
	step, attempts := st.Next, st.Attempts+1
	wait := min(time.Duration(1<<min(attempts, 6))*time.Second, time.Minute)
	// A service that said when to come back (PagerDuty's 429: 30 s)
	// is not asked sooner.
	var later interface{ RetryAfter() time.Duration }
	if errors.As(err, &later) {
		wait = max(wait, later.RetryAfter())
	}
	// Never past the next level's deadline: then the page gives up
	// on whoever is still failing and the ladder moves on.
	if next := st.nextDeadline(); !next.IsZero() && now.Add(wait).After(next) {
		wait = max(next.Sub(now), 0)
	}
	log.WithError(err).WithField("level", level).WithField("retry_in", wait).Warn("page failed; retrying")
	_, _ = e.ladders.update(ctx, id, func(s *State) error {
		if s.Next == step {
			s.Attempts = attempts
			s.NextAt = now.Add(wait)
		}
		return nil
	})
}

// recordPage logs a sent page and makes the next step due.
func (e *Engine) recordPage(ctx context.Context, id string, step int, page Page, now time.Time) error {
	_, err := e.ladders.update(ctx, id, func(s *State) error {
		if s.Next != step {
			return nil
		}
		s.Log = append(s.Log, Paged{Step: step, Level: page.Level, Name: page.Name, Repeat: page.Repeat, At: now,
			Reached: page.Reached, Skipped: page.Skipped, Manual: page.Manual, Unreachable: page.Unreachable})
		s.Next++
		s.Attempts = 0
		s.Forced = false
		s.NextAt = s.Base.Add(s.Ladder.Offset(s.Next))
		if page.Skipped && s.NextAt.After(now) {
			// Nobody to page at this level: go to the next one at once.
			s.Base = now.Add(-s.Ladder.Offset(s.Next))
			s.NextAt = now
		}
		return nil
	})
	return err
}

// nextDeadline is when the step after the current one is due (zero when
// the current step is the last).
func (s *State) nextDeadline() time.Time {
	if s.Next+1 >= s.Ladder.Steps() {
		return time.Time{}
	}
	return s.Base.Add(s.Ladder.Offset(s.Next + 1))
}

// Run ticks until ctx ends: at least every Interval, sooner when the next
// deadline is nearer or when kicked.
func (e *Engine) Run(ctx context.Context) {
	for {
		if _, err := e.Tick(ctx); err != nil && ctx.Err() == nil {
			e.log.WithError(err).Warn("escalation tick failed")
		}
		wait := e.Interval
		if next, ok := e.ladders.next(ctx); ok {
			until := next.Sub(e.now())
			if until < wait {
				wait = max(until, 10*time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.kick:
			t.Stop()
		case <-t.C:
		}
	}
}
