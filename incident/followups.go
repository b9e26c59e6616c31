package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Followup is an action item of an incident: numbered 1..n per incident,
// done or not, and exported to an issue tracker at most once.
type Followup struct {
	N      int       `json:"-"`
	Text   string    `json:"text"`
	By     Person    `json:"by"`
	At     time.Time `json:"at"`
	Done   bool      `json:"done,omitempty"`
	DoneBy *Person   `json:"done_by,omitempty"`
	DoneAt time.Time `json:"done_at,omitempty"`
	Export *Export   `json:"export,omitempty"`
}

// Export is the record of a follow-up's issue. "creating" is written
// before the create is sent, "created" with the issue after it answers: a
// "creating" left behind means the create may or may not have happened.
type Export struct {
	State   string    `json:"state"` // ExportCreating or ExportCreated
	Marker  string    `json:"marker"`
	Started time.Time `json:"started"`
	Number  int       `json:"number,omitempty"`
	URL     string    `json:"url,omitempty"`
}

// The export states.
const (
	ExportCreating = "creating"
	ExportCreated  = "created"
)

// Exported reports whether the follow-up has its issue.
func (f Followup) Exported() bool { return f.Export != nil && f.Export.State == ExportCreated }

// ErrNoFollowup is a follow-up number the incident does not have.
var ErrNoFollowup = apperr.New(apperr.NotFound, "no such follow-up")

// FollowupStore keeps each incident's follow-ups in one Redis hash under
// the incident's key (field "#seq" numbers them); every change is one
// WATCH transaction on it.
type FollowupStore struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewFollowupStore returns the store; its keys start with prefix.
func NewFollowupStore(rdb redis.UniversalClient, prefix string, now func() time.Time) *FollowupStore {
	if now == nil {
		now = time.Now
	}
	return &FollowupStore{rdb: rdb, prefix: prefix, now: now}
}

func (fo *FollowupStore) key(id string) string { return fo.prefix + "incident:" + id + ":followups" }

const seqField = "#seq"

