package publish

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Thread lines (timeline entries, pages, alerts) are not posted by the
// request that made them: they wait in Redis, one queue per channel, and
// the line poster on any replica posts them at Slack's pace (about one
// message per second per channel). Lines that wait together for the same
// thread go out as one message, in the order they were queued.

const (
	// maxBatchLines and maxBatchChars bound one merged message.
	maxBatchLines = 20
	maxBatchChars = 3500
	// linesLease is how long a poster holds a channel before another
	// replica may take over its lines (renewed while it posts).
	linesLease = 5 * time.Second
	// cardWait is how long lines wait for a new incident's card before
	// they go to the channel itself.
	cardWait = 30 * time.Second
)

// Outbox is the render, line and stale queues' delivery: it queues
// thread lines and card refreshes, and posts the waiting lines at Slack's
// pace on any replica.
type Outbox struct {
	base
	guard *guard.Guard // runs the lease renewal beside each post
	owner string       // this process, for leases
	kick  chan struct{}
	retry *lineRetry
}

// lineRetry counts the posts Slack refused in a row, per channel.
type lineRetry struct {
	mu    sync.Mutex
	fails map[string]int
}

// Thread queues a line for the incident's thread.
func (o *Outbox) Thread(ctx context.Context, inc *incident.Incident, text string) {
	if o.queueLine(ctx, inc, text) {
		o.wake()
	}
}

// queueLine queues a thread line, or posts it now when Redis refuses;
// it says whether the line is queued.
func (b base) queueLine(ctx context.Context, inc *incident.Incident, text string) bool {
	if inc == nil || inc.Channel == "" {
		return false
	}
	if err := b.st.Lines.QueueLine(ctx, inc.Channel, inc.ID, text); err != nil {
		// Redis refused: post now rather than lose the line.
		b.log.WithError(err).WithField("incident", inc.ID).Warn("could not queue a thread line; posting it directly")
		if _, err := b.slack.Post(ctx, inc.Channel, inc.CardTS, render.Text(text)); err != nil {
			b.log.WithError(err).WithField("incident", inc.ID).Warn("could not post in incident thread")
		}
		return false
	}
	return true
}

func (o *Outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// PostDueLines posts the waiting lines of every channel that is due.
func (o *Outbox) PostDueLines(ctx context.Context) {
	chans, err := o.st.Lines.LineChannels(ctx, time.Now())
	if err != nil {
		return
	}
	for _, ch := range chans {
		o.postLines(ctx, ch)
	}
}

// postLines posts one merged message of a channel's oldest thread, under
// a lease so two replicas never post the same lines; the lines leave Redis
// only once Slack has taken them.
func (o *Outbox) postLines(ctx context.Context, channel string) {
	lease := o.st.Locks.Lease("lines-lock:"+channel, o.owner)
	if ok, err := lease.Take(ctx, linesLease); err != nil || !ok {
		return
	}
	hold, stop := context.WithCancel(ctx)
	// A panic in the renewal is the guard's to report; the lease then
	// lapses after linesLease and posting goes on.
	held := o.guard.Go(hold, "thread-line lease", "", func(ctx context.Context) { lease.Hold(ctx, linesLease, nil) })
	defer func() {
		stop()
		<-held
		_ = lease.Release(context.WithoutCancel(ctx))
	}()

	lines, err := o.st.Lines.PendingLines(ctx, channel, 4*maxBatchLines)
	if err != nil {
		return
	}
	if len(lines) == 0 {
		_ = o.st.Lines.DoneLines(ctx, channel, nil)
		return
	}
	batch, text := batchOf(lines)
	thread, ok := o.threadOf(ctx, channel, batch)
	if !ok {
		return
	}
	if _, err := o.slack.Post(ctx, channel, thread, render.Text(text)); err != nil {
		o.log.WithError(err).WithField("incident", batch[0].Incident).WithField("lines", len(batch)).Warn("could not post queued lines; they stay queued")
		_ = o.st.Lines.DeferLines(ctx, channel, time.Now().Add(o.linesRetry(channel)))
		return
	}
	o.clearLinesRetry(channel)
	if err := o.st.Lines.DoneLines(ctx, channel, batch); err != nil {
		o.log.WithError(err).WithField("incident", batch[0].Incident).Warn("posted lines could not be removed from the queue")
	}
}

// threadOf is the thread a batch goes under ("" for a channel line), or
// false when it cannot go now (the card is still being posted, the
// incident cannot be read) or at all (its incident is gone).
func (o *Outbox) threadOf(ctx context.Context, channel string, batch []incident.Line) (string, bool) {
	if batch[0].Channel {
		return "", true
	}
	inc, err := o.st.Incidents.Current(ctx, batch[0].Incident)
	if err != nil {
		if errors.Is(err, incident.ErrNotFound) {
			_ = o.st.Lines.DoneLines(ctx, channel, batch) // its incident is gone: nowhere to post
			return "", false
		}
		_ = o.st.Lines.DeferLines(ctx, channel, time.Now().Add(time.Second))
		return "", false
	}
	if inc.CardTS == "" && o.now().Sub(inc.OpenedAt) < cardWait && !o.isStale(ctx, inc.ID) {
		// The card is being posted; its lines belong under it.
		_ = o.st.Lines.DeferLines(ctx, channel, time.Now().Add(100*time.Millisecond))
		return "", false
	}
	return inc.CardTS, true
}

// batchOf takes the oldest line's thread and the lines for that thread
// queued with it, oldest first, as one message.
func batchOf(lines []incident.Line) ([]incident.Line, string) {
	if lines[0].Channel {
		return lines[:1], lines[0].Text
	}
	head := lines[0].Incident
	var batch []incident.Line
	var texts []string
	size := 0
	for _, l := range lines {
		if l.Incident != head || l.Channel {
			continue
		}
		if len(batch) > 0 && (len(batch) == maxBatchLines || size+len(l.Text)+1 > maxBatchChars) {
			break
		}
		batch = append(batch, l)
		texts = append(texts, l.Text)
		size += len(l.Text) + 1
	}
	return batch, strings.Join(texts, "\n")
}

func (o *Outbox) isStale(ctx context.Context, id string) bool {
	stale, err := o.st.Stale.Stale(ctx)
	return err == nil && slices.Contains(stale, id)
}

// linesRetry backs off a channel Slack keeps refusing (the bot was
// removed), up to maxCardRetry; it is per process, which is enough to stop
// one replica hammering Slack.
func (o *Outbox) linesRetry(channel string) time.Duration {
	o.retry.mu.Lock()
	defer o.retry.mu.Unlock()
	n := o.retry.fails[channel]
	o.retry.fails[channel] = n + 1
	return min(time.Second<<min(n, 9), maxCardRetry)
}

func (o *Outbox) clearLinesRetry(channel string) {
	o.retry.mu.Lock()
	defer o.retry.mu.Unlock()
	delete(o.retry.fails, channel)
}
