package escalation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Reply is one SMS texted to one of the bot's numbers.
type Reply struct {
	SID, From, To, Body string
	Sent                time.Time // to the second, as Twilio gives it
}

// Inbox lists the SMS texted to number sent at or after since, oldest
// first (paging.Twilio's message list); truncated: more were there than
// one read takes.
type Inbox interface {
	Received(ctx context.Context, number string, since time.Time) (msgs []Reply, truncated bool, err error)
}

// ReplyHandler acts on one reply. An error means "try again": the reply
// is handed over again at the next poll; a reply it could not act on for
// good (a stranger, words it does not know) is answered and returns nil.
type ReplyHandler interface {
	HandleReply(ctx context.Context, m Reply) error
}

// Replies reads the SMS texted back to the bot's numbers by polling
// Twilio's message list (no public URL needed), on one replica at a time
// (a lease), each message handled exactly once across replicas and
// restarts: a claim per message SID, then "done", and a high-water mark
// per number below which the list is not read again.
type Replies struct {
	rdb     redis.UniversalClient
	prefix  string
	inbox   Inbox
	handler ReplyHandler
	numbers []string
	lease   *redisx.Lease
	every   time.Duration
	now     func() time.Time
	log     logrus.FieldLogger
	guard   Guard
}

// The reader's bounds.
const (
	// replyOverlap is how far below the high-water mark each read starts:
	// a message may be listed a little after a later one was.
	replyOverlap = 5 * time.Minute
	// replyFirstLook is how far back the very first read looks: a reply
	// older than the bot's first start answers nothing it paged.
	replyFirstLook = 10 * time.Minute
	// replyClaim is how long a replica may take over one message before
	// another may take it (a replica that died while handling it).
	replyClaim = time.Minute
	// replyDone is how long a handled SID is remembered: far past the
	// overlap, so a message is never handled twice.
	replyDone = 7 * 24 * time.Hour
)

// NewReplies builds the reader of numbers; every is TWILIO_REPLY_POLL.
func NewReplies(rdb redis.UniversalClient, prefix string, inbox Inbox, handler ReplyHandler, numbers []string, every time.Duration,
	now func() time.Time, log logrus.FieldLogger, g Guard) *Replies {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Replies{rdb: rdb, prefix: prefix, inbox: inbox, handler: handler, numbers: numbers, every: every, now: now, log: log, guard: g,
		lease: redisx.NewLease(rdb, prefix+"escalation:replies:lease", hex.EncodeToString(b))}
}

// PollIfDue reads every number when a read is due (every interval,
// when the last read began is kept in Redis) and this replica holds the
// turn. The 1 s sweep calls it on every replica, so a reply waits at most
// one interval and a second.
func (r *Replies) PollIfDue(ctx context.Context) {
	if ok, err := r.lease.Keep(ctx, r.leaseTTL()); err != nil || !ok {
		return
	}
	now := r.now()
	next, err := r.rdb.Get(ctx, r.prefix+"escalation:replies:next").Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		r.log.WithError(err).Warn("SMS replies: could not read when the next read is due")
		return
	}
	if now.UnixMilli() < next {
		return
	}
	// A little early rather than a sweep late: the sweep that comes
	// about one interval on must read, not the one after it.
	r.rdb.Set(ctx, r.prefix+"escalation:replies:next", now.Add(r.every-min(r.every/10, 200*time.Millisecond)).UnixMilli(), 0)
	r.Poll(ctx)
}

func (r *Replies) leaseTTL() time.Duration { return max(3*r.every, 5*time.Second) }

// Poll reads every number once if this replica holds the lease (taken or
// kept for three intervals, so a dead replica's turn passes on).
func (r *Replies) Poll(ctx context.Context) {
	ok, err := r.lease.Keep(ctx, r.leaseTTL())
	if err != nil {
		r.log.WithError(err).Warn("SMS replies: could not take the polling lease")
		return
	}
	if !ok {
		return
	}
	for _, n := range r.numbers {
		if err := r.pollNumber(ctx, n); err != nil && ctx.Err() == nil {
			r.log.WithError(err).Warn("SMS replies: could not read the replies")
		}
	}
}

// claimReplyScript claims a message: absent, or claimed by a replica
// whose time ran out. KEYS: the message's key. ARGV: now and claim
// deadline (ms), TTL of the key (ms).
var claimReplyScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == 'done' then return 0 end
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`)

// raiseMarkScript moves a number's high-water mark up, never down.
var raiseMarkScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or tonumber(v) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`)

func (r *Replies) markKey(number string) string {
	return r.prefix + "escalation:replies:mark:" + number
}
func (r *Replies) sidKey(sid string) string { return r.prefix + "escalation:reply:" + sid }

// pollNumber reads one number's new messages and hands each over once.
func (r *Replies) pollNumber(ctx context.Context, number string) error {
	now := r.now()
	// The first read ever starts a little before now; every replica
	// agrees on it (SET NX).
	r.rdb.SetNX(ctx, r.markKey(number), now.Add(-replyFirstLook).UnixMilli(), 0)
	raw, err := r.rdb.Get(ctx, r.markKey(number)).Result()
	if err != nil {
		return err
	}
	markMS, _ := strconv.ParseInt(raw, 10, 64)
	msgs, truncated, err := r.inbox.Received(ctx, number, time.UnixMilli(markMS).Add(-replyOverlap))
	if err != nil {
		return err
	}
	if truncated {
		r.log.WithField("number", masked(number)).Warn("SMS replies: more messages than one read takes; the oldest are left unread")
	}
	var errs []error
	for _, m := range msgs {
		// One that fails is read again next time; the others go on.
		errs = append(errs, r.handleOnce(ctx, number, m))
	}
	return errors.Join(errs...)
}

// handleOnce claims a message, hands it over, and marks it done.
func (r *Replies) handleOnce(ctx context.Context, number string, m Reply) error {
	now := r.now()
	ok, err := claimReplyScript.Run(ctx, r.rdb, []string{r.sidKey(m.SID)}, now.UnixMilli(), now.Add(replyClaim).UnixMilli(), replyDone.Milliseconds()).Int()
	if err != nil {
		return err
	}
	if ok != 1 {
		return nil // handled, or being handled by another replica
	}
	err = r.guard.Call(ctx, "SMS reply", "", func(ctx context.Context) error { return r.handler.HandleReply(ctx, m) })
	if err != nil {
		// Not acted on: let the next read take it again.
		r.rdb.Del(context.WithoutCancel(ctx), r.sidKey(m.SID))
		return errors.Join(errors.New("SMS reply "+m.SID+" not handled yet"), err)
	}
	if err := r.rdb.Set(ctx, r.sidKey(m.SID), "done", replyDone).Err(); err != nil {
		return err
	}
	return raiseMarkScript.Run(ctx, r.rdb, []string{r.markKey(number)}, m.Sent.UnixMilli()).Err()
}

// masked shows only a number's last four digits (logs).
func masked(number string) string {
	if len(number) <= 4 {
		return "…"
	}
	return "…" + number[len(number)-4:]
}
