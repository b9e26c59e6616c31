package escalation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Twilio accepting a call only means it is queued. Each call placed is
// kept in a sorted set with the time its status is next read; any
// replica's tick reads it (no worker waits on a ringing phone, a restart
// loses nothing), and a call that ends unanswered (no answer, busy,
// failed, or picked up by voicemail or a fax as answering-machine
// detection decides) is said once in the incident thread.
const (
	// callFirstCheck and callRecheck: the status is read every 10 s
	// while the call is queued, rings or plays, so an unanswered call is
	// said well within 30 s of its end (Twilio rings about 60 s before
	// no-answer).
	callFirstCheck = 10 * time.Second
	callRecheck    = 10 * time.Second
	// callGiveUp: a call still unsettled this long after it was placed is
	// no longer followed.
	callGiveUp = 15 * time.Minute
	// callLease is how long a replica holds a call it is checking.
	callLease = time.Minute
)

// CallNoter says in the incident thread that user did not pick up the
// call, and why (a CallCause).
type CallNoter interface {
	CallUnanswered(ctx context.Context, inc *incident.Incident, user string, cause CallCause) error
}

// CallCause is why a call counts as unanswered.
type CallCause string

// The causes, as the thread words them ("did not pick up: voicemail").
const (
	CallVoicemail CallCause = "voicemail"
	CallFax       CallCause = "a fax machine answered"
	CallNoAnswer  CallCause = "no answer"
	CallBusy      CallCause = "line busy"
	CallFailed    CallCause = "the call failed"
)

// callOutcome reads a call's status and answered_by: done when nothing
// more will change, and the cause when it went unanswered. A call taken
// by a machine is unanswered as soon as detection says so.
func callOutcome(status, answeredBy string) (done bool, cause CallCause) {
	switch {
	case strings.HasPrefix(answeredBy, "machine_"):
		return true, CallVoicemail
	case answeredBy == "fax":
		return true, CallFax
	}
	switch status {
	case "queued", "ringing":
		return false, ""
	case "in-progress":
		// Answered; until detection decides, it may yet be a machine.
		return answeredBy == "human", ""
	case "no-answer":
		return true, CallNoAnswer
	case "busy":
		return true, CallBusy
	case "failed":
		return true, CallFailed
	}
	return true, "" // completed by a person (or undecided), canceled
}

// watchedCall is one member of the calls set.
type watchedCall struct {
	Incident string    `json:"incident"`
	User     string    `json:"user"`
	SID      string    `json:"sid"`
	At       time.Time `json:"at"`
}

func (k keys) keyCalls() string { return k.prefix + "escalation:calls" }

// callWatch follows each call placed to its end, from the calls set
// (escalation:calls), and says once when nobody picked up.
type callWatch struct {
	rdb redis.UniversalClient
	keys
	reader IncidentReader
	phones Phones
	noter  CallNoter // nil: an unanswered call is only logged
	guard  Guard
	log    logrus.FieldLogger
}

// watch schedules the first read of a call's status.
func (ca *callWatch) watch(ctx context.Context, id, user, sid string, now time.Time) {
	raw, _ := json.Marshal(watchedCall{Incident: id, User: user, SID: sid, At: now})
	if err := ca.rdb.ZAdd(ctx, ca.keyCalls(), redis.Z{Score: ms(now.Add(callFirstCheck)), Member: raw}).Err(); err != nil {
		ca.log.WithError(err).WithField("incident", id).Warn("could not remember the call to check it was answered")
	}
}

// claimCallScript takes a due call by moving it past the lease, so one
// replica reads it at a time; a replica that dies leaves it for the next.
var claimCallScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1`)

// checkDue reads the status of every call due for a check.
func (ca *callWatch) checkDue(ctx context.Context, now time.Time) {
	due, err := ca.rdb.ZRangeByScore(ctx, ca.keyCalls(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 100}).Result()
	if err != nil {
		ca.log.WithError(err).Warn("read calls to check failed")
		return
	}
	for _, member := range due {
		ca.checkCall(ctx, member, now)
	}
}

func (ca *callWatch) checkCall(ctx context.Context, member string, now time.Time) {
	var c watchedCall
	if err := json.Unmarshal([]byte(member), &c); err != nil {
		ca.rdb.ZRem(ctx, ca.keyCalls(), member)
		return
	}
	// A panic drops this check only; the call's claim lapses and it is
	// checked again.
	ca.guard.Run(ctx, "call check", c.Incident, func(ctx context.Context) { ca.checkClaimedCall(ctx, member, c, now) })
}

// checkClaimedCall claims one call's check and follows its status.
func (ca *callWatch) checkClaimedCall(ctx context.Context, member string, c watchedCall, now time.Time) {
	log := ca.log.WithField("incident", c.Incident).WithField("call", c.SID)
	ok, err := claimCallScript.Run(ctx, ca.rdb, []string{ca.keyCalls()}, member, now.UnixMilli(), ms(now.Add(callLease))).Int()
	if err != nil || ok != 1 {
		return
	}
	again := func(why string) {
		if now.Sub(c.At) >= callGiveUp {
			log.WithField("why", why).Warn("stopped following a call that never settled")
			ca.rdb.ZRem(ctx, ca.keyCalls(), member)
			return
		}
		ca.rdb.ZAdd(ctx, ca.keyCalls(), redis.Z{Score: ms(now.Add(callRecheck)), Member: member})
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	status, answeredBy, err := ca.phones.CallStatus(cctx, c.SID)
	if err != nil {
		if permanent(err) {
			log.WithError(err).Warn("cannot read the call's status")
			ca.rdb.ZRem(ctx, ca.keyCalls(), member)
			return
		}
		again(err.Error())
		return
	}
	done, cause := callOutcome(status, answeredBy)
	if !done {
		again(status)
		return
	}
	if cause == "" {
		ca.rdb.ZRem(ctx, ca.keyCalls(), member)
		return
	}
	if err := ca.noteUnanswered(ctx, c, cause); err != nil {
		log.WithError(err).Warn("could not say the call went unanswered; will retry")
		again(err.Error())
		return
	}
	ca.rdb.ZRem(ctx, ca.keyCalls(), member)
}

// noteUnanswered says once in the incident thread that the call was not
// answered (unless the incident is over).
func (ca *callWatch) noteUnanswered(ctx context.Context, c watchedCall, cause CallCause) error {
	n := ca.noter
	if n == nil {
		return nil
	}
	inc, err := ca.reader.Current(ctx, c.Incident)
	if err != nil {
		return err
	}
	if !inc.Open() {
		return nil
	}
	key := ca.keyState(c.Incident) + ":call:" + c.SID
	if first, err := redisx.Once(ctx, ca.rdb, key, 30*24*time.Hour); err != nil || !first {
		return err
	}
	if err := n.CallUnanswered(ctx, inc, c.User, cause); err != nil {
		ca.rdb.Del(ctx, key)
		return err
	}
	return nil
}
