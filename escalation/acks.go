package escalation

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// acks carries an acknowledgement or a resolve to what the ladder sent:
// every page DM rewritten once per reason, PagerDuty told once, and a
// resolved incident no longer read back from PagerDuty.
type acks struct {
	rdb redis.UniversalClient
	keys
	reader IncidentReader
	pager  Pager
	alerts Alerts // nil: no PagerDuty
	log    logrus.FieldLogger
}

// follow tells what the ladder sent that it stopped for reason (by whom).
func (a *acks) follow(ctx context.Context, id, reason, by string) {
	a.followAlerts(ctx, id, reason, by)
	if reason == "resolved" {
		a.rdb.ZRem(ctx, a.keyAlertWatch(), id) // PagerDuty hears it from us; nothing left to read there
	}
	a.settleDMs(ctx, id, reason)
}

// settleScript claims the page DMs not yet rewritten for this reason, so
// whichever replica stops the ladder first rewrites each DM onca.
var settleScript = redis.NewScript(`
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  if redis.call('HGET', KEYS[2], all[i]) ~= ARGV[1] then
    redis.call('HSET', KEYS[2], all[i], ARGV[1])
    table.insert(out, all[i])
    table.insert(out, all[i+1])
  end
end
if #out > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return out`)

// settleDMs rewrites every page DM of the incident to say who acknowledged
// (or resolved) it and when, without its Acknowledge button. One DM that
// cannot be rewritten (the person left, the DM is gone, Slack is out of
// reach from the CLI) is logged, left for the next stop to try again, and
// the others still are.
func (a *acks) settleDMs(ctx context.Context, id, reason string) {
	log := a.log.WithField("incident", id)
	claimed, err := settleScript.Run(ctx, a.rdb, []string{a.keyDMs(id), a.keyDMsDone(id)}, reason, int((30 * 24 * time.Hour).Seconds())).StringSlice()
	if err != nil {
		log.WithError(err).Warn("could not claim page DMs to update")
		return
	}
	if len(claimed) == 0 {
		return
	}
	inc, err := a.reader.Current(ctx, id)
	if err != nil {
		log.WithError(err).Warn("could not read incident to update its page DMs")
		return
	}
	for i := 0; i+1 < len(claimed); i += 2 {
		ch, ts, ok := strings.Cut(claimed[i+1], "|")
		if !ok {
			continue
		}
		if err := a.pager.SettlePage(ctx, inc, reason, DM{Channel: ch, TS: ts}); err != nil {
			log.WithError(err).WithField("channel", ch).Warn("could not update a page DM")
			a.rdb.HDel(context.WithoutCancel(ctx), a.keyDMsDone(id), claimed[i])
		}
	}
}

// followAlerts tells PagerDuty what happened here, once each: an ack
// acknowledges its alert, a resolve resolves it. An ack made in
// PagerDuty (by someone known from there) is not sent back to it.
func (a *acks) followAlerts(ctx context.Context, id, reason, by string) {
	if a.alerts == nil || (reason != "resolved" && (incident.Person{ID: by}).PagerDuty()) {
		return
	}
	if n, _ := a.rdb.Exists(ctx, a.keyState(id)+":pagerduty").Result(); n == 0 {
		return
	}
	action := "acknowledge"
	if reason == "resolved" {
		action = "resolve"
	}
	if first, err := redisx.Once(ctx, a.rdb, a.keyState(id)+":pagerduty:"+action, 30*24*time.Hour); err != nil || !first {
		return
	}
	var err error
	if action == "resolve" {
		err = a.alerts.Resolve(ctx, id)
	} else {
		err = a.alerts.Acknowledge(ctx, id)
	}
	if err != nil {
		a.rdb.Del(ctx, a.keyState(id)+":pagerduty:"+action) // try again on the next stop
		a.log.WithError(err).WithField("incident", id).Warn("could not tell PagerDuty: " + action)
	}
}
