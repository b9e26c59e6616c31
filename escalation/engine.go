package escalation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
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
type Option func(*Engine)

// WithPhones lets levels page by sms and call; notes says in the thread
// when a call goes unanswered (nil: it is only logged).
func WithPhones(p Phones, notes CallNoter) Option {
	return func(e *Engine) { e.via.phones, e.via.calls = p, notes }
}

// WithReplies says SMS replies texted to number are read (Replies): page
// texts tell people to answer ACK or ESC, and each phone paged is
// remembered in log so a reply finds its incident. Without it texts say
// to acknowledge in Slack.
func WithReplies(number string, log *PhoneLog) Option {
	return func(e *Engine) { e.via.replyTo, e.via.phoneLog = number, log }
}

// PagedObserver hears who each page reached (rooms: invite them to the
// incident's channel).
type PagedObserver interface {
	Paged(ctx context.Context, incidentID string, users []string)
}

// WithPaged tells o who each page reached.
func WithPaged(o PagedObserver) Option { return func(e *Engine) { e.via.paged = o } }

// WithAlerts lets levels page through PagerDuty.
func WithAlerts(a Alerts) Option { return func(e *Engine) { e.via.alerts = a } }

// WithGuard runs the engine's work under g (internal/guard.Guard): a
// panic is logged with its stack and told once in Slack, and the work is
// retried next tick. Without it a panic is only logged.
func WithGuard(g Guard) Option { return func(e *Engine) { e.guard = g } }

// WithPageObserver has o observe each page (metrics).
func WithPageObserver(o PageObserver) Option { return func(e *Engine) { e.pages = o } }

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

