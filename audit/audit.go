// Package audit keeps the audit log: every state-changing command, click,
// request and decision, appended to a Redis stream (who, what, when,
// incident, outcome) and mirrored to the structured log.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
type Log struct {
	rdb    redis.UniversalClient
	key    string
	log    logrus.FieldLogger
	now    func() time.Time
	MaxLen int64
}

// New returns the audit log under prefix+"audit".
func New(rdb redis.UniversalClient, prefix string, log logrus.FieldLogger, now func() time.Time) *Log {
	return &Log{rdb: rdb, key: prefix + "audit", log: log, now: now, MaxLen: 1_000_000}
}

// Record appends an entry; a Redis failure is logged, never fatal: the
// structured log line is written either way.
func (l *Log) Record(ctx context.Context, e Entry) {
	if e.At.IsZero() {
		e.At = l.now().UTC()
	}
	l.log.WithFields(logrus.Fields{"audit": true, "actor": e.Actor, "action": e.Action, "incident": e.Incident,
		"outcome": e.Outcome, "detail": e.Detail, "origin": e.Origin}).Info("audit")
	raw, err := json.Marshal(e)
	if err != nil {
		return
	}
	if err := l.rdb.XAdd(ctx, &redis.XAddArgs{Stream: l.key, MaxLen: l.MaxLen, Approx: true, Values: map[string]any{"e": raw}}).Err(); err != nil {
		l.log.WithError(err).Warn("audit entry not stored in Redis (it is in this log)")
	}
}

// Recent returns up to n newest entries, of one incident when given.
func (l *Log) Recent(ctx context.Context, incident string, n int) ([]Entry, error) {
	msgs, err := l.rdb.XRevRangeN(ctx, l.key, "+", "-", 5000).Result()
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	var out []Entry
	for _, m := range msgs {
		e, ok := decode(m)
		if !ok || (incident != "" && e.Incident != incident) {
			continue
		}
		out = append(out, e)
		if len(out) == n {
			break
		}
	}
	return out, nil
}

// Export writes every entry since `since`, oldest first, as JSON lines.
func (l *Log) Export(ctx context.Context, w io.Writer, since time.Time) (int, error) {
	start := "-"
	if !since.IsZero() {
		start = fmt.Sprintf("%d-0", since.UnixMilli())
	}
	n := 0
	enc := json.NewEncoder(w)
	for {
		msgs, err := l.rdb.XRangeN(ctx, l.key, start, "+", 1000).Result()
		if err != nil {
			return n, fmt.Errorf("read audit log: %w", err)
		}
		for _, m := range msgs {
			if e, ok := decode(m); ok {
				if err := enc.Encode(e); err != nil {
					return n, err
				}
				n++
			}
		}
		if len(msgs) < 1000 {
			return n, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

func decode(m redis.XMessage) (Entry, bool) {
	raw, ok := m.Values["e"].(string)
	if !ok {
		return Entry{}, false
	}
	var e Entry
	return e, json.Unmarshal([]byte(raw), &e) == nil
}
