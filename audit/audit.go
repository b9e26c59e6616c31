// Package audit keeps the audit log: every state-changing command, click,
// request and decision, appended to a Redis stream (who, what, when,
// incident, outcome) and mirrored to the structured log.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
)

// Entry is one audited action.
type Entry struct {
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"` // Slack user ID, cli:<name>, or a component
	Name     string    `json:"name,omitempty"`
	Action   string    `json:"action"`
	Detail   string    `json:"detail,omitempty"`
	Incident string    `json:"incident,omitempty"`
	Outcome  string    `json:"outcome"` // ok, refused, failed
	// Origin says where a break-glass CLI command came from (OS user,
	// host, process ID): the --as name is only what the operator typed.
	Origin string `json:"origin,omitempty"`
}

// Log writes and reads the audit stream.
//
// Refusals (outcome "refused…") go to a stream of their own, at most
// RefusedPerMinute of one actor a minute, the rest only counted: anyone
// in the workspace can be refused, so a flood of them must not evict
// real entries from the audit stream nor crowd them out of `audit`.
type Log struct {
	rdb     redis.UniversalClient
	key     string
	refused string
	log     logrus.FieldLogger
	now     func() time.Time
	MaxLen  int64
	// RefusedMaxLen bounds the refusals' stream.
	RefusedMaxLen int64
	// RefusedPerMinute is how many refusals of one actor a minute are
	// stored one by one; the rest are counted per actor for a day.
	RefusedPerMinute int64
}

// New returns the audit log under prefix+"audit".
func New(rdb redis.UniversalClient, prefix string, log logrus.FieldLogger, now func() time.Time) *Log {
	return &Log{rdb: rdb, key: prefix + "audit", refused: prefix + "audit:refused", log: log, now: now,
		MaxLen: 1_000_000, RefusedMaxLen: 10_000, RefusedPerMinute: 10}
}

// refusedInView is how many refusals Recent shows beside full n real
// entries; overSummaries is how many counted-only floods it names.
const (
	refusedInView = 5
	overSummaries = 5
	overKeep      = 24 * time.Hour
)

// Refused reports whether an outcome is a refusal.
func Refused(outcome string) bool { return strings.HasPrefix(outcome, "refused") }

// Record appends an entry; a Redis failure is logged, never fatal: the
// structured log line is written either way.
func (l *Log) Record(ctx context.Context, e Entry) {
	if e.At.IsZero() {
		e.At = l.now().UTC()
	}
	// A key pasted into a command (`rotate sk_live_…`) is not kept: the
	// audit log is shown in Slack and exported.
	e.Detail, e.Outcome = Mask(e.Detail), Mask(e.Outcome)
	l.log.WithFields(logrus.Fields{"audit": true, "actor": e.Actor, "action": e.Action, "incident": e.Incident,
		"outcome": e.Outcome, "detail": e.Detail, "origin": e.Origin}).Info("audit")
	raw, err := json.Marshal(e)
	if err != nil {
		return
	}
	stream, maxLen := l.key, l.MaxLen
	if Refused(e.Outcome) {
		stored, err := l.admitRefusal(ctx, e)
		if err != nil {
			l.log.WithError(err).Warn("audit refusal not stored in Redis (it is in this log)")
			return
		}
		if !stored {
			return
		}
		stream, maxLen = l.refused, l.RefusedMaxLen
	}
	if err := l.rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, MaxLen: maxLen, Approx: true, Values: map[string]any{"e": raw}}).Err(); err != nil {
		l.log.WithError(err).Warn("audit entry not stored in Redis (it is in this log)")
	}
}

// admitRefusal counts a refusal in its actor's minute and reports
// whether it is stored one by one; one over the limit is added to the
// actor's counter instead.
func (l *Log) admitRefusal(ctx context.Context, e Entry) (bool, error) {
	rate := fmt.Sprintf("%s:rate:%s:%d", l.refused, e.Actor, e.At.Unix()/60)
	var incr *redis.IntCmd
	if _, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, rate)
		p.Expire(ctx, rate, 2*time.Minute)
		return nil
	}); err != nil {
		return false, fmt.Errorf("count refusal: %w", err)
	}
	if incr.Val() <= l.RefusedPerMinute {
		return true, nil
	}
	over, index := l.refused+":over:"+e.Actor, l.refused+":over"
	at := e.At.UTC().Format(time.RFC3339Nano)
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, over, "n", 1)
		p.HSetNX(ctx, over, "first", at)
		p.HSet(ctx, over, "last", at, "name", e.Name)
		p.Expire(ctx, over, overKeep)
		p.ZAdd(ctx, index, redis.Z{Score: float64(e.At.UnixMilli()), Member: e.Actor})
		p.ZRemRangeByScore(ctx, index, "-inf", fmt.Sprintf("(%d", e.At.Add(-overKeep).UnixMilli()))
		p.ZRemRangeByRank(ctx, index, 0, -101) // the 100 latest actors
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("count refusal: %w", err)
	}
	return false, nil
}

