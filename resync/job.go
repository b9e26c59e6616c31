package resync

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Lister pages Clerk users newest first.
type Lister interface {
	CountUsers(ctx context.Context) (int64, error)
	// ListUsersRaw returns up to limit users created before `before` (ms,
	// exclusive; 0 = no bound), newest first, skipping offset.
	ListUsersRaw(ctx context.Context, limit int, before int64, offset int) ([]clerkops.RawUser, error)
	InstanceID(ctx context.Context) string
}

// Job statuses.
const (
	Running   = "running"
	Done      = "done"
	Cancelled = "cancelled"
	Failed    = "failed"
)

// Cursor is where the job is: users created before Before, minus those
// already sent that were created at Before-1 (ties on one millisecond).
type Cursor struct {
	Before int64    `json:"before"`
	Seen   []string `json:"seen,omitempty"`
}

// Job is one resync, stored in Redis so any replica can resume it.
type Job struct {
	ID         string          `json:"id"`
	Incident   string          `json:"incident,omitempty"`
	By         incident.Person `json:"by"`
	DryRun     bool            `json:"dry_run,omitempty"`
	Since      time.Time       `json:"since,omitzero"`
	Status     string          `json:"status"`
	Error      string          `json:"error,omitempty"`
	Total      int64           `json:"total"`
	Done       int64           `json:"done"`
	Delivered  int64           `json:"delivered"`
	Failed     int64           `json:"failed"`
	Skipped    int64           `json:"skipped"` // not updated since --since
	Cursor     Cursor          `json:"cursor"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
	InstanceID string          `json:"instance_id,omitempty"`
	Channel    string          `json:"channel,omitempty"`
	ThreadTS   string          `json:"thread_ts,omitempty"`
	ProgressTS string          `json:"progress_ts,omitempty"`
}

// Reporter shows progress and the end (the Slack side).
type Reporter interface {
	Progress(ctx context.Context, j *Job, rate float64)
	Finished(ctx context.Context, j *Job, failedIDs []string)
}

// Config configures the runner.
type Config struct {
	WebhookURL  string
	Secret      Secret
	Concurrency int
	PageSize    int
	// Guard recovers panics in workers and reporting (guard.Guard); nil
	// runs them bare.
	Guard Guard
}

// Guard runs fn and recovers a panic, reporting whether one happened.
type Guard interface {
	Run(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) bool
}

// guarded runs fn under the configured guard.
func (r *Runner) guarded(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) bool {
	if r.cfg.Guard == nil {
		fn(ctx)
		return false
	}
	return r.cfg.Guard.Run(ctx, job, incidentID, fn)
}

// Runner runs resync jobs; every replica has one, one job runs at a time.
type Runner struct {
	rdb    redis.UniversalClient
	prefix string
	cfg    Config
	lister Lister
	rep    Reporter
	hc     *http.Client
	now    func() time.Time
	log    logrus.FieldLogger
	owner  string
	Lease  time.Duration

	mu      sync.Mutex
	running bool
}

// NewRunner builds a runner.
func NewRunner(rdb redis.UniversalClient, prefix string, cfg Config, lister Lister, rep Reporter, now func() time.Time, log logrus.FieldLogger) *Runner {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 8
	}
	if cfg.PageSize < 1 || cfg.PageSize > 500 {
		cfg.PageSize = 500
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Concurrency * 2
	return &Runner{rdb: rdb, prefix: prefix, cfg: cfg, lister: lister, rep: rep, now: now, log: log, owner: hex.EncodeToString(b),
		hc: &http.Client{Timeout: 15 * time.Second, Transport: tr}, Lease: 10 * time.Second}
}

func (r *Runner) keyJob() string             { return r.prefix + "resync:job" }
func (r *Runner) keyLease() string           { return r.prefix + "resync:lease" }
func (r *Runner) keyFailed(id string) string { return r.prefix + "resync:" + id + ":failed" }

// ErrRunning means a resync is already running (on any replica).
var ErrRunning = errors.New("a resync is already running")

// Current returns the latest job, or nil.
func (r *Runner) Current(ctx context.Context) (*Job, error) {
	return CurrentJob(ctx, r.rdb, r.prefix)
}

// CurrentJob reads the current or last job from Redis without a runner
// (the metrics gauge).
func CurrentJob(ctx context.Context, rdb redis.UniversalClient, prefix string) (*Job, error) {
	raw, err := rdb.Get(ctx, prefix+"resync:job").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read resync job: %w", err)
	}
	var j Job
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// update changes the job atomically (the runner and cancel race).
func (r *Runner) update(ctx context.Context, fn func(j *Job) error) (*Job, error) {
	return redisx.UpdateJSON(ctx, r.rdb, r.keyJob(), nil, fn, func(p redis.Pipeliner, raw []byte, _ *Job) {
		p.Set(ctx, r.keyJob(), raw, 0)
	})
}

// Start records a new job; the runner (here or on another replica) picks
// it up at its next Resume.
func (r *Runner) Start(ctx context.Context, j Job) (*Job, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	j.ID = "rs-" + hex.EncodeToString(b)
	j.Status = Running
	j.StartedAt = r.now().UTC()
	return r.update(ctx, func(cur *Job) error {
		if cur.Status == Running {
			return ErrRunning
		}
		*cur = j
		return nil
	})
}

// Cancel stops the running job at its next page.
func (r *Runner) Cancel(ctx context.Context, by incident.Person) (*Job, error) {
	return r.update(ctx, func(j *Job) error {
		if j.Status != Running {
			return errors.New("no resync is running")
		}
		j.Status = Cancelled
		j.Error = "cancelled by " + by.Plain()
		j.FinishedAt = r.now().UTC()
		return nil
	})
}

// SetProgressMessage remembers the Slack message that shows progress.
func (r *Runner) SetProgressMessage(ctx context.Context, id, channel, thread, ts string) error {
	_, err := r.update(ctx, func(j *Job) error {
		if j.ID == id {
			j.Channel, j.ThreadTS, j.ProgressTS = channel, thread, ts
		}
		return nil
	})
	return err
}

func (r *Runner) lease() *redisx.Lease { return redisx.NewLease(r.rdb, r.keyLease(), r.owner) }

// Resume starts (in the background) the running job if nobody holds its
// lease: a new job, or one whose replica died or was restarted.
func (r *Runner) Resume(ctx context.Context) {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return
	}
	j, err := r.Current(ctx)
	if err != nil || j == nil || j.Status != Running {
		r.mu.Unlock()
		return
	}
	ok, err := r.lease().Keep(ctx, r.Lease)
	if err != nil || !ok {
		r.mu.Unlock()
		return
	}
	r.running = true
	r.mu.Unlock()
	go func() {
		defer func() {
			// Hand the lease back before reporting idle: shutdown waits for
			// idle and then closes Redis.
			_ = r.lease().Release(context.WithoutCancel(ctx))
			r.mu.Lock()
			r.running = false
			r.mu.Unlock()
		}()
		// A panic stops the run at its checkpoint; the next sweep resumes.
		r.guarded(ctx, "resync", j.Incident, func(ctx context.Context) { r.run(ctx, j.ID) })
	}()
}

// Idle reports whether this replica is not running a job.
func (r *Runner) Idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.running
}

func (r *Runner) run(ctx context.Context, id string) {
	log := r.log.WithField("resync", id)
	// Keep the lease while working; losing it means another replica took over.
	leaseCtx, stopLease := context.WithCancel(ctx)
	defer stopLease()
	go r.guarded(leaseCtx, "resync lease", "", func(ctx context.Context) {
		r.lease().Hold(ctx, r.Lease, func() {
			log.Warn("resync lease lost; stopping")
			stopLease()
		})
	})
	ctx = leaseCtx
	j, ok := r.prepare(ctx, id)
	if !ok {
		return
	}
	log.WithField("total", j.Total).WithField("done", j.Done).Info("resync running")
	p := newPass(r, j, stopLease)
	p.report(ctx, true)
	for range r.cfg.Concurrency {
		p.wg.Go(func() { p.worker(ctx) })
	}
	if !p.feedPages(ctx) {
		return
	}
	p.finishWorkers()
	if ctx.Err() != nil {
		return
	}
	if p.abort.Load() {
		r.finish(ctx, id, Failed, "the endpoint rejected our signatures (401/403) on the first deliveries: APP_WEBHOOK_SECRET is probably wrong")
		r.finishReport(ctx, id)
		return
	}
	p.led.mu.Lock()
	cp, due := p.advance()
	p.led.mu.Unlock()
	if due {
		p.writing.Lock()
		p.commit(ctx, cp)
		p.writing.Unlock()
	}
	p.report(ctx, true)
	r.finish(ctx, id, Done, "")
	r.finishReport(ctx, id)
}

// prepare reads the running job and, on its first run, counts the users.
func (r *Runner) prepare(ctx context.Context, id string) (*Job, bool) {
	j, err := r.Current(ctx)
	if err != nil || j == nil || j.ID != id || j.Status != Running {
		return nil, false
	}
	if j.Total == 0 {
		total, err := r.lister.CountUsers(ctx)
		if err != nil {
			r.finish(ctx, id, Failed, "could not count users: "+err.Error())
			return nil, false
		}
		if j.InstanceID == "" {
			j.InstanceID = r.lister.InstanceID(ctx)
		}
		inst := j.InstanceID
		j, err = r.update(ctx, func(cur *Job) error { cur.Total, cur.InstanceID = total, inst; return nil })
		if err != nil {
			return nil, false
		}
	}
	return j, true
}

// pass is one run of a job on this replica. Users flow through one pool
// of workers across pages, so no worker waits for a page's slowest
// delivery; a page's cursor is checkpointed once it and every page before
// it are fully delivered. The next page is fetched while the current one
// is delivered.
type pass struct {
	r         *Runner
	j         *Job
	stopLease func()
	n         counts
	progress  progressClock
	led       ledger
	abort     atomic.Bool // the endpoint refuses our signatures
	commitErr atomic.Bool // the job changed under us
	writing   sync.Mutex  // held while a checkpoint is stored: they land in order
	work      chan passItem
	wg        sync.WaitGroup
}

// counts are the run's live figures.
type counts struct {
	done, delivered, failed, skipped atomic.Int64
	authFailures, firstResults       atomic.Int64
}

// progressClock paces progress reports.
type progressClock struct {
	mu        sync.Mutex
	last      time.Time
	start     time.Time
	startDone int64
}

// ledger is the pages in flight and what is checkpointed. Checkpointed
// counts cover committed pages only, so users re-sent after a restart are
// counted once.
type ledger struct {
	mu        sync.Mutex
	pages     []*passPage
	committed int // pages checkpointed
	base      struct{ done, delivered, failed, skipped int64 }
}

// passPage is one listed page of users being delivered.
type passPage struct {
	after                         Cursor
	pending                       int
	failed                        []string
	nDelivered, nFailed, nSkipped int64
}

// passItem is one user to deliver, from page pg.
type passItem struct {
	u  clerkops.RawUser
	pg int
}

// fetched is one listed page, or why not.
type fetched struct {
	users []clerkops.RawUser
	err   error
}

func newPass(r *Runner, j *Job, stopLease func()) *pass {
	// A worker takes its next user from the buffer, not from the feeder
	// goroutine's hand, and the buffer keeps the workers busy while the
	// feeder checks the job between pages.
	p := &pass{r: r, j: j, stopLease: stopLease, work: make(chan passItem, r.cfg.Concurrency)}
	p.n.done.Store(j.Done)
	p.n.delivered.Store(j.Delivered)
	p.n.failed.Store(j.Failed)
	p.n.skipped.Store(j.Skipped)
	p.progress.start, p.progress.startDone = time.Now(), j.Done
	p.led.base.done, p.led.base.delivered, p.led.base.failed, p.led.base.skipped = j.Done, j.Delivered, j.Failed, j.Skipped
	return p
}

// report shows progress, at most every 2 s unless forced.
func (p *pass) report(ctx context.Context, force bool) {
	p.progress.mu.Lock()
	defer p.progress.mu.Unlock()
	if p.r.rep == nil || (!force && time.Since(p.progress.last) < 2*time.Second) {
		return
	}
	p.progress.last = time.Now()
	cur := *p.j
	cur.Done, cur.Delivered, cur.Failed, cur.Skipped = p.n.done.Load(), p.n.delivered.Load(), p.n.failed.Load(), p.n.skipped.Load()
	// Users imported with older creation dates during the run, or a
	// count that lags the list, make done pass the first count.
	cur.Total = max(cur.Total, cur.Done)
	rate := float64(cur.Done-p.progress.startDone) / max(time.Since(p.progress.start).Seconds(), 0.001)
	p.r.guarded(ctx, "resync progress", p.j.Incident, func(ctx context.Context) { p.r.rep.Progress(ctx, &cur, rate) })
}

// checkpoint is what one commit stores: the cursor after the longest fully
// delivered prefix of pages, the counts over it, and the users on it that
// failed.
type checkpoint struct {
	cursor                           Cursor
	failedIDs                        []string
	done, delivered, failed, skipped int64
}

// advance moves the committed prefix over every page now fully delivered
// and returns the checkpoint to store, or false when no page completed the
// prefix. Called with led.mu held.
func (p *pass) advance() (checkpoint, bool) {
	led := &p.led
	var cp checkpoint
	n := led.committed
	for n < len(led.pages) && led.pages[n].pending == 0 {
		pg := led.pages[n]
		cp.cursor = pg.after
		cp.failedIDs = append(cp.failedIDs, pg.failed...)
		led.base.delivered += pg.nDelivered
		led.base.failed += pg.nFailed
		led.base.skipped += pg.nSkipped
		led.base.done += pg.nDelivered + pg.nFailed + pg.nSkipped
		led.pages[n] = nil // let the page go
		n++
	}
	if n == led.committed {
		return cp, false
	}
	led.committed = n
	cp.done, cp.delivered, cp.failed, cp.skipped = led.base.done, led.base.delivered, led.base.failed, led.base.skipped
	return cp, true
}

// commit stores a checkpoint in Redis. Called with p.writing held, taken
// while led.mu was still held, so checkpoints land in the order they were
// taken while the workers settle their next users without waiting on
// Redis.
func (p *pass) commit(ctx context.Context, cp checkpoint) {
	r, id := p.r, p.j.ID
	if len(cp.failedIDs) > 0 {
		vals := make([]any, len(cp.failedIDs))
		for i, v := range cp.failedIDs {
			vals[i] = v
		}
		r.rdb.RPush(ctx, r.keyFailed(id), vals...)
		r.rdb.Expire(ctx, r.keyFailed(id), 30*24*time.Hour)
	}
	if _, err := r.update(ctx, func(c *Job) error {
		if c.ID != id || c.Status != Running {
			return errors.New("job changed")
		}
		c.Cursor, c.Done, c.Delivered, c.Failed, c.Skipped = cp.cursor, cp.done, cp.delivered, cp.failed, cp.skipped
		c.Total = max(c.Total, cp.done)
		return nil
	}); err != nil {
		p.commitErr.Store(true)
	}
}

// worker delivers users until the work ends. A panic stops this run at
// its last checkpoint (the page is never completed); the next sweep
// resumes from there.
func (p *pass) worker(ctx context.Context) {
	for it := range p.work {
		if p.r.guarded(ctx, "resync worker", p.j.Incident, func(ctx context.Context) { p.deliver(ctx, it) }) {
			p.stopLease()
		}
	}
}

// deliver sends one user (or skips one not updated since --since) and
// settles it on its page.
func (p *pass) deliver(ctx context.Context, it passItem) {
	u := it.u
	var ok, skip bool
	switch {
	case p.abort.Load() || ctx.Err() != nil:
		return // not counted: the page is never checkpointed
	case !p.j.Since.IsZero() && u.UpdatedAt < p.j.Since.UnixMilli():
		p.n.skipped.Add(1)
		ok, skip = true, true
	default:
		status, err := p.r.send(ctx, u, p.j)
		if ctx.Err() != nil {
			return
		}
		if p.n.firstResults.Add(1) <= 5 && (status == 401 || status == 403) {
			if p.n.authFailures.Add(1) >= 3 {
				p.abort.Store(true)
			}
		}
		ok = err == nil
		if ok {
			p.n.delivered.Add(1)
		} else {
			p.n.failed.Add(1)
		}
	}
	p.n.done.Add(1)
	p.settle(ctx, it.pg, u.ID, ok, skip)
	p.report(ctx, false)
}

// settle counts one user on its page and checkpoints when the page is done.
func (p *pass) settle(ctx context.Context, pg int, userID string, ok, skip bool) {
	p.led.mu.Lock()
	page := p.led.pages[pg]
	switch {
	case skip:
		page.nSkipped++
	case ok:
		page.nDelivered++
	default:
		page.nFailed++
		page.failed = append(page.failed, userID)
	}
	page.pending--
	var cp checkpoint
	var due bool
	if page.pending == 0 {
		cp, due = p.advance()
	}
	if due {
		p.writing.Lock()
	}
	p.led.mu.Unlock()
	if due {
		p.commit(ctx, cp)
		p.writing.Unlock()
	}
}

func (p *pass) finishWorkers() {
	close(p.work)
	p.wg.Wait()
}

// fetch lists the page after c in the background.
func (p *pass) fetch(ctx context.Context, c Cursor) chan fetched {
	ch := make(chan fetched, 1)
	go func() {
		var f fetched
		if p.r.guarded(ctx, "resync listing", p.j.Incident, func(ctx context.Context) { f.users, f.err = p.r.nextPage(ctx, c) }) {
			// Stop at the last checkpoint; the next sweep resumes.
			p.stopLease()
			f = fetched{err: context.Canceled}
		}
		ch <- f
	}()
	return ch
}

// feedPages lists users page by page into the workers. It reports whether
// the listing reached its end (or the run aborted); otherwise it has
// stopped the workers and said what needed saying.
func (p *pass) feedPages(ctx context.Context) bool {
	r, id := p.r, p.j.ID
	cursor := p.j.Cursor
	pending := p.fetch(ctx, cursor)
	for {
		f := <-pending
		if ctx.Err() != nil {
			p.finishWorkers()
			return false // lease lost or shutting down: resumed from the checkpoint
		}
		if f.err != nil {
			p.finishWorkers()
			r.finish(ctx, id, Failed, "could not list users: "+f.err.Error())
			r.finishReport(ctx, id)
			return false
		}
		if len(f.users) == 0 {
			return true
		}
		cursor = advance(cursor, f.users)
		pending = p.fetch(ctx, cursor)
		if cur, err := r.Current(ctx); err != nil || cur == nil || cur.ID != id || cur.Status != Running || p.commitErr.Load() {
			p.finishWorkers()
			if cur != nil && cur.ID == id && cur.Status == Cancelled {
				r.finishReport(ctx, id)
			}
			return false
		}
		p.led.mu.Lock()
		p.led.pages = append(p.led.pages, &passPage{after: cursor, pending: len(f.users)})
		pg := len(p.led.pages) - 1
		p.led.mu.Unlock()
	feed:
		for _, u := range f.users {
			select {
			case p.work <- passItem{u: u, pg: pg}:
			case <-ctx.Done():
				break feed
			}
		}
		if p.abort.Load() {
			return true
		}
	}
}

// advance moves the cursor past a page.
func advance(c Cursor, page []clerkops.RawUser) Cursor {
	last := page[len(page)-1]
	next := Cursor{Before: last.CreatedAt + 1}
	if last.CreatedAt+1 == c.Before {
		next.Seen = append(next.Seen, c.Seen...)
	}
	for _, u := range page {
		if u.CreatedAt == last.CreatedAt {
			next.Seen = append(next.Seen, u.ID)
		}
	}
	return next
}

// nextPage fetches the next users after the cursor, skipping ones already
// sent at the boundary millisecond.
func (r *Runner) nextPage(ctx context.Context, c Cursor) ([]clerkops.RawUser, error) {
	seen := map[string]bool{}
	for _, id := range c.Seen {
		seen[id] = true
	}
	for offset := 0; ; offset += r.cfg.PageSize {
		users, err := r.lister.ListUsersRaw(ctx, r.cfg.PageSize, c.Before, offset)
		if err != nil {
			return nil, err
		}
		var out []clerkops.RawUser
		for _, u := range users {
			if !seen[u.ID] {
				out = append(out, u)
			}
		}
		if len(out) > 0 || len(users) < r.cfg.PageSize {
			return out, nil
		}
		// A full page of users already sent (many created in one ms): look further.
	}
}

func (r *Runner) finish(ctx context.Context, id, status, msg string) {
	_, _ = r.update(context.WithoutCancel(ctx), func(j *Job) error {
		if j.ID != id || j.Status != Running {
			return nil
		}
		j.Status, j.Error, j.FinishedAt = status, msg, r.now().UTC()
		return nil
	})
}

func (r *Runner) finishReport(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	j, err := r.Current(ctx)
	if err != nil || j == nil || j.ID != id || r.rep == nil {
		return
	}
	// Report once, whichever replica ends it.
	if first, _ := redisx.Once(ctx, r.rdb, r.prefix+"resync:"+id+":reported", 30*24*time.Hour); !first {
		return
	}
	failedIDs, _ := r.rdb.LRange(ctx, r.keyFailed(id), 0, -1).Result()
	// The end is reported once: a reporter that failed gets one more try.
	report := func(ctx context.Context) { r.rep.Finished(ctx, j, failedIDs) }
	if r.guarded(ctx, "resync report", j.Incident, report) {
		r.guarded(ctx, "resync report", j.Incident, report)
	}
}

// event builds the body Clerk would send for a user.
func event(u clerkops.RawUser, instance string, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":`)
	b.Write(u.JSON)
	b.WriteString(`,"object":"event","type":"user.updated","timestamp":`)
	b.WriteString(strconv.FormatInt(now.UnixMilli(), 10))
	b.WriteString(`,"instance_id":`)
	inst, _ := json.Marshal(instance)
	b.Write(inst)
	b.WriteString(`}`)
	return b.Bytes()
}

