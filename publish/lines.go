package publish

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
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

// Thread queues a line for the incident's thread.
func (p *Publisher) Thread(ctx context.Context, inc *incident.Incident, text string) {
	if inc == nil || inc.Channel == "" {
		return
	}
	if err := p.store.QueueLine(ctx, inc.Channel, inc.ID, text); err != nil {
		// Redis refused: post now rather than lose the line.
		p.log.WithError(err).WithField("incident", inc.ID).Warn("could not queue a thread line; posting it directly")
		if _, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, render.Text(text)); err != nil {
			p.log.WithError(err).WithField("incident", inc.ID).Warn("could not post in incident thread")
		}
		return
	}
	p.wake()
}

func (p *Publisher) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// PostDueLines posts the waiting lines of every channel that is due.
func (p *Publisher) PostDueLines(ctx context.Context) {
	chans, err := p.store.LineChannels(ctx, time.Now())
	if err != nil {
		return
	}
	for _, ch := range chans {
		p.postLines(ctx, ch)
	}
}

// postLines posts one merged message of a channel's oldest thread, under
// a lease so two replicas never post the same lines; the lines leave Redis
// only once Slack has taken them.
func (p *Publisher) postLines(ctx context.Context, channel string) {
	lease := p.store.Lease("lines-lock:"+channel, p.owner)
	if ok, err := lease.Take(ctx, linesLease); err != nil || !ok {
		return
	}
	hold, stop := context.WithCancel(ctx)
	held := make(chan struct{})
	go func() {
		defer close(held)
		defer func() {
			// The lease then lapses after linesLease; posting goes on.
			if r := recover(); r != nil {
				p.log.WithField("panic", fmt.Sprint(r)).WithField("stack", string(debug.Stack())).Error("thread-line lease renewal panicked")
				p.Failed(context.WithoutCancel(ctx), "thread-line lease", "")
			}
		}()
		lease.Hold(hold, linesLease, nil)
	}()
	defer func() {
		stop()
		<-held
		_ = lease.Release(context.WithoutCancel(ctx))
	}()

	lines, err := p.store.PendingLines(ctx, channel, 4*maxBatchLines)
	if err != nil {
		return
	}
	if len(lines) == 0 {
		_ = p.store.DoneLines(ctx, channel, nil)
		return
	}
	batch, text := batchOf(lines)
	inc, err := p.store.Current(ctx, batch[0].Incident)
	if err != nil {
		if errors.Is(err, incident.ErrNotFound) {
			_ = p.store.DoneLines(ctx, channel, batch) // its incident is gone: nowhere to post
			return
		}
		_ = p.store.DeferLines(ctx, channel, time.Now().Add(time.Second))
		return
	}
	if inc.CardTS == "" && p.now().Sub(inc.OpenedAt) < cardWait && !p.isStale(ctx, inc.ID) {
		// The card is being posted; its lines belong under it.
		_ = p.store.DeferLines(ctx, channel, time.Now().Add(100*time.Millisecond))
		return
	}
	if _, err := p.slack.Post(ctx, channel, inc.CardTS, render.Text(text)); err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).WithField("lines", len(batch)).Warn("could not post thread lines; they stay queued")
		_ = p.store.DeferLines(ctx, channel, time.Now().Add(p.linesRetry(channel)))
		return
	}
	p.clearLinesRetry(channel)
	if err := p.store.DoneLines(ctx, channel, batch); err != nil {
		p.log.WithError(err).WithField("incident", inc.ID).Warn("posted thread lines could not be removed from the queue")
	}
}

// batchOf takes the oldest line's thread and the lines for that thread
// queued with it, oldest first, as one message.
func batchOf(lines []incident.Line) ([]incident.Line, string) {
	head := lines[0].Incident
	var batch []incident.Line
	var texts []string
	size := 0
	for _, l := range lines {
		if l.Incident != head {
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

func (p *Publisher) isStale(ctx context.Context, id string) bool {
	stale, err := p.store.Stale(ctx)
	return err == nil && slices.Contains(stale, id)
}

// linesRetry backs off a channel Slack keeps refusing (the bot was
// removed), up to maxCardRetry; it is per process, which is enough to stop
// one replica hammering Slack.
func (p *Publisher) linesRetry(channel string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.lineFails[channel]
	p.lineFails[channel] = n + 1
	return min(time.Second<<min(n, 9), maxCardRetry)
}

func (p *Publisher) clearLinesRetry(channel string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.lineFails, channel)
}
