package escalation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
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
// no-answer, canceled).
type Phones interface {
	SMS(ctx context.Context, to, body string) error
	Call(ctx context.Context, to, text string) (string, error)
	CallStatus(ctx context.Context, sid string) (string, error)
}

// Alerts is an external paging service keyed by incident (paging.PagerDuty).
type Alerts interface {
	Trigger(ctx context.Context, dedup, summary, severity, link string) error
	Acknowledge(ctx context.Context, dedup string) error
	Resolve(ctx context.Context, dedup string) error
}

// Option adds a channel to the engine at construction.
type Option func(*Engine)

// WithPhones lets levels page by sms and call.
func WithPhones(p Phones) Option { return func(e *Engine) { e.phones = p } }

// PagedObserver hears who each page reached (rooms: invite them to the
// incident's channel).
type PagedObserver interface {
	Paged(ctx context.Context, incidentID string, users []string)
}

// WithPaged tells o who each page reached.
func WithPaged(o PagedObserver) Option { return func(e *Engine) { e.paged = o } }

// WithAlerts lets levels page through PagerDuty.
func WithAlerts(a Alerts) Option { return func(e *Engine) { e.alerts = a } }

// linker gives the incident thread's URL for PagerDuty (the Slack side).
type linker interface {
	ThreadURL(inc *incident.Incident) string
}

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
}

// DM is a page sent as a Slack message: its channel and timestamp.
type DM struct {
	Channel string
	TS      string
}

// settler is what a pager may also do: rewrite a page DM once the
// incident is acknowledged or resolved (who, when, no button).
type settler interface {
	SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm DM) error
}

// alarm is what a pager may also do: say once that a job failed.
type alarm interface {
	Failed(ctx context.Context, job, incidentID string)
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
	rdb    redis.UniversalClient
	prefix string
	reader IncidentReader
	pager  Pager
	now    func() time.Time
	log    logrus.FieldLogger
	owner  string

	// OnPage, if set, observes each page: how late it went out and to how many people.
	OnPage func(late time.Duration, people int)

	Lease    time.Duration // how long a claim is held (real time)
	Interval time.Duration // the longest the loop sleeps
	Workers  int

	kick   chan struct{}
	phones Phones
	alerts Alerts
	paged  PagedObserver
}

// NewEngine builds an engine; its loop runs in Run.
func NewEngine(rdb redis.UniversalClient, prefix string, reader IncidentReader, pager Pager, now func() time.Time, log logrus.FieldLogger, opts ...Option) *Engine {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	e := &Engine{rdb: rdb, prefix: prefix, reader: reader, pager: pager, now: now, log: log,
		owner: hex.EncodeToString(b), Lease: 15 * time.Second, Interval: time.Second, Workers: 64, kick: make(chan struct{}, 1)}
	for _, o := range opts {
		o(e)
	}
	return e
}

func (e *Engine) keyDue() string            { return e.prefix + "escalation:due" }
func (e *Engine) keyState(id string) string { return e.prefix + "escalation:" + id }
func (e *Engine) keyLease(id string) string { return e.prefix + "escalation:" + id + ":lease" }
func (e *Engine) keyDMs(id string) string   { return e.prefix + "escalation:" + id + ":dms" }
func (e *Engine) keyDMsDone(id string) string {
	return e.prefix + "escalation:" + id + ":dms:done"
}
func (e *Engine) keySent(id string, step int) string {
	return fmt.Sprintf("%sescalation:%s:sent:%d", e.prefix, id, step)
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
	e.followAlerts(ctx, id, reason)
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
	s, ok := e.pager.(settler)
	if !ok {
		return
	}
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
		if err := s.SettlePage(ctx, inc, reason, DM{Channel: ch, TS: ts}); err != nil {
			log.WithError(err).WithField("channel", ch).Warn("could not update a page DM")
			e.rdb.HDel(context.WithoutCancel(ctx), e.keyDMsDone(id), claimed[i])
		}
	}
}

// followAlerts tells PagerDuty what happened here, once each: an ack
// acknowledges its alert, a resolve resolves it.
func (e *Engine) followAlerts(ctx context.Context, id, reason string) {
	if e.alerts == nil {
		return
	}
	if n, _ := e.rdb.Exists(ctx, e.keyState(id)+":pagerduty").Result(); n == 0 {
		return
	}
	action := "acknowledge"
	if reason == "resolved" {
		action = "resolve"
	}
	if first, err := e.rdb.SetNX(ctx, e.keyState(id)+":pagerduty:"+action, 1, 30*24*time.Hour).Result(); err != nil || !first {
		return
	}
	var err error
	if action == "resolve" {
		err = e.alerts.Resolve(ctx, id)
	} else {
		err = e.alerts.Acknowledge(ctx, id)
	}
	if err != nil {
		e.rdb.Del(ctx, e.keyState(id)+":pagerduty:"+action) // try again on the next stop
		e.log.WithError(err).WithField("incident", id).Warn("could not tell PagerDuty: " + action)
	}
}

// EscalateEvery is how often one level may be paged by hand: each page is
// a DM and, with phones, an SMS, a call and a PagerDuty event.
const EscalateEvery = time.Minute

