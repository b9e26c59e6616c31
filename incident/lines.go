package incident

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	// N makes every entry unique, so removing a posted line removes
	// exactly that one even when two lines read the same.
	N string `json:"n"`

	raw string
}

func (s *Store) keyLines(channel string) string { return s.prefix + "lines:" + channel }
func (s *Store) keyLinesDue() string            { return s.prefix + "lines:due" }

// QueueLine appends a line to the channel's queue and marks the channel
// due now, unless it is already due (a deferral stands).
func (s *Store) QueueLine(ctx context.Context, channel, incidentID, text string) error {
	raw, err := newLine(incidentID, text)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, s.keyLines(channel), raw)
		p.ZAddNX(ctx, s.keyLinesDue(), redis.Z{Score: float64(time.Now().UnixMilli()), Member: channel})
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue a thread line for %s: %w", incidentID, err)
	}
	return nil
}

func newLine(incidentID, text string) (string, error) {
	n := make([]byte, 8)
	_, _ = rand.Read(n)
	raw, err := json.Marshal(Line{Incident: incidentID, Text: text, N: hex.EncodeToString(n)})
	return string(raw), err
}

// LineChannels lists the channels whose lines may be posted at now.
func (s *Store) LineChannels(ctx context.Context, now time.Time) ([]string, error) {
	return s.rdb.ZRangeByScore(ctx, s.keyLinesDue(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 100}).Result()
}

// PendingLines reads up to n of a channel's waiting lines, oldest first.
func (s *Store) PendingLines(ctx context.Context, channel string, n int) ([]Line, error) {
	raws, err := s.rdb.LRange(ctx, s.keyLines(channel), 0, int64(n-1)).Result()
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
func (s *Store) DoneLines(ctx context.Context, channel string, lines []Line) error {
	args := make([]any, 0, len(lines))
	for _, l := range lines {
		args = append(args, l.raw)
	}
	return linesDone.Run(ctx, s.rdb, []string{s.keyLines(channel), s.keyLinesDue(), channel}, args...).Err()
}

// DeferLines makes a channel's lines due again at t.
func (s *Store) DeferLines(ctx context.Context, channel string, t time.Time) error {
	return s.rdb.ZAdd(ctx, s.keyLinesDue(), redis.Z{Score: float64(t.UnixMilli()), Member: channel}).Err()
}