// addScript numbers and stores a follow-up in one step: no number is
// taken without its follow-up.
var addScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], '#seq', 1)
redis.call('HSET', KEYS[1], tostring(n), ARGV[1])
return n`)

// Add records a follow-up and gives it the incident's next number.
func (fo *FollowupStore) Add(ctx context.Context, id, text string, by Person) (Followup, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Followup{}, apperr.New(apperr.Invalid, "a follow-up needs a text")
	}
	f := Followup{Text: text, By: by, At: fo.now().UTC()}
	raw, err := json.Marshal(f)
	if err != nil {
		return Followup{}, err
	}
	n, err := addScript.Run(ctx, fo.rdb, []string{fo.key(id), fo.prefix + "incident:" + id}, raw).Int()
	if err != nil {
		return Followup{}, fmt.Errorf("add follow-up to %s: %w", id, redisx.StoreErr(err))
	}
	if n == 0 {
		return Followup{}, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	f.N = n
	return f, nil
}

// List is the incident's follow-ups in number order.
func (fo *FollowupStore) List(ctx context.Context, id string) ([]Followup, error) {
	all, err := fo.rdb.HGetAll(ctx, fo.key(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("list follow-ups of %s: %w", id, redisx.StoreErr(err))
	}
	out := make([]Followup, 0, len(all))
	for field, raw := range all {
		n, err := strconv.Atoi(field)
		if err != nil {
			continue // #seq
		}
		var f Followup
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			return nil, fmt.Errorf("decode follow-up %d of %s: %w", n, id, err)
		}
		f.N = n
		out = append(out, f)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].N < out[b].N })
	return out, nil
}

// Get is one follow-up.
func (fo *FollowupStore) Get(ctx context.Context, id string, n int) (Followup, error) {
	raw, err := fo.rdb.HGet(ctx, fo.key(id), strconv.Itoa(n)).Bytes()
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return Followup{}, fo.unknown(ctx, id, n)
		}
		return Followup{}, fmt.Errorf("read follow-up %d of %s: %w", n, id, redisx.StoreErr(err))
	}
	var f Followup
	if err := json.Unmarshal(raw, &f); err != nil {
		return Followup{}, fmt.Errorf("decode follow-up %d of %s: %w", n, id, err)
	}
	f.N = n
	return f, nil
}

// unknown says which numbers the incident has.
func (fo *FollowupStore) unknown(ctx context.Context, id string, n int) error {
	count, _ := fo.rdb.HGet(ctx, fo.key(id), seqField).Int()
	has := fmt.Sprintf("it has none yet (add one with `followup add %s &lt;text&gt;`)", id)
	switch {
	case count == 1:
		has = "it has only follow-up 1"
	case count > 1:
		has = fmt.Sprintf("it has follow-ups 1 to %d", count)
	}
	return apperr.Wrap(apperr.NotFound, fmt.Sprintf("%s has no follow-up %d: %s", id, n, has), ErrNoFollowup)
}

// update changes one follow-up in a transaction; fn returning errNoWrite
// leaves it as it is.
func (fo *FollowupStore) update(ctx context.Context, id string, n int, fn func(f *Followup) error) (Followup, error) {
	var out Followup
	key, field := fo.key(id), strconv.Itoa(n)
	err := redisx.Transact(ctx, fo.rdb, func(tx *redis.Tx) error {
		raw, err := tx.HGet(ctx, key, field).Bytes()
		if errors.Is(err, redis.Nil) {
			return fo.unknown(ctx, id, n)
		}
		if err != nil {
			return err
		}
		var f Followup
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("decode follow-up %d of %s: %w", n, id, err)
		}
		f.N = n
		err = fn(&f)
		out = f
		if errors.Is(err, errNoWrite) {
			return nil
		}
		if err != nil {
			return err
		}
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, field, b)
			return nil
		})
		return err
	}, key)
	if err != nil {
		return Followup{}, redisx.StoreErr(err)
	}
	return out, nil
}

var errNoWrite = errors.New("no change")

// Done marks follow-up n done; already is true when it was (nothing
// changes then).
func (fo *FollowupStore) Done(ctx context.Context, id string, n int, by Person) (f Followup, already bool, err error) {
	f, err = fo.update(ctx, id, n, func(f *Followup) error {
		if f.Done {
			already = true
			return errNoWrite
		}
		f.Done, f.DoneBy, f.DoneAt = true, &by, fo.now().UTC()
		return nil
	})
	return f, already, err
}

// BeginExport writes "creating" with the marker before the issue is
// created, unless the follow-up already has its issue (returned as it is).
// The caller holds the export lease and has looked for an issue an earlier
// attempt may have left.
func (fo *FollowupStore) BeginExport(ctx context.Context, id string, n int, marker string) (Followup, error) {
	return fo.update(ctx, id, n, func(f *Followup) error {
		if f.Exported() {
			return errNoWrite
		}
		f.Export = &Export{State: ExportCreating, Marker: marker, Started: fo.now().UTC()}
		return nil
	})
}

// RecordExport writes the created issue.
func (fo *FollowupStore) RecordExport(ctx context.Context, id string, n int, number int, url string) (Followup, error) {
	return fo.update(ctx, id, n, func(f *Followup) error {
		if f.Exported() {
			return errNoWrite // the first record stands
		}
		marker := ""
		var started time.Time
		if f.Export != nil {
			marker, started = f.Export.Marker, f.Export.Started
		}
		f.Export = &Export{State: ExportCreated, Marker: marker, Started: started, Number: number, URL: url}
		return nil
	})
}

// AbandonExport drops a "creating" record when the create is known not to
// have happened (GitHub refused it), so the next export need not wait for
// search.
func (fo *FollowupStore) AbandonExport(ctx context.Context, id string, n int) error {
	_, err := fo.update(ctx, id, n, func(f *Followup) error {
		if f.Export == nil || f.Exported() {
			return errNoWrite
		}
		f.Export = nil
		return nil
	})
	return err
}

// ExportLease is held by the one replica exporting follow-up n.
func (fo *FollowupStore) ExportLease(id string, n int, owner string) *redisx.Lease {
	return redisx.NewLease(fo.rdb, fmt.Sprintf("%sincident:%s:followup:%d:export", fo.prefix, id, n), owner)
}