// TooSoonError refuses a manual escalation of a level asked for less than
// EscalateEvery ago; nothing changed.
type TooSoonError struct {
	Level int
	Name  string
	Last  time.Time // when the level was last escalated to
	Next  time.Time // the earliest the next manual escalation of it
}

func (e *TooSoonError) Error() string {
	return fmt.Sprintf("level %d (%s) was escalated to at %s; the next manual escalation is possible at %s",
		e.Level, e.Name, e.Last.UTC().Format(time.TimeOnly), e.Next.UTC().Format(time.TimeOnly))
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
		if last, ok := st.Escalated[next.Level]; ok && now.Sub(last) < EscalateEvery {
			return &TooSoonError{Level: next.Level, Name: next.Name, Last: last, Next: last.Add(EscalateEvery)}
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
	if e.phones != nil {
		calls := make(chan struct{})
		go func() {
			defer close(calls)
			defer e.survive(ctx, "call check", "")
			e.checkCalls(ctx, now)
		}()
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

// survive is deferred by the engine's own goroutines: a panic is logged
// with its stack and, through a pager that can raise an alarm (the Slack
// side), told once; the work is retried next tick.
func (e *Engine) survive(ctx context.Context, job, id string) {
	if p := recover(); p != nil {
		e.log.WithField("incident", id).WithField("job", job).WithField("panic", fmt.Sprint(p)).WithField("stack", string(debug.Stack())).Error(job + " panicked")
		if a, ok := e.pager.(alarm); ok {
			a.Failed(context.WithoutCancel(ctx), job, id)
		}
	}
}

func (e *Engine) process(ctx context.Context, id string, now time.Time) (worked bool) {
	log := e.log.WithField("incident", id)
	defer e.survive(ctx, "escalation", id)
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
		st, err := e.Get(pageCtx, id)
		if errors.Is(err, ErrNoLadder) {
			e.rdb.ZRem(pageCtx, e.keyDue(), id)
			return true
		}
		if err != nil {
			log.WithError(err).Warn("read ladder failed")
			return true
		}
		if st.Done() {
			e.rdb.ZRem(pageCtx, e.keyDue(), id)
			return true
		}
		if st.NextAt.After(now) {
			return true
		}
		inc, err := e.reader.Current(pageCtx, id)
		if err != nil {
			log.WithError(err).Warn("re-read incident failed; will retry")
			return true
		}
		if !inc.Open() {
			_ = e.Stop(pageCtx, id, "resolved", "")
			return true
		}
		if inc.AckedBy != nil && !st.Forced {
			_ = e.Stop(pageCtx, id, "acknowledged", inc.AckedBy.ID)
			return true
		}
		step, due := st.Next, st.NextAt
		page, err := e.page(pageCtx, inc, st, now)
		if err != nil {
			attempts := st.Attempts + 1
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
			log.WithError(err).WithField("level", page.Level).WithField("retry_in", wait).Warn("page failed; retrying")
			_, _ = e.update(pageCtx, id, func(s *State) error {
				if s.Next == step {
					s.Attempts = attempts
					s.NextAt = now.Add(wait)
				}
				return nil
			})
			return true
		}
		_, err = e.update(pageCtx, id, func(s *State) error {
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
		if err != nil {
			log.WithError(err).Warn("record page failed")
			return true
		}
		log.WithFields(logrus.Fields{"level": page.Level, "repeat": page.Repeat, "reached": len(page.Reached), "skipped": page.Skipped}).Info("escalation page sent")
		e.pager.AfterPage(pageCtx, id)
		if e.paged != nil {
			e.paged.Paged(pageCtx, id, page.Reached)
		}
		if e.OnPage != nil {
			e.OnPage(max(e.now().Sub(due), 0), len(page.Reached))
		}
	}
	return true
}

// page sends one step to everyone it reaches. Each delivered DM is marked
// in Redis, so a retry after a failure or crash re-sends only the missing
// ones. Whoever cannot be reached for good is skipped at once; transient
// failures are retried until the next level is due, then skipped too.
func (e *Engine) page(ctx context.Context, inc *incident.Incident, st *State, now time.Time) (Page, error) {
	rung, repeat := st.Ladder.Rung(st.Next)
	p := Page{Incident: inc.ID, Step: st.Next, Level: rung.Level, Name: rung.Name, Window: rung.Window, Repeat: repeat, Manual: st.Forced}
	next := st.nextDeadline()
	giveUp := !next.IsZero() && !now.Before(next)
	seen := map[string]bool{}
	var targets []string
	for _, t := range rung.Targets {
		users, err := e.pager.Members(ctx, t)
		if err != nil {
			if permanent(err) || giveUp {
				p.Unreachable = append(p.Unreachable, Unreached{ID: t, Why: reason(err)})
				continue
			}
			return p, fmt.Errorf("expand %s: %w", t, err)
		}
		for _, u := range users {
			if !seen[u] {
				seen[u] = true
				targets = append(targets, u)
			}
		}
	}
	sentKey := e.keySent(inc.ID, st.Next)
	p.Channels = rung.Channels()
	var firstErr error
	// Each (step, person, channel) is marked in Redis once delivered, so a
	// retry, a restart or another replica sends only what is missing; one
	// channel failing never holds back the others.
	deliver := func(member string, send func() error) (bool, error) {
		done, err := e.rdb.SIsMember(ctx, sentKey, member).Result()
		if err != nil || done {
			return done, err
		}
		if err := send(); err != nil {
			return false, err
		}
		e.rdb.SAdd(ctx, sentKey, member)
		e.rdb.Expire(ctx, sentKey, 30*24*time.Hour)
		return true, nil
	}
	fail := func(who, what string, err error) {
		if permanent(err) || giveUp {
			p.Unreachable = append(p.Unreachable, Unreached{ID: who, Why: what + reason(err)})
			return
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("page %s: %w", who, err)
		}
	}
	// PagerDuty goes out beside the people, not after them: each channel
	// is a network round trip, and the page is late by their sum.
	type pdResult struct {
		ok  bool
		err error
	}
	var pdDone chan pdResult
	if slices.Contains(p.Channels, ViaPagerDuty) && e.alerts != nil {
		link := ""
		if l, ok := e.pager.(linker); ok {
			link = l.ThreadURL(inc)
		}
		pdDone = make(chan pdResult, 1)
		go func() {
			defer func() {
				// A panic fails this channel only; the step is retried.
				if r := recover(); r != nil {
					e.log.WithField("incident", inc.ID).WithField("panic", fmt.Sprint(r)).WithField("stack", string(debug.Stack())).Error("PagerDuty trigger panicked")
					if a, ok := e.pager.(alarm); ok {
						a.Failed(context.WithoutCancel(ctx), "PagerDuty trigger", inc.ID)
					}
					pdDone <- pdResult{err: fmt.Errorf("PagerDuty trigger panicked: %v", r)}
				}
			}()
			ok, err := deliver("#pagerduty", func() error {
				return e.alerts.Trigger(ctx, inc.ID, fmt.Sprintf("%s: %s (%s, %s) — level %d (%s)", inc.ID, inc.Title, inc.Category, inc.Severity, p.Level, p.Name),
					pdSeverity(inc.Severity), link)
			})
			pdDone <- pdResult{ok, err}
		}()
	}
	for _, u := range targets {
		reached := false
		for _, ch := range p.Channels {
			var send func() error
			member := u + "|" + ch
			switch ch {
			case ViaSlack:
				member = u // the marker of ladders paged before channels existed
				send = func() error {
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
				phone := rung.Phones[u]
				if e.phones == nil || phone == "" {
					continue // a group member without a number in contacts.yml: Slack only
				}
				text := PhoneText(inc, p)
				if ch == ViaSMS {
					send = func() error { return e.phones.SMS(ctx, phone, text) }
				} else {
					send = func() error {
						sid, err := e.phones.Call(ctx, phone, text)
						if err == nil && sid != "" {
							e.watchCall(ctx, inc.ID, u, sid, now)
						}
						return err
					}
				}
			default:
				continue
			}
			ok, err := deliver(member, send)
			if err != nil {
				label := map[string]string{ViaSlack: "", ViaSMS: "SMS: ", ViaCall: "call: "}[ch]
				fail(u, label, err)
				continue
			}
			if ok {
				reached = true
				if p.Sent == nil {
					p.Sent = map[string][]string{}
				}
				p.Sent[u] = append(p.Sent[u], ch)
			}
		}
		if reached {
			p.Reached = append(p.Reached, u)
		}
	}
	if pdDone != nil {
		r := <-pdDone
		switch {
		case r.err != nil:
			fail("PagerDuty", "", r.err)
		case r.ok:
			p.PagerDuty = true
			e.rdb.Set(ctx, e.keyState(inc.ID)+":pagerduty", 1, 30*24*time.Hour)
		}
	}
	if firstErr != nil {
		return p, firstErr
	}
	p.Skipped = len(p.Reached) == 0
	if done, _ := e.rdb.SIsMember(ctx, sentKey, "#announce").Result(); !done {
		if err := e.pager.Announce(ctx, inc, p); err != nil {
			return p, fmt.Errorf("announce: %w", err)
		}
		e.rdb.SAdd(ctx, sentKey, "#announce")
		e.rdb.Expire(ctx, sentKey, 30*24*time.Hour)
	}
	return p, nil
}

// PhoneText is what an SMS says and a call reads out: the incident, its
// title and severity, the level, and how to acknowledge. It stays within
// 320 characters.
func PhoneText(inc *incident.Incident, p Page) string {
	head := fmt.Sprintf("%s %s %s: ", inc.ID, inc.Severity, inc.Category)
	tail := fmt.Sprintf(". You are paged as level %d (%s). Acknowledge in Slack, or run: clerk-incident-bot do ack %s", p.Level, p.Name, inc.ID)
	title := []rune(inc.Title)
	if room := 320 - len([]rune(head)) - len([]rune(tail)); len(title) > room {
		title = append(title[:max(room-1, 0)], '…')
	}
	return head + string(title) + tail
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
