package incident

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Line is one thread line waiting to be posted under its incident's card.
// Lines wait in Redis, one list per channel, so a replica that dies with
// lines queued leaves them for another to post.
type Line struct {
	Incident string `json:"i"`
	Text     string `json:"t"`
	// Channel marks a line for the channel itself, outside any thread
	// (a background job's failure notice): it is posted alone.
	Channel bool `json:"c,omitempty"`
	// N makes every entry unique, so removing a posted line removes
	// exactly that one even when two lines read the same.
	N string `json:"n"`

	raw string
}

// Outbox keeps what is still to be shown in Slack: thread lines waiting
// to be posted, cards whose refresh is due, and cards that fell behind
// (stale) with their catch-up retries. A change to an incident queues its
// line and refresh here in the same script that writes it (Store.UpdateThen).
type Outbox struct {
	rdb redis.UniversalClient
	k   keyspace
}

// QueueLine appends a line to the channel's queue and marks the channel
// due now, unless it is already due (a deferral stands).
func (o *Outbox) QueueLine(ctx context.Context, channel, incidentID, text string) error {
	raw, err := newLine(Line{Incident: incidentID, Text: text})
	if err != nil {
		return err
	}
	return o.queue(ctx, channel, incidentID, raw)
}

// QueueChannelLine queues a line for the channel itself, outside any
// thread: whoever must say something there need not wait for Slack's pace.
func (o *Outbox) QueueChannelLine(ctx context.Context, channel, text string) error {
	raw, err := newLine(Line{Text: text, Channel: true})
	if err != nil {
		return err
	}
	return o.queue(ctx, channel, "", raw)
}

func (o *Outbox) queue(ctx context.Context, channel, incidentID, raw string) error {
	_, err := o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, o.k.lines(channel), raw)
		p.ZAddNX(ctx, o.k.linesDue(), redis.Z{Score: float64(time.Now().UnixMilli()), Member: channel})
		return nil
	})
	if err != nil {
		if incidentID == "" {
			return fmt.Errorf("queue a line for %s: %w", channel, err)
		}
		return fmt.Errorf("queue a thread line for %s: %w", incidentID, err)
	}
	return nil
}

// newLine is l as queued, made unique.
func newLine(l Line) (string, error) {
	n := make([]byte, 8)
	_, _ = rand.Read(n)
	l.N = hex.EncodeToString(n)
	raw, err := json.Marshal(l)
	return string(raw), err
}

// LineChannels lists the channels whose lines may be posted at now.
func (o *Outbox) LineChannels(ctx context.Context, now time.Time) ([]string, error) {
	return o.rdb.ZRangeByScore(ctx, o.k.linesDue(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 100}).Result()
}

// PendingLines reads up to n of a channel's waiting lines, oldest first.
func (o *Outbox) PendingLines(ctx context.Context, channel string, n int) ([]Line, error) {
	raws, err := o.rdb.LRange(ctx, o.k.lines(channel), 0, int64(n-1)).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Line, 0, len(raws))
	for _, r := range raws {
		var l Line
		if json.Unmarshal([]byte(r), &l) != nil {
			l = Line{Text: "(an unreadable thread line was dropped)"}
		}
		l.raw = r
		out = append(out, l)
	}
	return out, nil
}

// linesDone removes posted lines and, when none are left, takes the
// channel off the due set in the same script: a line queued meanwhile
// keeps it due.
var linesDone = redis.NewScript(`
for i = 1, #ARGV do redis.call('LREM', KEYS[1], 1, ARGV[i]) end
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], KEYS[3]) end
return 1`)

// DoneLines removes lines that have been posted (or cannot ever be).
func (o *Outbox) DoneLines(ctx context.Context, channel string, lines []Line) error {
	args := make([]any, 0, len(lines))
	for _, l := range lines {
		args = append(args, l.raw)
	}
	return linesDone.Run(ctx, o.rdb, []string{o.k.lines(channel), o.k.linesDue(), channel}, args...).Err()
}

// DeferLines makes a channel's lines due again at t.
func (o *Outbox) DeferLines(ctx context.Context, channel string, t time.Time) error {
	return o.rdb.ZAdd(ctx, o.k.linesDue(), redis.Z{Score: float64(t.UnixMilli()), Member: channel}).Err()
}

// MarkStale notes that an incident's Slack card could not be updated, so
// it is re-rendered once Slack answers again.
func (o *Outbox) MarkStale(ctx context.Context, id string) error {
	return o.rdb.SAdd(ctx, o.k.stale(), id).Err()
}

// Stale lists incidents whose card is behind.
func (o *Outbox) Stale(ctx context.Context) ([]string, error) {
	return o.rdb.SMembers(ctx, o.k.stale()).Result()
}

// ClearStale notes that the card caught up.
func (o *Outbox) ClearStale(ctx context.Context, id string) error {
	_, err := o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SRem(ctx, o.k.stale(), id)
		p.HDel(ctx, o.k.staleRetry(), id)
		return nil
	})
	return err
}

// StaleRetry says how often a stale card's catch-up failed and when to
// try next (zero: now).
func (o *Outbox) StaleRetry(ctx context.Context, id string) (attempts int, next time.Time, err error) {
	v, err := o.rdb.HGet(ctx, o.k.staleRetry(), id).Result()
	if errors.Is(err, redis.Nil) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	var ms int64
	if _, err := fmt.Sscanf(v, "%d|%d", &attempts, &ms); err != nil {
		return 0, time.Time{}, nil
	}
	return attempts, time.UnixMilli(ms), nil
}

// SetStaleRetry records a failed catch-up and the next try.
func (o *Outbox) SetStaleRetry(ctx context.Context, id string, attempts int, next time.Time) error {
	return o.rdb.HSet(ctx, o.k.staleRetry(), id, fmt.Sprintf("%d|%d", attempts, next.UnixMilli())).Err()
}

// QueueRender asks for an incident's card and checklist to be refreshed
// from its latest state. Requests coalesce: however many changes arrive,
// one refresh shows them all.
func (o *Outbox) QueueRender(ctx context.Context, id string, at time.Time) error {
	return o.rdb.ZAddNX(ctx, o.k.renderDue(), redis.Z{Score: float64(at.UnixMilli()), Member: id}).Err()
}

// DueRenders lists incidents whose refresh is due at now.
func (o *Outbox) DueRenders(ctx context.Context, now time.Time) ([]string, error) {
	return o.rdb.ZRangeByScore(ctx, o.k.renderDue(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 100}).Result()
}

// ClaimRender takes a due refresh; exactly one replica wins it. A change
// arriving meanwhile queues another.
func (o *Outbox) ClaimRender(ctx context.Context, id string) (bool, error) {
	n, err := o.rdb.ZRem(ctx, o.k.renderDue(), id).Result()
	return n == 1, err
}

// PaceRender allows one refresh of an incident per gap: it returns 0 when
// this one may go now, or how long to wait.
// The last refresh's time is the key's value, not its TTL, so pacing
// works on a Redis whose clock does not run (the embedded one).
func (o *Outbox) PaceRender(ctx context.Context, id string, gap time.Duration) (time.Duration, error) {
	key := o.k.renderLast(id)
	now := time.Now()
	if last, err := o.rdb.Get(ctx, key).Int64(); err == nil {
		if since := now.Sub(time.UnixMilli(last)); since < gap {
			return gap - since, nil
		}
	}
	return 0, o.rdb.Set(ctx, key, now.UnixMilli(), time.Hour).Err()
}
