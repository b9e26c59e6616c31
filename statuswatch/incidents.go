package statuswatch

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// incidentMap holds which incident each problem opened (status:map:<key>)
// and which problems are still followed (status:active), and opens an
// incident for a problem at most once across restarts and replicas.
type incidentMap struct {
	rdb    redis.UniversalClient
	keys   keyspace
	opener Opener
	rep    Reporter // says whether a mapped incident is still open
	now    func() time.Time
	log    logrus.FieldLogger
	// every and probeEvery date an alert's first signal: the status
	// page's problems are polled every, the probes' every probeEvery.
	every, probeEvery time.Duration
}

// mapped is the open incident a problem opened ("" for none). One
// upstream incident maps to one incident here for good; a problem known
// only by its components may open a new one once that is closed.
func (im *incidentMap) mapped(ctx context.Context, key string) string {
	id := im.opened(ctx, key)
	if id == "" {
		return ""
	}
	if !strings.HasPrefix(key, "upstream:") && !im.rep.IncidentOpen(ctx, id) {
		return ""
	}
	return id
}

// opened is the incident a problem opened, open or not ("" for none, or
// while it is being opened).
func (im *incidentMap) opened(ctx context.Context, key string) string {
	id, err := im.rdb.Get(ctx, im.keys.k("map:"+key)).Result()
	if err != nil || id == "opening" {
		return ""
	}
	return id
}

// open claims the problem key so that a restart or another replica never
// opens it twice, then asks the opener for the incident.
func (im *incidentMap) open(ctx context.Context, key string, a Alert) string {
	mk := im.keys.k("map:" + key)
	if cur, err := im.rdb.Get(ctx, mk).Result(); err == nil {
		if cur == "opening" || strings.HasPrefix(key, "upstream:") || im.rep.IncidentOpen(ctx, cur) {
			return ""
		}
		im.rdb.Del(ctx, mk) // mapped to a closed incident: open a new one
	}
	if ok, err := im.rdb.SetNX(ctx, mk, "opening", 2*time.Minute).Result(); err != nil || !ok {
		return ""
	}
	interval := im.every
	if src := sourceOf(key); src == incident.SourceProbe || src == incident.SourceAppHealth {
		interval = im.probeEvery
	}
	id, err := im.opener.OpenAlert(ctx, signal(a, im.now(), interval))
	if err != nil {
		im.log.WithError(err).WithField("key", key).Error("could not open incident from status")
		im.rdb.Del(ctx, mk)
		return ""
	}
	im.rdb.Set(ctx, mk, id, 0)
	im.rdb.SAdd(ctx, im.keys.k("active"), key)
	im.log.WithField("incident", id).WithField("key", key).Warn("incident opened from status")
	return id
}

// active lists the problems that opened an incident and are followed
// until they are gone from the page.
func (im *incidentMap) active(ctx context.Context) []string {
	keys, _ := im.rdb.SMembers(ctx, im.keys.k("active")).Result()
	return keys
}

// deactivate stops following a problem (its incident stays mapped).
func (im *incidentMap) deactivate(ctx context.Context, key string) {
	im.rdb.SRem(ctx, im.keys.k("active"), key)
}
