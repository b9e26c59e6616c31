// Package approval is the one two-person rule for every dangerous action:
// a request stored in Redis, decided exactly once (approve, deny or
// expire) even when people click at once on several replicas.
package approval

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Statuses of a request.
const (
	Pending  = "pending"
	Approved = "approved"
	Denied   = "denied"
	Expired  = "expired"
	Voided   = "void"
)

// Request is a dangerous action waiting for a second person.
type Request struct {
	ID       string   `json:"id"`
	Incident string   `json:"incident"`
	Action   string   `json:"action"` // lockout, bypass_on, bypass_extend, rollback, protect_off, block_domain, rotate
	Targets  []string `json:"targets,omitempty"`
	// Tokens are sign-in (sit_…) and actor (act_…) token IDs a lockout
	// revokes too: Clerk cannot list a user's outstanding tokens.
	Tokens      []string         `json:"tokens,omitempty"`
	Duration    time.Duration    `json:"duration,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	Summary     string           `json:"summary"` // exactly what will happen
	RequestedBy incident.Person  `json:"requested_by"`
	RequestedAt time.Time        `json:"requested_at"`
	ExpiresAt   time.Time        `json:"expires_at"`
	Status      string           `json:"status"`
	DecidedBy   *incident.Person `json:"decided_by,omitempty"`
	DecidedAt   time.Time        `json:"decided_at"`
	Channel     string           `json:"channel,omitempty"`
	MessageTS   string           `json:"message_ts,omitempty"`
	// Outcome is what carrying it out did (nil: not carried out yet).
	Outcome *Outcome `json:"outcome,omitempty"`
	// VoidReason says why a pending request was voided (its incident was
	// resolved, the bypass was turned off).
	VoidReason string `json:"void_reason,omitempty"`
	// Accounts are the targets as resolved in Clerk before the request
	// was posted (Targets holds their IDs, the only ones acted on);
	// NotFound and Ambiguous are the refs left out of the count. They hold
	// personal data: only the asker and the approvers see them in full.
	Accounts  []Account   `json:"accounts,omitempty"`
	NotFound  []string    `json:"not_found,omitempty"`
	Ambiguous []Ambiguous `json:"ambiguous,omitempty"`
}

// Account is one target found in Clerk: its ID, name and e-mail.
type Account struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Ambiguous is a ref that matched several accounts: none is acted on
// until the requester names one by ID.
type Ambiguous struct {
	Ref string   `json:"ref"`
	IDs []string `json:"ids"`
}

// Errors a decision can meet; each is told to the clicker as is.
var (
	ErrUnknown = apperr.New(apperr.NotFound, "this approval request does not exist")
	ErrSelf    = apperr.New(apperr.Invalid, "you made this request; someone else must approve it")
)

// ExpiredError says the request ran out of time.
type ExpiredError struct{ Req *Request }

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("this request expired at %s without a decision; nothing was done", e.Req.ExpiresAt.UTC().Format("15:04 UTC"))
}

// DecidedError says someone already decided.
type DecidedError struct{ Req *Request }

func (d *DecidedError) Error() string {
	if d.Req.Status == Voided {
		return fmt.Sprintf("this request is void (%s); nothing was done", d.Req.VoidReason)
	}
	who := "someone"
	if d.Req.DecidedBy != nil {
		who = d.Req.DecidedBy.Plain()
	}
	return fmt.Sprintf("this request was already %s by %s at %s", d.Req.Status, who, d.Req.DecidedAt.UTC().Format("15:04 UTC"))
}

var idRe = regexp.MustCompile(`^apr-[a-z0-9]{12}$`)

// ValidID reports whether s looks like a request ID (button values are untrusted).
func ValidID(s string) bool { return idRe.MatchString(s) }

func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "apr-" + string(b)
}

// Store keeps requests in Redis.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
	TTL    time.Duration
}

// NewStore returns a store; requests expire after ttl.
func NewStore(rdb redis.UniversalClient, prefix string, ttl time.Duration, now func() time.Time) *Store {
	return &Store{rdb: rdb, prefix: prefix, now: now, TTL: ttl}
}

func (s *Store) key(id string) string { return s.prefix + "approval:" + id }
func (s *Store) keyExpiry() string    { return s.prefix + "approvals:expiry" }
func (s *Store) keyApproved() string  { return s.prefix + "approvals:approved" }
func (s *Store) keyExec(id string) string {
	return s.prefix + "approval:" + id + ":exec"
}

// keep requests for a month after they are decided, for the audit trail.
const retention = 30 * 24 * time.Hour

// Create stores a new pending request and returns it with its ID.
func (s *Store) Create(ctx context.Context, r Request) (*Request, error) {
	now := s.now().UTC()
	r.ID = newID()
	r.Status = Pending
	r.RequestedAt = now
	r.ExpiresAt = now.Add(s.TTL)
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.key(r.ID), raw, retention)
		p.ZAdd(ctx, s.keyExpiry(), redis.Z{Score: float64(r.ExpiresAt.UnixMilli()), Member: r.ID})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store approval request: %w", err)
	}
	return &r, nil
}

// Get reads a request.
func (s *Store) Get(ctx context.Context, id string) (*Request, error) {
	if !ValidID(id) {
		return nil, ErrUnknown
	}
	raw, err := s.rdb.Get(ctx, s.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("read approval %s: %w", id, err)
	}
	var r Request
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode approval %s: %w", id, err)
	}
	return &r, nil
}

// The actions that need a second person.
const (
	Lockout      = "lockout"
	BypassOn     = "bypass_on"
	BypassExtend = "bypass_extend"
	Rollback     = "rollback" // the app's production on Vercel
	ProtectOff   = "protect_off"
	BlockDomain  = "block_domain" // a *@domain on Clerk's blocklist
	Rotate       = "rotate"       // a machine's secret key or an OAuth app's client secret
)

// update changes a request atomically.
func (s *Store) update(ctx context.Context, id string, fn func(r *Request) error) (*Request, error) {
	return s.updateWith(ctx, id, fn, nil)
}

// updateWith is update with more writes in the same transaction.
func (s *Store) updateWith(ctx context.Context, id string, fn func(r *Request) error, also func(p redis.Pipeliner, r *Request)) (*Request, error) {
	if !ValidID(id) {
		return nil, ErrUnknown
	}
	return redisx.UpdateJSON(ctx, s.rdb, s.key(id), ErrUnknown, fn, func(p redis.Pipeliner, raw []byte, r *Request) {
		if also != nil {
			also(p, r)
		}
		p.Set(ctx, s.key(id), raw, retention)
		if r.Status != Pending {
			p.ZRem(ctx, s.keyExpiry(), id)
		}
		// Approved and not yet carried out: an outbox any replica works
		// through, so a crash after the click loses nothing.
		if r.Status == Approved && r.Outcome == nil {
			p.ZAdd(ctx, s.keyApproved(), redis.Z{Score: float64(r.DecidedAt.UnixMilli()), Member: id})
		} else {
			p.ZRem(ctx, s.keyApproved(), id)
		}
	})
}

// Decide approves or denies. Exactly one decision wins; the requester may
// deny (withdraw) but never approve their own request.
func (s *Store) Decide(ctx context.Context, id string, by incident.Person, approve bool) (*Request, error) {
	return s.DecideAndClaim(ctx, id, by, approve, "")
}

// DecideAndClaim is Decide that, on approval, also takes the execution
// lease for owner in the same transaction: no other replica's outbox
// sweep can carry the request out between the click and its own work.
func (s *Store) DecideAndClaim(ctx context.Context, id string, by incident.Person, approve bool, owner string) (*Request, error) {
	now := s.now().UTC()
	claim := func(p redis.Pipeliner, r *Request) {
		if owner != "" && r.Status == Approved {
			p.Set(ctx, s.keyExec(id), owner, ExecLease)
		}
	}
	return s.updateWith(ctx, id, func(r *Request) error {
		if r.Status != Pending {
			return &DecidedError{Req: r}
		}
		if !now.Before(r.ExpiresAt) {
			return &ExpiredError{Req: r}
		}
		if approve && by.ID == r.RequestedBy.ID {
			return ErrSelf
		}
		r.Status = Denied
		if approve {
			r.Status = Approved
		}
		r.DecidedBy = &by
		r.DecidedAt = now
		return nil
	}, claim)
}

// SetMessage remembers where the request was posted.
func (s *Store) SetMessage(ctx context.Context, id, channel, ts string) error {
	_, err := s.update(ctx, id, func(r *Request) error {
		r.Channel, r.MessageTS = channel, ts
		return nil
	})
	return err
}

// SetOutcome records what the approved action did.
func (s *Store) SetOutcome(ctx context.Context, id string, outcome *Outcome) error {
	_, err := s.update(ctx, id, func(r *Request) error {
		r.Outcome = outcome
		return nil
	})
	return err
}

// ExecutionLease is the claim on carrying out an approved request: whoever
// takes it does the work; the actions are idempotent (ban, bypass on), so
// a retry after a crash does no harm.
func (s *Store) ExecutionLease(id, owner string) *redisx.Lease {
	return redisx.NewLease(s.rdb, s.keyExec(id), owner)
}

// Unexecuted lists approved requests whose action has no outcome yet.
func (s *Store) Unexecuted(ctx context.Context) ([]string, error) {
	return s.rdb.ZRange(ctx, s.keyApproved(), 0, 99).Result()
}

// Unfinished lists the approved requests of an incident whose action is
// still being carried out (no outcome yet): what they do is not on the
// record yet.
func (s *Store) Unfinished(ctx context.Context, incidentID string) ([]*Request, error) {
	ids, err := s.Unexecuted(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the approval outbox: %w", err)
	}
	var out []*Request
	for _, id := range ids {
		r, err := s.Get(ctx, id)
		if errors.Is(err, ErrUnknown) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.Incident == incidentID && r.Status == Approved && r.Outcome == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// ExpireDue marks pending requests past their expiry as expired and calls
// fn once for each, on whichever replica's transaction wins.
func (s *Store) ExpireDue(ctx context.Context, fn func(ctx context.Context, r *Request)) error {
	now := s.now().UTC()
	ids, err := s.rdb.ZRangeByScore(ctx, s.keyExpiry(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 100}).Result()
	if err != nil {
		return fmt.Errorf("read expiring approvals: %w", err)
	}
	for _, id := range ids {
		r, err := s.update(ctx, id, func(r *Request) error {
			if r.Status != Pending || now.Before(r.ExpiresAt) {
				return errSkip
			}
			r.Status = Expired
			r.DecidedAt = now
			return nil
		})
		if errors.Is(err, errSkip) {
			if cur, gerr := s.Get(ctx, id); gerr == nil && cur.Status != Pending {
				s.rdb.ZRem(ctx, s.keyExpiry(), id)
			}
			continue
		}
		if errors.Is(err, ErrUnknown) {
			s.rdb.ZRem(ctx, s.keyExpiry(), id)
			continue
		}
		if err != nil {
			return err
		}
		fn(ctx, r)
	}
	return nil
}

var errSkip = errors.New("skip")

// CancelApproved gives every approved request that match selects and that
// was not carried out yet the outcome "not carried out" (reason), which
// takes it off the outbox: `bypass off` must not be followed by the bypass
// an earlier approval asked for. A request being carried out right now
// (its execution lease held) is left to finish. It returns those cancelled.
func (s *Store) CancelApproved(ctx context.Context, match func(r *Request) bool, reason string) ([]*Request, error) {
	ids, err := s.rdb.ZRange(ctx, s.keyApproved(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read approved requests: %w", err)
	}
	var out []*Request
	for _, id := range ids {
		// Holding the execution lease while cancelling: an executor that
		// takes it afterwards re-reads the request and finds the outcome.
		lease := s.ExecutionLease(id, "cancel")
		if took, err := lease.Take(ctx, ExecLease); err != nil || !took {
			continue
		}
		r, err := s.update(ctx, id, func(r *Request) error {
			if r.Status != Approved || r.Outcome != nil || !match(r) {
				return errSkip
			}
			r.Outcome = NotDone("Not carried out: %s before it was; nothing was done.", reason)
			return nil
		})
		_ = lease.Release(context.WithoutCancel(ctx))
		switch {
		case errors.Is(err, errSkip), errors.Is(err, ErrUnknown):
			continue
		case err != nil:
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Void reasons.
const (
	VoidResolved  = "incident resolved"
	VoidBypassOff = "bypass turned off"
)

// VoidPending voids every pending request that match selects, so a stale
// Approve button can never act once the situation it was asked for is
// over. It returns the requests it voided (each once, across replicas).
func (s *Store) VoidPending(ctx context.Context, match func(r *Request) bool, reason string) ([]*Request, error) {
	ids, err := s.rdb.ZRange(ctx, s.keyExpiry(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read pending approvals: %w", err)
	}
	now := s.now().UTC()
	var out []*Request
	for _, id := range ids {
		r, err := s.update(ctx, id, func(r *Request) error {
			if r.Status != Pending || !match(r) {
				return errSkip
			}
			r.Status = Voided
			r.VoidReason = reason
			r.DecidedAt = now
			return nil
		})
		switch {
		case errors.Is(err, errSkip), errors.Is(err, ErrUnknown):
			continue
		case err != nil:
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Describe names the targets for messages.
func Describe(targets []string) string {
	if len(targets) <= 10 {
		return strings.Join(targets, ", ")
	}
	return strings.Join(targets[:10], ", ") + fmt.Sprintf(" and %d more", len(targets)-10)
}
