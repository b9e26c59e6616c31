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

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"

	"github.com/redis/go-redis/v9"
)

// Store keeps incidents in Redis. Each incident is one JSON value changed
// only by optimistic transactions (a WATCH/MULTI or a compare-and-set
// script, retried by redisx's one policy), so two replicas or two people
// clicking at once never lose an update; its timeline is a list appended in
// the same transaction. Incidents have no TTL: reports are written later.
// What else the bot keeps beside an incident has its own store: Drafts,
// AffectedAccounts, Outbox and Markers (NewStores builds them all).
type Store struct {
	rdb redis.UniversalClient
	k   keyspace
	now func() time.Time
}

// NewStore returns the incidents store whose keys all start with prefix.
func NewStore(rdb redis.UniversalClient, prefix string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{rdb: rdb, k: keyspace(prefix), now: now}
}

// Stores are the incident stores over one Redis and one prefix: a plain
// record for wiring, each part handed to the consumers that need it.
type Stores struct {
	Incidents *Store
	Drafts    *Drafts
	Notices   *Drafts // the notice to affected users (`notify draft`)
	Affected  *AffectedAccounts
	Outbox    *Outbox
	Markers   *Markers
}

// NewStores builds every incident store over rdb with keys under prefix.
func NewStores(rdb redis.UniversalClient, prefix string, now func() time.Time) Stores {
	inc := NewStore(rdb, prefix, now)
	k := keyspace(prefix)
	return Stores{
		Incidents: inc,
		Drafts:    &Drafts{rdb: rdb, k: k},
		Notices:   &Drafts{rdb: rdb, k: k, notice: true},
		Affected:  &AffectedAccounts{rdb: rdb, k: k, now: inc.now},
		Outbox:    &Outbox{rdb: rdb, k: k},
		Markers:   &Markers{rdb: rdb, k: k},
	}
}

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
	// Link is the opening alert's source (an http(s) URL), on the card.
	Link string
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
			ids, err := tx.SMembers(ctx, s.k.openCat(p.Category)).Result()
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
		n, err := tx.Get(ctx, s.k.seq()).Int()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		n++
		now := s.now().UTC()
		inc := &Incident{
			ID: FormatID(n), Title: p.Title, Category: p.Category, Severity: p.Severity,
			Status: Investigating, Version: 1, OpenedBy: p.By, OpenedAt: now, Channel: p.Channel, Link: p.Link,
			Checklist: map[string]Tick{}, Marks: openedMarks(p, now),
		}
		raw, err := json.Marshal(inc)
		if err != nil {
			return err
		}
		entry := Entry{At: now, Actor: p.By, Text: fmt.Sprintf("Incident opened: %s (%s, %s)", inc.Title, inc.Category, inc.Severity)}
		rawEntry, _ := json.Marshal(entry)
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, s.k.seq(), n, 0)
			pipe.Set(ctx, s.k.inc(inc.ID), raw, 0)
			pipe.RPush(ctx, s.k.timeline(inc.ID), rawEntry)
			pipe.ZAdd(ctx, s.k.open(), redis.Z{Score: float64(n), Member: inc.ID})
			pipe.SAdd(ctx, s.k.openCat(p.Category), inc.ID)
			pipe.ZAdd(ctx, s.k.all(), redis.Z{Score: float64(n), Member: inc.ID})
			return nil
		})
		inc.Timeline = []Entry{entry}
		created = inc
		return err
	}, s.k.seq(), s.k.openCat(p.Category))
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

// SetCard records where an incident's card was posted (its channel and
// ts): the next render updates that message instead of posting another.
func (s *Store) SetCard(ctx context.Context, id, channel, ts string) (*Incident, error) {
	return s.Update(ctx, id, SetCard(channel, ts))
}

// SetChecklistMessage records the ts of an incident's checklist message,
// so ticks re-render it.
func (s *Store) SetChecklistMessage(ctx context.Context, id, ts string) error {
	_, err := s.Update(ctx, id, SetChecklistMessage(ts))
	return err
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
	key := s.k.inc(id)
	raw, ok := recalled(ctx, id)
	if !ok {
		var err error
		raw, err = s.rdb.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			return nil, notFound(id)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", id, err)
		}
	}
	var written *Incident
	err := redisx.Retry(ctx, func() string { return id }, func() (bool, error) {
		inc, err := decode(id, raw)
		if err != nil {
			return false, err
		}
		wasOpen := inc.Open()
		now := s.now().UTC()
		entries, err := fn(inc, now)
		if err != nil {
			return false, err
		}
		inc.Version++
		next, err := json.Marshal(inc)
		if err != nil {
			return false, err
		}
		closing := "0"
		if wasOpen && !inc.Open() {
			closing = strconv.FormatInt(inc.ResolvedAt.UnixMilli(), 10)
		}
		line, channel := "", ""
		if after.Line != "" && inc.Channel != "" {
			channel = inc.Channel
			if line, err = newLine(Line{Incident: id, Text: after.Line}); err != nil {
				return false, err
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
		keys := []string{key, s.k.timeline(id), s.k.open(), s.k.openCat(inc.Category), s.k.lines(channel), s.k.linesDue(), s.k.renderDue(), s.k.resolved()}
		res, err := casUpdate.Run(ctx, s.rdb, keys, args...).Slice()
		if err != nil {
			return false, fmt.Errorf("write %s: %w", id, err)
		}
		if ok, _ := res[0].(int64); ok == 1 {
			remember(ctx, id, string(next))
			written = inc
			return true, nil
		}
		// Someone else changed it first: try again on their version.
		raw, _ = res[1].(string)
		if raw == "" {
			return false, notFound(id)
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return written, nil
}

type getter interface {
	Get(ctx context.Context, key string) *redis.StringCmd
}

func (s *Store) get(ctx context.Context, g getter, id string) (*Incident, error) {
	raw, err := g.Get(ctx, s.k.inc(id)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, notFound(id)
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
		get = p.Get(ctx, s.k.inc(id))
		lrange = p.LRange(ctx, s.k.timeline(id), 0, -1)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read %s: %w", id, err)
	}
	raw, err := get.Result()
	if errors.Is(err, redis.Nil) {
		return nil, notFound(id)
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
	vals, err := listOpen.Run(ctx, s.rdb, []string{s.k.open()}, string(s.k)+"incident:").StringSlice()
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
	ids, err := s.rdb.ZRevRange(ctx, s.k.all(), 0, int64(n-1)).Result()
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
		keys[i] = s.k.inc(id)
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

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }
