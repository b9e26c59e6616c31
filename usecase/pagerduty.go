package usecase

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// PagerDutyReader reads PagerDuty's incidents by key (paging.PagerDutyAPI).
type PagerDutyReader interface {
	Incidents(ctx context.Context, key string) ([]paging.PDIncident, error)
}

// AlertWatchList is the incidents whose ladder triggered PagerDuty
// (escalation.AlertWatch).
type AlertWatchList interface {
	Watched(ctx context.Context) ([]string, error)
	Unwatch(ctx context.Context, id string) error
}

// SyncStore reads and changes incidents (incident.Store).
type SyncStore interface {
	Current(ctx context.Context, id string) (*incident.Incident, error)
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
}

// SyncPublisher shows what the sync changed: the card and thread
// (Changed), and a line about the bot itself in the channel.
type SyncPublisher interface {
	Changed(ctx context.Context, inc *incident.Incident) error
	ChannelLine(ctx context.Context, text string)
}

// AckStopper stops a ladder the way a Slack ack does (Resolver.StopLadder:
// the engine stops, page DMs are rewritten, the card refreshed).
type AckStopper interface {
	StopLadder(ctx context.Context, inc *incident.Incident, reason, by string)
}

// PagerDutySyncDeps lists what reading PagerDuty back needs.
type PagerDutySyncDeps struct {
	API      PagerDutyReader
	Watch    AlertWatchList
	Store    SyncStore
	Pub      SyncPublisher
	Ladder   AckStopper
	Redis    redis.UniversalClient
	Prefix   string
	Keys     *PDKeys       // each incident's dedup_key (nil: the bare INC-n)
	Interval time.Duration // PAGERDUTY_POLL
	Now      func() time.Time
	Log      logrus.FieldLogger
}

// PagerDutySync reads back every open incident whose ladder triggered
// PagerDuty, once per Interval across all replicas (the turn and a lease
// are in Redis): acknowledged there is acknowledged here by that person
// and stops the ladder (without an acknowledge event sent back);
// resolved there is said once in the thread; a key PagerDuty refuses is
// said once in the channel; a 429 is waited out with backoff.
type PagerDutySync struct {
	d     PagerDutySyncDeps
	owner string
}

// NewPagerDutySync wires the use case.
func NewPagerDutySync(d PagerDutySyncDeps) *PagerDutySync {
	if d.Interval <= 0 {
		d.Interval = 15 * time.Second
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &PagerDutySync{d: d, owner: hex.EncodeToString(b)}
}

const (
	// pdLease bounds one poll (real time): a replica that dies mid-poll
	// holds the turn no longer than this.
	pdLease = 2 * time.Minute
	// pdAuthRetry is how often a refused key is tried again: it does not
	// change until someone fixes it, but a 403 may be lifted in PagerDuty.
	pdAuthRetry = 10 * time.Minute
	// pdMaxBackoff caps the wait after repeated 429s.
	pdMaxBackoff = 10 * time.Minute
	// pdSkew: a PagerDuty incident with our key opened this long before
	// ours (clocks differ) may still be ours; older ones are not.
	pdSkew = 10 * time.Minute
)

func (p *PagerDutySync) key(k string) string { return p.d.Prefix + "pagerduty:" + k }

// turnScript gives the poll's turn to one replica: due (now past next)
// and the lease free; it moves next on by one interval.
var turnScript = redis.NewScript(`
local n = redis.call('GET', KEYS[1])
if n and tonumber(n) > tonumber(ARGV[1]) then return 0 end
if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`)

// Tick polls when this replica has the turn, and reports whether it did.
func (p *PagerDutySync) Tick(ctx context.Context) (bool, error) {
	now := p.d.Now()
	got, err := turnScript.Run(ctx, p.d.Redis, []string{p.key("next"), p.key("lease")}, now.UnixMilli(),
		now.Add(p.d.Interval).UnixMilli(), p.owner, pdLease.Milliseconds()).Int()
	if err != nil {
		return false, apperr.Wrap(apperr.UnavailableStore, "", err)
	}
	if got != 1 {
		return false, nil
	}
	lease := redisx.NewLease(p.d.Redis, p.key("lease"), p.owner)
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	pctx, cancel := context.WithTimeout(ctx, pdLease*3/4)
	defer cancel()
	return true, p.poll(pctx, now)
}

// poll reads every watched incident; a refused key or a 429 ends the
// round (every other read would meet the same answer).
func (p *PagerDutySync) poll(ctx context.Context, now time.Time) error {
	ids, err := p.d.Watch.Watched(ctx)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return p.recheck(ctx, now)
	}
	answered := false
	for _, id := range ids {
		asked, err := p.readBack(ctx, id)
		answered = answered || asked // PagerDuty answered, whatever came after
		if err == nil {
			continue
		}
		if p.stopRound(ctx, err, now) {
			return nil
		}
		p.d.Log.WithError(err).WithField("incident", id).Warn("could not read the incident back from PagerDuty; trying again next poll")
	}
	if answered {
		p.answered(ctx)
	}
	return nil
}

// stopRound handles the answers that end a round: a refused key, a 429.
func (p *PagerDutySync) stopRound(ctx context.Context, err error, now time.Time) bool {
	if a, ok := paging.IsPDAuth(err); ok {
		p.refused(ctx, a, now)
		return true
	}
	var later *paging.RetryLater
	if errors.As(err, &later) {
		p.backOff(ctx, later.RetryAfter(), now)
		return true
	}
	return false
}

// answered forgets a refusal or 429s once PagerDuty answers again, and
// reports whether there was one.
func (p *PagerDutySync) answered(ctx context.Context) bool {
	n, _ := p.d.Redis.Del(ctx, p.key("refused"), p.key("backoff")).Result()
	if n > 0 {
		p.d.Log.Info("PagerDuty's REST API answers PAGERDUTY_API_TOKEN again")
	}
	return n > 0
}

// recheck asks PagerDuty again, with nothing watched, whether a refused
// key works now (on the refused key's turn, every pdAuthRetry): a key
// fixed meanwhile clears the refusal, so breaking it again is said again.
// Nothing refused, nothing asked.
func (p *PagerDutySync) recheck(ctx context.Context, now time.Time) error {
	if n, err := p.d.Redis.Exists(ctx, p.key("refused")).Result(); err != nil || n == 0 {
		return err
	}
	_, err := p.d.API.Incidents(ctx, startUpKey)
	switch {
	case err == nil:
		p.answered(ctx)
	case !p.stopRound(ctx, err, now):
		p.d.Log.WithError(err).Warn("could not ask PagerDuty whether PAGERDUTY_API_TOKEN works again; trying again next poll")
	}
	return nil
}

// startUpKey is a key no incident has: asking for it only tells whether
// PagerDuty accepts the REST API key.
const startUpKey = "clerk-incident-bot-start-up-check"

// Check reads PagerDuty once at start-up, so a key it refuses is said now
// rather than at the first incident.
func (p *PagerDutySync) Check(ctx context.Context) {
	_, err := p.d.API.Incidents(ctx, startUpKey)
	switch {
	case err == nil:
		if p.answered(ctx) {
			// A key fixed since the last refusal: poll now, not when the
			// refused key was next to be tried.
			p.d.Redis.Del(ctx, p.key("next"))
		}
		p.d.Log.Info("PagerDuty's REST API accepts PAGERDUTY_API_TOKEN: acknowledgements made in PagerDuty are read back")
	case !p.stopRound(ctx, err, p.d.Now()):
		p.d.Log.WithError(err).Warn("PagerDuty's REST API could not be read at start-up; the poll tries again")
	}
}

// readBack reads one incident's PagerDuty incidents and follows them;
// asked says whether PagerDuty answered.
func (p *PagerDutySync) readBack(ctx context.Context, id string) (asked bool, err error) {
	inc, err := p.d.Store.Current(ctx, id)
	if errors.Is(err, incident.ErrNotFound) || (err == nil && !inc.Open()) {
		return false, p.d.Watch.Unwatch(ctx, id)
	}
	if err != nil {
		return false, err
	}
	key := id
	if p.d.Keys != nil {
		if key, err = p.d.Keys.Key(ctx, id); err != nil {
			return false, err
		}
	}
	found, err := p.d.API.Incidents(ctx, key)
	if err != nil {
		return false, err
	}
	var ours []paging.PDIncident
	for _, pd := range found {
		if !pd.Created.Before(inc.OpenedAt.Add(-pdSkew)) {
			ours = append(ours, pd)
		}
	}
	if inc.AckedBy == nil {
		if by, ok := acknowledger(ours); ok {
			if err := p.ackHere(ctx, inc, by); err != nil {
				return true, err
			}
		}
	}
	return true, p.followResolved(ctx, inc, ours)
}

// acknowledger is who acknowledged in PagerDuty: the latest
// acknowledgement of an acknowledged incident, or a person who resolved
// one outright (someone is on it: the ladder need not wake the next level).
func acknowledger(ours []paging.PDIncident) (paging.PDRef, bool) {
	for i := len(ours) - 1; i >= 0; i-- {
		pd := ours[i]
		switch {
		case pd.Status == "acknowledged" && len(pd.Acks) > 0:
			return pd.Acks[len(pd.Acks)-1].By, true
		case pd.Status == "resolved" && pd.LastChangeBy.Person():
			return pd.LastChangeBy, true
		}
	}
	return paging.PDRef{}, false
}

// ackHere acknowledges the incident as the person from PagerDuty, with
// the thread line and card of a Slack ack, and stops the ladder. Only the
// first ack changes the incident (the store's compare-and-set), so two
// replicas, or a Slack ack at the same moment, say it once.
func (p *PagerDutySync) ackHere(ctx context.Context, inc *incident.Incident, ref paging.PDRef) error {
	by := incident.Person{ID: incident.PagerDutyPrefix + ref.ID, Name: cleanName(ref.Summary)}
	updated, err := p.d.Store.UpdateThen(ctx, inc.ID, incident.Ack(by), incident.After{Line: render.PagerDutyAckLine(inc.ID, by), Render: true})
	if errors.Is(err, incident.ErrNoChange) || errors.Is(err, incident.ErrAlreadyResolved) {
		return nil
	}
	if err != nil {
		return err
	}
	p.d.Log.WithFields(logrus.Fields{"incident": inc.ID, "by": by.Name}).Info("acknowledged in PagerDuty: acknowledged here")
	_ = p.d.Pub.Changed(ctx, updated)
	p.d.Ladder.StopLadder(ctx, updated, "acknowledged", by.ID)
	return nil
}

// followResolved says once in the thread each of our PagerDuty incidents
// resolved there; when none is open any more there is nothing left to
// read until the ladder triggers PagerDuty again.
func (p *PagerDutySync) followResolved(ctx context.Context, inc *incident.Incident, ours []paging.PDIncident) error {
	open := false
	for _, pd := range ours {
		if pd.Status != "resolved" {
			open = true
			continue
		}
		marker := p.d.Prefix + "escalation:" + inc.ID + ":pagerduty:resolved:" + pd.ID
		first, err := redisx.Once(ctx, p.d.Redis, marker, 30*24*time.Hour)
		if err != nil || !first {
			continue
		}
		by := ""
		if pd.LastChangeBy.Person() {
			by = cleanName(pd.LastChangeBy.Summary)
		}
		entry := "Resolved in PagerDuty"
		if by != "" {
			entry += " by " + by
		}
		updated, err := p.d.Store.UpdateThen(ctx, inc.ID, incident.Record(incident.Person{Name: "PagerDuty"}, entry),
			incident.After{Line: render.PagerDutyResolvedLine(inc, by)})
		if err != nil {
			p.d.Redis.Del(context.WithoutCancel(ctx), marker) // said next poll instead
			return err
		}
		_ = p.d.Pub.Changed(ctx, updated)
	}
	if len(ours) > 0 && !open {
		return p.d.Watch.Unwatch(ctx, inc.ID)
	}
	return nil
}

// refused says once in the channel, and logs, that PagerDuty refuses
// the key; it is tried again every pdAuthRetry until it works.
func (p *PagerDutySync) refused(ctx context.Context, a *paging.PDAuthError, now time.Time) {
	p.d.Redis.Set(ctx, p.key("next"), now.Add(pdAuthRetry).UnixMilli(), 0)
	log := p.d.Log.WithField("status", a.Status).WithField("retry_in", pdAuthRetry)
	first, err := p.d.Redis.SetNX(ctx, p.key("refused"), a.Status, 0).Result()
	if err != nil || !first {
		log.Debug("PagerDuty still refuses PAGERDUTY_API_TOKEN")
		return
	}
	log.Error(apperr.MessageOf(a) + ": acknowledgements made in PagerDuty are not read until it is fixed")
	p.d.Pub.ChannelLine(ctx, render.PagerDutyAuthLine(apperr.MessageOf(a)))
}

// backOff waits a 429 out: PagerDuty's ratelimit-reset, and at least
// double the interval for each 429 in a row, up to pdMaxBackoff.
func (p *PagerDutySync) backOff(ctx context.Context, reset time.Duration, now time.Time) {
	n, _ := p.d.Redis.Incr(ctx, p.key("backoff")).Result()
	wait := p.d.Interval
	for i := int64(0); i < n && wait < pdMaxBackoff; i++ {
		wait *= 2
	}
	wait = min(max(wait, reset), pdMaxBackoff)
	p.d.Redis.Set(ctx, p.key("next"), now.Add(wait).UnixMilli(), 0)
	p.d.Log.WithField("retry_in", wait).WithField("in_a_row", n).Warn("PagerDuty is rate limiting PAGERDUTY_API_TOKEN (429): waiting it out")
}

// Run polls until ctx ends, looking for its turn every second (or every
// interval, when shorter).
func (p *PagerDutySync) Run(ctx context.Context) {
	t := time.NewTicker(min(time.Second, p.d.Interval))
	defer t.Stop()
	for {
		if _, err := p.Tick(ctx); err != nil && ctx.Err() == nil {
			p.d.Log.WithError(err).Warn("PagerDuty poll failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cleanName keeps a name from PagerDuty to one short line of text.
func cleanName(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:79]) + "…"
	}
	if s == "" {
		return "someone"
	}
	return s
}