// Recent returns up to n newest entries, of one incident when given,
// newest first, with the newest refusals beside them (at least
// refusedInView, more when there are fewer than n real entries) and,
// for the whole log, who was refused more often than was stored.
func (l *Log) Recent(ctx context.Context, incident string, n int) ([]Entry, error) {
	out, err := l.newest(ctx, l.key, incident, n)
	if err != nil {
		return nil, err
	}
	refused, err := l.newest(ctx, l.refused, incident, max(refusedInView, n-len(out)))
	if err != nil {
		return nil, err
	}
	out = append(out, refused...)
	if incident == "" {
		over, err := l.over(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, over...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, nil
}

func (l *Log) newest(ctx context.Context, stream, incident string, n int) ([]Entry, error) {
	msgs, err := l.rdb.XRevRangeN(ctx, stream, "+", "-", 5000).Result()
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	var out []Entry
	for _, m := range msgs {
		if len(out) >= n {
			break
		}
		e, ok := decode(m)
		if !ok || (incident != "" && e.Incident != incident) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// over returns one summary entry per actor refused more often than was
// stored in the last day, latest first.
func (l *Log) over(ctx context.Context) ([]Entry, error) {
	actors, err := l.rdb.ZRevRange(ctx, l.refused+":over", 0, overSummaries-1).Result()
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	var out []Entry
	for _, a := range actors {
		h, err := l.rdb.HGetAll(ctx, l.refused+":over:"+a).Result()
		if err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		n, _ := strconv.Atoi(h["n"])
		last, _ := time.Parse(time.RFC3339Nano, h["last"])
		first, _ := time.Parse(time.RFC3339Nano, h["first"])
		if n == 0 || last.IsZero() {
			continue // expired between the two reads
		}
		out = append(out, Entry{At: last, Actor: a, Name: h["name"], Action: "refusals over the limit", Outcome: "refused",
			Detail: fmt.Sprintf("refused %d more times from %s, counted but not stored (over %d a minute)", n, first.UTC().Format("01-02 15:04:05"), l.RefusedPerMinute)})
	}
	return out, nil
}

// Export writes every entry since `since`, oldest first, as JSON lines:
// the audit stream and the refusals' stream merged by time.
func (l *Log) Export(ctx context.Context, w io.Writer, since time.Time) (int, error) {
	start := "-"
	if !since.IsZero() {
		start = fmt.Sprintf("%d-0", since.UnixMilli())
	}
	a := &cursor{rdb: l.rdb, stream: l.key, start: start}
	b := &cursor{rdb: l.rdb, stream: l.refused, start: start}
	n := 0
	enc := json.NewEncoder(w)
	for {
		ma, okA, err := a.peek(ctx)
		if err != nil {
			return n, err
		}
		mb, okB, err := b.peek(ctx)
		if err != nil {
			return n, err
		}
		var m redis.XMessage
		switch {
		case !okA && !okB:
			return n, nil
		case okA && (!okB || before(ma, mb)):
			m = a.pop()
		default:
			m = b.pop()
		}
		if e, ok := decode(m); ok {
			if err := enc.Encode(e); err != nil {
				return n, err
			}
			n++
		}
	}
}

// cursor pages through one stream, 1000 entries at a time.
type cursor struct {
	rdb    redis.UniversalClient
	stream string
	start  string
	buf    []redis.XMessage
	done   bool
}

func (c *cursor) peek(ctx context.Context) (redis.XMessage, bool, error) {
	if len(c.buf) == 0 && !c.done {
		msgs, err := c.rdb.XRangeN(ctx, c.stream, c.start, "+", 1000).Result()
		if err != nil {
			return redis.XMessage{}, false, fmt.Errorf("read audit log: %w", err)
		}
		c.buf, c.done = msgs, len(msgs) < 1000
		if len(msgs) > 0 {
			c.start = "(" + msgs[len(msgs)-1].ID
		}
	}
	if len(c.buf) == 0 {
		return redis.XMessage{}, false, nil
	}
	return c.buf[0], true, nil
}

func (c *cursor) pop() redis.XMessage {
	m := c.buf[0]
	c.buf = c.buf[1:]
	return m
}

// before orders entries of the two streams by when they happened: IDs
// of two streams can tie within a millisecond.
func before(a, b redis.XMessage) bool {
	ea, okA := decode(a)
	eb, okB := decode(b)
	if okA && okB && !ea.At.Equal(eb.At) {
		return ea.At.Before(eb.At)
	}
	return idLess(a.ID, b.ID)
}

// idLess orders stream IDs (milliseconds-sequence).
func idLess(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	ami, _ := strconv.ParseUint(am, 10, 64)
	bmi, _ := strconv.ParseUint(bm, 10, 64)
	if ami != bmi {
		return ami < bmi
	}
	asi, _ := strconv.ParseUint(as, 10, 64)
	bsi, _ := strconv.ParseUint(bs, 10, 64)
	return asi < bsi
}

func decode(m redis.XMessage) (Entry, bool) {
	raw, ok := m.Values["e"].(string)
	if !ok {
		return Entry{}, false
	}
	var e Entry
	return e, json.Unmarshal([]byte(raw), &e) == nil
}

// secretShaped matches keys and tokens that must not be stored: Clerk
// secret keys, machine and OAuth secrets, webhook secrets, Slack tokens.
var secretShaped = regexp.MustCompile(`\b(sk_(live|test)_|ak_|oas_|whsec_|xox[abposr]-|xapp-)[A-Za-z0-9_\-=+/]{6,}`)

// Mask replaces secret-shaped words with [redacted].
func Mask(s string) string { return secretShaped.ReplaceAllString(s, "[redacted]") }
