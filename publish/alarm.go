package publish

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
)

// Alarm tells people a background job failed (guard.Alarm). It is built
// before the guard, which reports through it, so it queues its line itself
// rather than through the Outbox (whose poster runs under the guard); the
// line poster picks it up on its next tick. It never waits for Slack: the
// guard calls it before a crashed loop turns again, and a socket listener
// must not wait a dozen seconds of channel pace (or a Slack outage) to
// reconnect.
type Alarm struct {
	base
}

// NewAlarm builds the alarm the guard reports through.
func NewAlarm(st Stores, slack Slack, channel string, log logrus.FieldLogger) *Alarm {
	return &Alarm{base{st: st, slack: slack, channel: channel, log: log}}
}

// Failed implements guard.Alarm: once an hour per job and incident, the
// thread (or the channel) hears that a background job hit an internal
// error and carried on.
func (a *Alarm) Failed(ctx context.Context, job, incidentID string) {
	if first, err := a.st.Locks.Once(ctx, "panic:"+job+":"+incidentID, time.Hour); err != nil || !first {
		return
	}
	text := fmt.Sprintf(":warning: The bot's %s hit an internal error and carried on; the details and stack are in its logs. Check that the last step really happened.", job)
	if incidentID != "" {
		if inc, err := a.st.Incidents.Current(ctx, incidentID); err == nil && inc.Channel != "" {
			a.queueLine(ctx, inc, text)
			return
		}
	}
	if a.channel == "" {
		return
	}
	if err := a.st.Lines.QueueChannelLine(ctx, a.channel, text); err != nil {
		a.log.WithError(err).Warn("could not report a failed job")
	}
}
