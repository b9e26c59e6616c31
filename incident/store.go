package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"

	"github.com/redis/go-redis/v9"
)

// Store keeps incidents in Redis. Each incident is one JSON value changed
// only inside WATCH/MULTI transactions, so two replicas or two people
// clicking at once never lose an update; its timeline is a list appended in
// the same transaction. Incidents have no TTL: reports are written later.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewStore returns a store whose keys all start with prefix.
func NewStore(rdb redis.UniversalClient, prefix string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{rdb: rdb, prefix: prefix, now: now}
}

func (s *Store) keySeq() string               { return s.prefix + "incident:seq" }
func (s *Store) keyInc(id string) string      { return s.prefix + "incident:" + id }
func (s *Store) keyTimeline(id string) string { return s.prefix + "incident:" + id + ":timeline" }
func (s *Store) keyOpen() string              { return s.prefix + "incidents:open" }
func (s *Store) keyOpenCat(c Category) string { return s.prefix + "incidents:open:" + string(c) }
func (s *Store) keyAll() string               { return s.prefix + "incidents:all" }
func (s *Store) keyOnce(key string) string    { return s.prefix + "once:" + key }

// OpenParams describes a new incident.
type OpenParams struct {
	Category Category
	Severity Severity // empty: the category's default
	Title    string   // empty: the runbook's category name
	By       Person
	Channel  string
	// Force opens even when an incident of the same category is open.
	Force bool
	// Detected and Source are the first signal, when one came before the
	// open (the status poller's first failing poll); zero: the open.
	Detected time.Time
	Source   string
}

// Open creates an incident with the next sequential ID. Unless Force is
// set, an open incident of the same category returns *DuplicateError.
func (s *Store) Open(ctx context.Context, p OpenParams) (*Incident, error) {
	if p.Severity == "" {
		p.Severity = DefaultSeverity(p.Category)
	}
	var created *Incident
	err := redisx.Transact(ctx, s.rdb, func(tx *redis.Tx) error {
		if !p.Force {
			ids, err := tx.SMembers(ctx, s.keyOpenCat(p.Category)).Result()
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				sort.Slice(ids, func(a, b int) bool { return Number(ids[a]) > Number(ids[b]) })
				existing, err := s.get(ctx, tx, ids[0])
				if err != nil {
					return err
				}
				return &DuplicateError{Existing: existing}
			}
		}
		n, err := tx.Get(ctx, s.keySeq()).Int()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		n++
		now := s.now().UTC()
		inc := &Incident{
			ID: FormatID(n), Title: p.Title, Category: p.Category, Severity: p.Severity,
			Status: Investigating, Version: 1, OpenedBy: p.By, OpenedAt: now, Channel: p.Channel,
			Checklist: map[string]Tick{}, Marks: openedMarks(p, now),
		}
		raw, err := json.Marshal(inc)
		if err != nil {
			return err
		}
		entry := Entry{At: now, Actor: p.By, Text: fmt.Sprintf("Incident opened: %s (%s, %s)", inc.Title, inc.Category, inc.Severity)}
		rawEntry, _ := json.Marshal(entry)
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, s.keySeq(), n, 0)
			pipe.Set(ctx, s.keyInc(inc.ID), raw, 0)
			pipe.RPush(ctx, s.keyTimeline(inc.ID), rawEntry)
			pipe.ZAdd(ctx, s.keyOpen(), redis.Z{Score: float64(n), Member: inc.ID})
			pipe.SAdd(ctx, s.keyOpenCat(p.Category), inc.ID)
			pipe.ZAdd(ctx, s.keyAll(), redis.Z{Score: float64(n), Member: inc.ID})
			return nil
		})
		inc.Timeline = []Entry{entry}
		created = inc
		return err
	}, s.keySeq(), s.keyOpenCat(p.Category))
	if err != nil {
		return nil, err
	}
	return created, nil
}