// Pager delivers pages; the Slack side implements it.
type Pager interface {
	// Members expands a user group (S…) into users; a user ID is itself.
	Members(ctx context.Context, id string) ([]string, error)
	// Notify pages one user (a DM with an Acknowledge button) and says
	// where the DM is, so it can be rewritten once the incident is dealt with.
	Notify(ctx context.Context, inc *incident.Incident, p Page, user string) (DM, error)
	// Announce says in the incident thread who was paged (or that the level was skipped).
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
// replica may run it; a restart loses nothing.
type Engine struct {
	rdb redis.UniversalClient
	keys
	reader IncidentReader
	pager  Pager
	now    func() time.Time
	log    logrus.FieldLogger
	owner  string
	Tuning
	kick  chan struct{}
	via   channels
	guard Guard
	pages PageObserver
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
	e := &Engine{rdb: rdb, keys: keys{prefix}, reader: reader, pager: pager, now: now, log: log, owner: hex.EncodeToString(b),
		Tuning: Tuning{Lease: 15 * time.Second, Interval: time.Second, Workers: 64}, kick: make(chan struct{}, 1),
		guard: guard.New(log, nil, nil), pages: noPages{}}
	for _, o := range opts {
		o(e)
	}
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
	_, err = e.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, e.keyState(inc.ID), raw, 0)
		p.ZAddNX(ctx, e.keyDue(), redis.Z{Score: ms(st.NextAt), Member: inc.ID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("start ladder %s: %w", inc.ID, err)
	}
	e.Kick()
	return nil
}

// Stop ends the ladder (ack or resolve). Stopping twice is harmless.
func (e *Engine) Stop(ctx context.Context, id, reason, by string) error {
	_, err := e.update(ctx, id, func(st *State) error {
		if st.Stopped == "" {
			st.Stopped, st.StopBy = reason, by
		}
		st.Forced = false
		return nil
	})
	if errors.Is(err, ErrNoLadder) {
		return nil
	}
	e.followAlerts(ctx, id, reason, by)
	if reason == "resolved" {
		e.rdb.ZRem(ctx, e.keyAlertWatch(), id) // PagerDuty hears it from us; nothing left to read there
	}
	e.settleDMs(ctx, id, reason)
	return err
}

// settleScript claims the page DMs not yet rewritten for this reason, so
// whichever replica stops the ladder first rewrites each DM once.
var settleScript = redis.NewScript(`
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  if redis.call('HGET', KEYS[2], all[i]) ~= ARGV[1] then
    redis.call('HSET', KEYS[2], all[i], ARGV[1])
    table.insert(out, all[i])
    table.insert(out, all[i+1])
  end
end
if #out > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return out`)

// settleDMs rewrites every page DM of the incident to say who acknowledged
// (or resolved) it and when, without its Acknowledge button. One DM that
// cannot be rewritten (the person left, the DM is gone, Slack is out of
// reach from the CLI) is logged, left for the next stop to try again, and
// the others still are.
func (e *Engine) settleDMs(ctx context.Context, id, reason string) {
	log := e.log.WithField("incident", id)
	claimed, err := settleScript.Run(ctx, e.rdb, []string{e.keyDMs(id), e.keyDMsDone(id)}, reason, int((30 * 24 * time.Hour).Seconds())).StringSlice()
	if err != nil {
		log.WithError(err).Warn("could not claim page DMs to update")
		return
	}
	if len(claimed) == 0 {
		return
	}
	inc, err := e.reader.Current(ctx, id)
	if err != nil {
		log.WithError(err).Warn("could not read incident to update its page DMs")
		return
	}
	for i := 0; i+1 < len(claimed); i += 2 {
		ch, ts, ok := strings.Cut(claimed[i+1], "|")
		if !ok {
			continue
		}
		if err := e.pager.SettlePage(ctx, inc, reason, DM{Channel: ch, TS: ts}); err != nil {
			log.WithError(err).WithField("channel", ch).Warn("could not update a page DM")
			e.rdb.HDel(context.WithoutCancel(ctx), e.keyDMsDone(id), claimed[i])
		}
	}
}

// followAlerts tells PagerDuty what happened here, once each: an ack
// acknowledges its alert, a resolve resolves it. An ack made in
// PagerDuty (by someone known from there) is not sent back to it.
func (e *Engine) followAlerts(ctx context.Context, id, reason, by string) {
	if e.via.alerts == nil || (reason != "resolved" && (incident.Person{ID: by}).PagerDuty()) {
		return
	}
	if n, _ := e.rdb.Exists(ctx, e.keyState(id)+":pagerduty").Result(); n == 0 {
		return
	}
	action := "acknowledge"
	if reason == "resolved" {
		action = "resolve"
	}
	if first, err := redisx.Once(ctx, e.rdb, e.keyState(id)+":pagerduty:"+action, 30*24*time.Hour); err != nil || !first {
		return
	}
	var err error
	if action == "resolve" {
		err = e.via.alerts.Resolve(ctx, id)
	} else {
		err = e.via.alerts.Acknowledge(ctx, id)
	}
	if err != nil {
		e.rdb.Del(ctx, e.keyState(id)+":pagerduty:"+action) // try again on the next stop
		e.log.WithError(err).WithField("incident", id).Warn("could not tell PagerDuty: " + action)
	}
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

func (e *TooSoonError) Error() string {
	return fmt.Sprintf("level %d (%s) was escalated to at %s; the next manual escalation is possible at %s",
		e.Level, e.Name, e.Last.UTC().Format(time.TimeOnly), e.Next.UTC().Format(time.TimeOnly))
}

// lastEscalated is the level most recently escalated to by hand, and when.
func (st *State) lastEscalated() (level int, at time.Time, ok bool) {
	for l, t := range st.Escalated {
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
	_, err := e.update(ctx, id, func(st *State) error {
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
	return NewStates(e.rdb, e.prefix).Get(ctx, id)
}

// update changes a state atomically and keeps the due set in step with it.
func (e *Engine) update(ctx context.Context, id string, fn func(*State) error) (*State, error) {
	return redisx.UpdateJSON(ctx, e.rdb, e.keyState(id), ErrNoLadder, fn, func(p redis.Pipeliner, raw []byte, st *State) {
		p.Set(ctx, e.keyState(id), raw, 0)
		if st.Done() {
			p.ZRem(ctx, e.keyDue(), id)
		} else {
			p.ZAdd(ctx, e.keyDue(), redis.Z{Score: ms(st.NextAt), Member: id})
		}
	})
}

func ms(t time.Time) float64 { return float64(t.UnixMilli()) }

// claimScript takes an incident's lease only if it is still due, so two
// replicas never work on the same ladder at once.
var claimScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return 1 end
return 0`)

// Tick pages everything due at the engine's now and returns how many
// ladders it worked on.
func (e *Engine) Tick(ctx context.Context) (int, error) {
	now := e.now()
	// Calls placed earlier are checked beside the ladders, never holding
	// a page back.
	if e.via.phones != nil {
		calls := e.guard.Go(ctx, "call check", "", func(ctx context.Context) { e.checkCalls(ctx, now) })
		defer func() { <-calls }()
	}
	ids, err := e.rdb.ZRangeByScore(ctx, e.keyDue(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 1000}).Result()
	if err != nil {
		return 0, fmt.Errorf("read due ladders: %w", err)
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
	ok, err := claimScript.Run(ctx, e.rdb, []string{e.keyDue(), e.keyLease(id)}, id, now.UnixMilli(), e.owner, e.Lease.Milliseconds()).Int()
	if err != nil {
		log.WithError(err).Warn("claim failed")
		return false
	}
	if ok != 1 {
		return false
	}
	defer func() { _ = redisx.NewLease(e.rdb, e.keyLease(id), e.owner).Release(context.WithoutCancel(ctx)) }()
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
		e.rdb.ZRem(ctx, e.keyDue(), id)
		return false
	}
	if err != nil {
		log.WithError(err).Warn("read ladder failed")
		return false
	}
	if st.Done() {
		e.rdb.ZRem(ctx, e.keyDue(), id)
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
	page, err := e.page(ctx, inc, st, now)
	if err != nil {
		e.retryLater(ctx, log, id, st, page.Level, err, now)
		return false
	}
	if err := e.recordPage(ctx, id, step, page, now); err != nil {
		log.WithError(err).Warn("record page failed")
		return false
	}
	log.WithFields(logrus.Fields{"level": page.Level, "repeat": page.Repeat, "reached": len(page.Reached), "skipped": page.Skipped}).Info("escalation page sent")
	e.pager.AfterPage(ctx, id)
	if e.via.paged != nil {
		e.via.paged.Paged(ctx, id, page.Reached)
	}
	e.pages.Page(max(e.now().Sub(due), 0), len(page.Reached))
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
	_, _ = e.update(ctx, id, func(s *State) error {
		if s.Next == step {
			s.Attempts = attempts
			s.NextAt = now.Add(wait)
		}
		return nil
	})
}

// recordPage logs a sent page and makes the next step due.
func (e *Engine) recordPage(ctx context.Context, id string, step int, page Page, now time.Time) error {
	_, err := e.update(ctx, id, func(s *State) error {
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

// page sends one step to everyone it reaches. Each delivered DM is marked
// in Redis, so a retry after a failure or crash re-sends only the missing
// ones. Whoever cannot be reached for good is skipped at once; transient
// failures are retried until the next level is due, then skipped too.
func (e *Engine) page(ctx context.Context, inc *incident.Incident, st *State, now time.Time) (Page, error) {
	rung, repeat := st.Ladder.Rung(st.Next)
	next := st.nextDeadline()
	r := &pageRun{e: e, inc: inc, rung: rung, now: now, giveUp: !next.IsZero() && !now.Before(next), sentKey: e.keySent(inc.ID, st.Next),
		p: Page{Incident: inc.ID, Step: st.Next, Level: rung.Level, Name: rung.Name, Window: rung.Window, Repeat: repeat, Manual: st.Forced}}
	targets, err := r.targets(ctx)
	if err != nil {
		return r.p, err
	}
	r.p.Channels = rung.Channels()
	// PagerDuty goes out beside the people, not after them: each channel
	// is a network round trip, and the page is late by their sum.
	var pd <-chan pdResult
	if slices.Contains(r.p.Channels, ViaPagerDuty) && e.via.alerts != nil {
		pd = r.triggerPagerDuty(ctx)
	}
	for _, u := range targets {
		if r.pageUser(ctx, u) {
			r.p.Reached = append(r.p.Reached, u)
		}
	}
	if pd != nil {
		res := <-pd
		switch {
		case res.err != nil:
			r.fail("PagerDuty", "", res.err)
		case res.ok:
			r.p.PagerDuty = true
			e.rdb.Set(ctx, e.keyState(inc.ID)+":pagerduty", 1, 30*24*time.Hour)
			// Read back from PagerDuty (an ack there) until resolved here.
			e.rdb.ZAddNX(ctx, e.keyAlertWatch(), redis.Z{Score: ms(r.now), Member: inc.ID})
		}
	}
	if r.firstErr != nil {
		return r.p, r.firstErr
	}
	r.p.Skipped = len(r.p.Reached) == 0
	if done, _ := e.rdb.SIsMember(ctx, r.sentKey, "#announce").Result(); !done {
		if err := e.pager.Announce(ctx, inc, r.p); err != nil {
			return r.p, fmt.Errorf("announce: %w", err)
		}
		e.rdb.SAdd(ctx, r.sentKey, "#announce")
		e.rdb.Expire(ctx, r.sentKey, 30*24*time.Hour)
	}
	return r.p, nil
}

// pageRun is one step being paged: whom it reached, what failed.
type pageRun struct {
	e        *Engine
	inc      *incident.Incident
	rung     Rung
	p        Page
	now      time.Time
	giveUp   bool   // the next level is due: skip whoever still fails
	sentKey  string // the set of deliveries done for this step
	firstErr error  // the first transient failure: the step is retried
}

// pdResult is how the PagerDuty trigger went.
type pdResult struct {
	ok  bool
	err error
}

// targets expands the rung's groups into users, each once.
func (r *pageRun) targets(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var targets []string
	for _, t := range r.rung.Targets {
		users, err := r.e.pager.Members(ctx, t)
		if err != nil {
			if permanent(err) || r.giveUp {
				r.p.Unreachable = append(r.p.Unreachable, Unreached{ID: t, Why: reason(err)})
				continue
			}
			return nil, fmt.Errorf("expand %s: %w", t, err)
		}
		for _, u := range users {
			if !seen[u] {
				seen[u] = true
				targets = append(targets, u)
			}
		}
	}
	return targets, nil
}

// deliver sends once per (step, person, channel): each is marked in Redis
// once delivered, so a retry, a restart or another replica sends only what
// is missing; one channel failing never holds back the others.
func (r *pageRun) deliver(ctx context.Context, member string, send func() error) (bool, error) {
	done, err := r.e.rdb.SIsMember(ctx, r.sentKey, member).Result()
	if err != nil || done {
		return done, err
	}
	if err := send(); err != nil {
		return false, err
	}
	r.e.rdb.SAdd(ctx, r.sentKey, member)
	r.e.rdb.Expire(ctx, r.sentKey, 30*24*time.Hour)
	return true, nil
}

// fail skips a target that cannot be reached for good (or past the
// next level's deadline), or keeps the error for a retry.
func (r *pageRun) fail(who, what string, err error) {
	if permanent(err) || r.giveUp {
		r.p.Unreachable = append(r.p.Unreachable, Unreached{ID: who, Why: what + reason(err)})
		return
	}
	if r.firstErr == nil {
		r.firstErr = fmt.Errorf("page %s: %w", who, err)
	}
}

// triggerPagerDuty triggers the incident's alert in a goroutine of its
// own. A panic fails this channel only; the step is retried.
func (r *pageRun) triggerPagerDuty(ctx context.Context) <-chan pdResult {
	e, inc := r.e, r.inc
	link := e.pager.ThreadURL(inc)
	summary := fmt.Sprintf("%s: %s (%s, %s) — level %d (%s)", inc.ID, inc.Title, inc.Category, inc.Severity, r.p.Level, r.p.Name)
	done := make(chan pdResult, 1)
	go func() {
		var ok bool
		err := e.guard.Call(ctx, "PagerDuty trigger", inc.ID, func(ctx context.Context) error {
			var err error
			ok, err = r.deliver(ctx, "#pagerduty", func() error { return e.via.alerts.Trigger(ctx, inc.ID, summary, pdSeverity(inc.Severity), link) })
			return err
		})
		done <- pdResult{ok, err}
	}()
	return done
}

// pageUser pages one person on each of the rung's channels and reports
// whether any reached them.
func (r *pageRun) pageUser(ctx context.Context, u string) (reached bool) {
	for _, ch := range r.p.Channels {
		member, send := r.sender(ctx, u, ch)
		if send == nil {
			continue
		}
		ok, err := r.deliver(ctx, member, send)
		if err != nil {
			label := map[string]string{ViaSlack: "", ViaSMS: "SMS: ", ViaCall: "call: "}[ch]
			r.fail(u, label, err)
			continue
		}
		if ok {
			reached = true
			if r.p.Sent == nil {
				r.p.Sent = map[string][]string{}
			}
			r.p.Sent[u] = append(r.p.Sent[u], ch)
		}
	}
	return reached
}

// sender is how to page u on channel ch and the delivery's marker; send is
// nil when the channel cannot reach u (a group member without a number in
// contacts.yml is paged in Slack only).
func (r *pageRun) sender(ctx context.Context, u, ch string) (member string, send func() error) {
	e, inc, p := r.e, r.inc, r.p
	switch ch {
	case ViaSlack:
		// The marker is the bare user: ladders paged before channels existed.
		return u, func() error {
			dm, err := e.pager.Notify(ctx, inc, p, u)
			if err == nil && dm.TS != "" {
				// Any replica can rewrite it when the incident is dealt with.
				field := fmt.Sprintf("%s|%d", u, p.Step)
				e.rdb.HSet(ctx, e.keyDMs(inc.ID), field, dm.Channel+"|"+dm.TS)
				e.rdb.Expire(ctx, e.keyDMs(inc.ID), 30*24*time.Hour)
			}
			return err
		}
	case ViaSMS, ViaCall:
		phone := r.rung.Phones[u]
		if e.via.phones == nil || phone == "" {
			return "", nil
		}
		text := PhoneText(inc, p, ch, e.via.replyTo)
		if ch == ViaSMS {
			return u + "|" + ch, func() error {
				err := e.via.phones.SMS(ctx, phone, text)
				if err == nil {
					e.rememberPhone(ctx, phone, inc.ID, r.now)
				}
				return err
			}
		}
		return u + "|" + ch, func() error {
			sid, err := e.via.phones.Call(ctx, phone, text)
			if err == nil && sid != "" {
				e.rememberPhone(ctx, phone, inc.ID, r.now)
				e.watchCall(ctx, inc.ID, u, sid, r.now)
			}
			return err
		}
	}
	return "", nil
}

// rememberPhone notes the page to phone, so a reply from it finds the
// incident (replies on only).
func (e *Engine) rememberPhone(ctx context.Context, phone, id string, now time.Time) {
	if e.via.phoneLog == nil {
		return
	}
	if err := e.via.phoneLog.Add(ctx, phone, id, now); err != nil {
		e.log.WithError(err).WithField("incident", id).Warn("a reply from this phone will not find the incident")
	}
}

// PhoneText is what an SMS (ch sms) says and a call (ch call) reads out:
// the incident, its title and severity, the level, and how to answer from
// the phone: with replies read from replyTo, ACK or ESC by SMS; without,
// in Slack. It stays within 320 characters.
func PhoneText(inc *incident.Incident, p Page, ch, replyTo string) string {
	head := fmt.Sprintf("%s %s %s: ", inc.ID, inc.Severity, inc.Category)
	answer := fmt.Sprintf("Acknowledge %s in Slack: the page DM's button or /clerk-incident ack %s.", inc.ID, inc.ID)
	switch {
	case replyTo != "" && ch == ViaCall:
		// Read out digit by digit, so the number can be written down.
		answer = fmt.Sprintf("Text ACK to %s to acknowledge %s, ESC to escalate.", spoken(replyTo), inc.ID)
	case replyTo != "":
		answer = fmt.Sprintf("Reply ACK to acknowledge %s, ESC to escalate.", inc.ID)
	}
	tail := fmt.Sprintf(". You are paged as level %d (%s). %s", p.Level, p.Name, answer)
	title := []rune(inc.Title)
	if room := 320 - len([]rune(head)) - len([]rune(tail)); len(title) > room {
		title = append(title[:max(room-1, 0)], '…')
	}
	return head + string(title) + tail
}

// spoken spells a number digit by digit for text to speech.
func spoken(number string) string {
	var digits []string
	for _, r := range number {
		if r >= '0' && r <= '9' {
			digits = append(digits, string(r))
		}
	}
	return strings.Join(digits, " ")
}

func pdSeverity(s incident.Severity) string {
	switch s {
	case incident.P1:
		return "critical"
	case incident.P2:
		return "error"
	}
	return "warning"
}

// reason is what the thread says about an unreachable target.
func reason(err error) string {
	if msg := apperr.MessageOf(err); msg != "" {
		return msg
	}
	return err.Error()
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
		if next, err := e.rdb.ZRangeWithScores(ctx, e.keyDue(), 0, 0).Result(); err == nil && len(next) == 1 {
			until := time.UnixMilli(int64(next[0].Score)).Sub(e.now())
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
