package publish

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Progress message timing. The message is a courtesy: the work it reports
// (a bulk revoke, paced by Clerk's budget) must never wait on Slack, whose
// chat.update may answer 429 for minutes.
const (
	progressGap    = 2 * time.Second  // at most one update this often
	progressCall   = 10 * time.Second // bound of one intermediate update
	progressFinal  = 2 * time.Minute  // bound of the final update
	progressLife   = time.Hour        // the poster ends even if Finish never comes
	progressFinish = 5 * time.Second  // how long Finish waits to show the final count
)

// Progress delivers progress messages: a bulk action's and a resync's
// (resync.Reporter).
type Progress struct {
	base
	outbox *Outbox
	guard  *guard.Guard
}

// ProgressMsg keeps one thread message up to date from its own goroutine:
// Update only records the count, the poster shows the latest value at most
// every 2 s, each call bounded.
type ProgressMsg struct {
	p     *Progress
	inc   *incident.Incident
	what  string
	total int
	ts    string
	start time.Time

	wake   chan struct{} // a new count (capacity 1: latest value wins)
	fin    chan struct{} // closed by Finish
	posted <-chan struct{}

	progressState
}

// progressState is what the poster and the callers share, under mu.
type progressState struct {
	mu           sync.Mutex
	done, failed int
	final        string
	cancelCall   context.CancelFunc // the intermediate update in flight
}

// StartProgress posts a progress line in the incident's thread (nothing
// for a single item or without an incident).
func (p *Progress) StartProgress(ctx context.Context, inc *incident.Incident, what string, total int) *ProgressMsg {
	pm := &ProgressMsg{p: p, inc: inc, what: what, total: total, start: time.Now(), wake: make(chan struct{}, 1), fin: make(chan struct{})}
	if inc == nil || total < 2 || inc.Channel == "" {
		return pm
	}
	if ts, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, render.Text(pm.text())); err == nil {
		pm.ts = ts
		// Its calls are bounded here, not by the request's pace bound.
		life, cancel := context.WithTimeout(bot.WithPaceBound(context.WithoutCancel(ctx), 0), progressLife)
		done := p.guard.Go(life, "progress message", inc.ID, pm.run)
		pm.posted = done
		go func() { <-done; cancel() }()
	}
	return pm
}

func (pm *ProgressMsg) text() string {
	return fmt.Sprintf(":hourglass_flowing_sand: %s: %d/%d done, %d failed", pm.what, pm.done, pm.total, pm.failed)
}

// Update records progress and returns at once; the poster shows it.
func (pm *ProgressMsg) Update(done, failed int) {
	pm.mu.Lock()
	pm.done, pm.failed = max(pm.done, done), max(pm.failed, failed)
	pm.mu.Unlock()
	select {
	case pm.wake <- struct{}{}:
	default:
	}
}

// Finish shows the final count: the update in flight is dropped (it is
// stale) and the final one is posted. It waits for that a few seconds at
// most (and no longer than ctx); past that the poster carries on alone.
func (pm *ProgressMsg) Finish(ctx context.Context) {
	if pm.ts == "" {
		return
	}
	pm.mu.Lock()
	if pm.final != "" {
		pm.mu.Unlock()
		return
	}
	pm.final = fmt.Sprintf(":white_check_mark: %s: %d/%d done, %d failed, in %s", pm.what, pm.done, pm.total, pm.failed, time.Since(pm.start).Round(time.Second))
	if pm.cancelCall != nil {
		pm.cancelCall()
	}
	pm.mu.Unlock()
	close(pm.fin)
	t := time.NewTimer(progressFinish)
	defer t.Stop()
	select {
	case <-pm.posted:
	case <-t.C:
	case <-ctx.Done():
	}
}

// run is the poster: it wakes on a new count, keeps the gap, and shows the
// latest count; after Finish it shows the final one and ends.
func (pm *ProgressMsg) run(ctx context.Context) {
	var shown string
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-pm.fin:
			pm.postFinal(ctx)
			return
		case <-pm.wake:
		}
		if wait := progressGap - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-pm.fin:
				t.Stop()
				pm.postFinal(ctx)
				return
			case <-t.C:
			}
		}
		pm.mu.Lock()
		if pm.final != "" {
			pm.mu.Unlock()
			pm.postFinal(ctx)
			return
		}
		text := pm.text()
		cctx, cancel := context.WithTimeout(ctx, progressCall)
		pm.cancelCall = cancel
		pm.mu.Unlock()
		if text != shown {
			if err := pm.p.slack.Update(cctx, pm.inc.Channel, pm.ts, render.Text(text)); err == nil {
				shown = text
			}
			last = time.Now()
		}
		pm.mu.Lock()
		pm.cancelCall = nil
		pm.mu.Unlock()
		cancel()
	}
}

func (pm *ProgressMsg) postFinal(ctx context.Context) {
	pm.mu.Lock()
	text := pm.final
	pm.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, progressFinal)
	defer cancel()
	if err := pm.p.slack.Update(ctx, pm.inc.Channel, pm.ts, render.Text(text)); err != nil {
		pm.p.log.WithError(err).WithField("incident", pm.inc.ID).Warn("could not show the final progress count")
	}
}
