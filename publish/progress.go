package publish

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// ProgressMsg keeps one thread message up to date, at most every 2 s.
type ProgressMsg struct {
	p     *Publisher
	inc   *incident.Incident
	what  string
	total int
	ts    string
	start time.Time

	mu           sync.Mutex
	done, failed int
	last         time.Time
}

// StartProgress posts a progress line in the incident's thread (nothing
// for a single item or without an incident).
func (p *Publisher) StartProgress(ctx context.Context, inc *incident.Incident, what string, total int) *ProgressMsg {
	pm := &ProgressMsg{p: p, inc: inc, what: what, total: total, start: time.Now()}
	if inc == nil || total < 2 || inc.Channel == "" {
		return pm
	}
	if ts, err := p.slack.Post(ctx, inc.Channel, inc.CardTS, Text(pm.text())); err == nil {
		pm.ts = ts
	}
	return pm
}

func (pm *ProgressMsg) text() string {
	return fmt.Sprintf(":hourglass_flowing_sand: %s: %d/%d done, %d failed", pm.what, pm.done, pm.total, pm.failed)
}

// Update records progress; the message changes at most every 2 s.
func (pm *ProgressMsg) Update(done, failed int) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	pm.done, pm.failed = max(pm.done, done), max(pm.failed, failed)
	if pm.ts == "" || time.Since(pm.last) < 2*time.Second {
		return
	}
	pm.last = time.Now()
	_ = pm.p.slack.Update(context.Background(), pm.inc.Channel, pm.ts, Text(pm.text()))
}

// Finish shows the final count.
func (pm *ProgressMsg) Finish(ctx context.Context) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if pm.ts == "" {
		return
	}
	text := fmt.Sprintf(":white_check_mark: %s: %d/%d done, %d failed, in %s", pm.what, pm.done, pm.total, pm.failed, time.Since(pm.start).Round(time.Second))
	_ = pm.p.slack.Update(ctx, pm.inc.Channel, pm.ts, Text(text))
}