// Mutation changes an incident in place and returns the timeline entries
// that describe the change. Returning an error aborts without writing.
type Mutation func(inc *Incident, now time.Time) ([]Entry, error)

// reads remembers, for one request, each incident as it was last read or
// written, so a change needs no second read: the compare-and-set checks
// that the value is still current, and a stale one costs one retry.
type reads struct {
	mu  sync.Mutex
	raw map[string]string
}

type readsKey struct{}

// WithReads gives a request its own memory of what it read.
func WithReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, readsKey{}, &reads{raw: map[string]string{}})
}

func remember(ctx context.Context, id, raw string) {
	if r, ok := ctx.Value(readsKey{}).(*reads); ok {
		r.mu.Lock()
		r.raw[id] = raw
		r.mu.Unlock()
	}
}

func recalled(ctx context.Context, id string) (string, bool) {
	r, ok := ctx.Value(readsKey{}).(*reads)
	if !ok {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	raw, ok := r.raw[id]
	return raw, ok
}

// Update applies fn atomically and returns the incident as written
// (without its timeline).
func (s *Store) Update(ctx context.Context, id string, fn Mutation) (*Incident, error) {
	return s.UpdateThen(ctx, id, fn, After{})
}

// After is what a change queues in the transaction that writes it, so a
// crash right after the change cannot lose its thread line.
type After struct {
	// Line is a thread line for the incident's thread (incident.Line).
	Line string
	// Render queues a refresh of the card and checklist (when the card
	// is posted; a card still to post is the caller's to post).
	Render bool
}

// casUpdate writes an incident only if it still reads as the caller read
// it, with its timeline entries and what After asks for; otherwise it
// returns the current value for another try. KEYS: incident, timeline,
// open, open-by-category, lines of the channel, lines due, renders due,
// resolved. ARGV: old, new, id, closing (0, or the resolve time in ms:
// the score in the resolved index), line JSON or "", channel or "",
// render (0/1), now in ms, entries...
var casUpdate = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return {0, cur or ''} end
redis.call('SET', KEYS[1], ARGV[2])
for i = 9, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if ARGV[4] ~= '0' then
  redis.call('ZREM', KEYS[3], ARGV[3])
  redis.call('SREM', KEYS[4], ARGV[3])
  redis.call('ZADD', KEYS[8], ARGV[4], ARGV[3])
end
if ARGV[5] ~= '' then
  redis.call('RPUSH', KEYS[5], ARGV[5])
  redis.call('ZADD', KEYS[6], 'NX', ARGV[8], ARGV[6])
end
if ARGV[7] == '1' then redis.call('ZADD', KEYS[7], 'NX', ARGV[8], ARGV[3]) end
return {1, ''}`)

// UpdateThen applies fn atomically, with after in the same transaction.
// It costs two round trips when nobody races it: one read, one
// compare-and-set script that also queues the line and the refresh.
func (s *Store) UpdateThen(ctx context.Context, id string, fn Mutation, after After) (*Incident, error) {
	key := s.keyInc(id)
	raw, ok := recalled(ctx, id)
	if !ok {
		var err error
		raw, err = s.rdb.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", id, err)
		}
	}
	for attempt := range redisx.MaxAttempts {
		inc, err := decode(id, raw)
		if err != nil {
			return nil, err
		}
		wasOpen := inc.Open()
		now := s.now().UTC()
		entries, err := fn(inc, now)
		if err != nil {
			return nil, err
		}
		inc.Version++
		next, err := json.Marshal(inc)
		if err != nil {
			return nil, err
		}
		closing := "0"
		if wasOpen && !inc.Open() {
			closing = strconv.FormatInt(inc.ResolvedAt.UnixMilli(), 10)
		}
		line, channel := "", ""
		if after.Line != "" && inc.Channel != "" {
			channel = inc.Channel
			if line, err = newLine(id, after.Line); err != nil {
				return nil, err
			}
		}
		render := "0"
		if after.Render && inc.CardTS != "" {
			render = "1"
		}
		args := []any{raw, next, id, closing, line, channel, render, time.Now().UnixMilli()}
		for i := range entries {
			if entries[i].At.IsZero() {
				entries[i].At = now
			}
			e, _ := json.Marshal(entries[i])
			args = append(args, e)
		}
		keys := []string{key, s.keyTimeline(id), s.keyOpen(), s.keyOpenCat(inc.Category), s.keyLines(channel), s.keyLinesDue(), s.keyRenderDue(), s.keyResolved()}
		res, err := casUpdate.Run(ctx, s.rdb, keys, args...).Slice()
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", id, err)
		}
		if ok, _ := res[0].(int64); ok == 1 {
			remember(ctx, id, string(next))
			return inc, nil
		}
		// Someone else changed it first: try again on their version.
		raw, _ = res[1].(string)
		if raw == "" {
			return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		if err := backoff.Sleep(ctx, backoff.Delay(attempt%10, 100*time.Microsecond, 10*time.Millisecond)); err != nil {
			return nil, err
		}
	}
	return nil, apperr.Wrap(apperr.Conflict, fmt.Sprintf("%s kept changing under us after %d attempts", id, redisx.MaxAttempts), redis.TxFailedErr)
}

type getter interface {
	Get(ctx context.Context, key string) *redis.StringCmd
}

func (s *Store) get(ctx context.Context, g getter, id string) (*Incident, error) {
	raw, err := g.Get(ctx, s.keyInc(id)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", id, err)
	}
	remember(ctx, id, raw)
	return decode(id, raw)
}

func decode(id, raw string) (*Incident, error) {
	var inc Incident
	if err := json.Unmarshal([]byte(raw), &inc); err != nil {
		return nil, fmt.Errorf("decode %s: %w", id, err)
	}
	if inc.Checklist == nil {
		inc.Checklist = map[string]Tick{}
	}
	return &inc, nil
}

// Current reads an incident without its timeline (cheap re-checks).
func (s *Store) Current(ctx context.Context, id string) (*Incident, error) {
	return s.get(ctx, s.rdb, id)
}

// Get reads an incident with its timeline, in one round trip.
func (s *Store) Get(ctx context.Context, id string) (*Incident, error) {
	var get *redis.StringCmd
	var lrange *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, s.keyInc(id))
		lrange = p.LRange(ctx, s.keyTimeline(id), 0, -1)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read %s: %w", id, err)
	}
	raw, err := get.Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", id, err)
	}
	remember(ctx, id, raw)
	inc, err := decode(id, raw)
	if err != nil {
		return nil, err
	}
	for _, r := range lrange.Val() {
		var e Entry
		if err := json.Unmarshal([]byte(r), &e); err == nil {
			inc.Timeline = append(inc.Timeline, e)
		}
	}
	return inc, nil
}

// listOpen reads the open incidents in one round trip.
var listOpen = redis.NewScript(`
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('GET', ARGV[1] .. id) or ''
end
return out`)

// ListOpen returns open incidents, oldest first, without timelines.
func (s *Store) ListOpen(ctx context.Context) ([]*Incident, error) {
	vals, err := listOpen.Run(ctx, s.rdb, []string{s.keyOpen()}, s.prefix+"incident:").StringSlice()
	if err != nil {
		return nil, fmt.Errorf("list open incidents: %w", err)
	}
	var out []*Incident
	for i := 0; i+1 < len(vals); i += 2 {
		if vals[i+1] == "" {
			continue
		}
		inc, err := decode(vals[i], vals[i+1])
		if err != nil {
			continue
		}
		remember(ctx, vals[i], vals[i+1])
		out = append(out, inc)
	}
	return out, nil
}

// ListRecent returns up to n most recent incidents (open or not), newest first.
func (s *Store) ListRecent(ctx context.Context, n int) ([]*Incident, error) {
	ids, err := s.rdb.ZRevRange(ctx, s.keyAll(), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return s.load(ctx, ids)
}

func (s *Store) load(ctx context.Context, ids []string) ([]*Incident, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.keyInc(id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("load incidents: %w", err)
	}
	out := make([]*Incident, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var inc Incident
		if json.Unmarshal([]byte(str), &inc) == nil {
			out = append(out, &inc)
		}
	}
	return out, nil
}

// Once reports whether key is seen for the first time within ttl; Slack may
// deliver an envelope again, and replicas share this memory.
func (s *Store) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.keyOnce(key), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("dedupe %s: %w", key, err)
	}
	return ok, nil
}

func (s *Store) keyStale() string { return s.prefix + "incidents:stale-cards" }

// MarkStale notes that an incident's Slack card could not be updated, so
// it is re-rendered once Slack answers again.
func (s *Store) MarkStale(ctx context.Context, id string) error {
	return s.rdb.SAdd(ctx, s.keyStale(), id).Err()
}

// Stale lists incidents whose card is behind.
func (s *Store) Stale(ctx context.Context) ([]string, error) {
	return s.rdb.SMembers(ctx, s.keyStale()).Result()
}

// ClearStale notes that the card caught up.
func (s *Store) ClearStale(ctx context.Context, id string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SRem(ctx, s.keyStale(), id)
		p.HDel(ctx, s.keyStale()+":retry", id)
		return nil
	})
	return err
}

// StaleRetry says how often a stale card's catch-up failed and when to
// try next (zero: now).
func (s *Store) StaleRetry(ctx context.Context, id string) (attempts int, next time.Time, err error) {
	v, err := s.rdb.HGet(ctx, s.keyStale()+":retry", id).Result()
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
func (s *Store) SetStaleRetry(ctx context.Context, id string, attempts int, next time.Time) error {
	return s.rdb.HSet(ctx, s.keyStale()+":retry", id, fmt.Sprintf("%d|%d", attempts, next.UnixMilli())).Err()
}

// Lease is a named lease under the store's prefix (catch-up claims).
func (s *Store) Lease(name, owner string) *redisx.Lease {
	return redisx.NewLease(s.rdb, s.prefix+"lease:"+name, owner)
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

func (s *Store) keyRenderDue() string { return s.prefix + "render:due" }

// QueueRender asks for an incident's card and checklist to be refreshed
// from its latest state. Requests coalesce: however many changes arrive,
// one refresh shows them all.
func (s *Store) QueueRender(ctx context.Context, id string, at time.Time) error {
	return s.rdb.ZAddNX(ctx, s.keyRenderDue(), redis.Z{Score: float64(at.UnixMilli()), Member: id}).Err()
}

// DueRenders lists incidents whose refresh is due at now.
func (s *Store) DueRenders(ctx context.Context, now time.Time) ([]string, error) {
	return s.rdb.ZRangeByScore(ctx, s.keyRenderDue(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 100}).Result()
}

// ClaimRender takes a due refresh; exactly one replica wins it. A change
// arriving meanwhile queues another.
func (s *Store) ClaimRender(ctx context.Context, id string) (bool, error) {
	n, err := s.rdb.ZRem(ctx, s.keyRenderDue(), id).Result()
	return n == 1, err
}

// PaceRender allows one refresh of an incident per gap: it returns 0 when
// this one may go now, or how long to wait.
// The last refresh's time is the key's value, not its TTL, so pacing
// works on a Redis whose clock does not run (the embedded one).
func (s *Store) PaceRender(ctx context.Context, id string, gap time.Duration) (time.Duration, error) {
	key := s.prefix + "render:last:" + id
	now := time.Now()
	if last, err := s.rdb.Get(ctx, key).Int64(); err == nil {
		if since := now.Sub(time.UnixMilli(last)); since < gap {
			return gap - since, nil
		}
	}
	return 0, s.rdb.Set(ctx, key, now.UnixMilli(), time.Hour).Err()
}