// send delivers one user, retrying 5xx, 429 and timeouts with backoff. A
// 4xx fails that user. In a dry run nothing is sent.
func (r *Runner) send(ctx context.Context, u clerkops.RawUser, j *Job) (int, error) {
	if j.DryRun {
		return 0, nil
	}
	body := event(u, j.InstanceID, time.Now())
	id := NewMessageID() // the same for every retry of this delivery, as Svix does
	backoff := 200 * time.Millisecond
	var lastErr error
	for attempt := 1; attempt <= 5; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.WebhookURL, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		r.cfg.Secret.HeadersFor(req.Header, id, body, time.Now())
		resp, err := r.hc.Do(req)
		status := 0
		wait := backoff/2 + time.Duration(mrand.Int64N(int64(backoff)))
		if err == nil {
			status = resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			switch {
			case status/100 == 2:
				return status, nil
			case status == http.StatusTooManyRequests:
				if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil {
					wait = time.Duration(s) * time.Second
				}
				lastErr = errors.New("429")
			case status >= 500:
				lastErr = fmt.Errorf("%d", status)
			default:
				return status, fmt.Errorf("the app answered %d", status)
			}
		} else {
			lastErr = errors.New("unreachable or timed out")
		}
		if ctx.Err() != nil {
			return status, ctx.Err()
		}
		select {
		case <-ctx.Done():
			return status, ctx.Err()
		case <-time.After(min(wait, 30*time.Second)):
		}
		backoff *= 2
	}
	return 0, fmt.Errorf("gave up after 5 attempts: %w", lastErr)
}
