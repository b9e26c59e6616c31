package publish

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// Cards keeps each incident's card and checklist message up to date:
// posted at once when new, refreshed from the render queue at a paced
// rate, and caught up when Slack refused.
type Cards struct {
	base
	outbox    *Outbox
	rb        *incident.Runbook
	ladders   Ladders
	webhooks  WebhookPause // the card's pause line (nil: none)
	rooms     CardWatcher  // nil: no incident channels
	renderGap time.Duration
}

// Channel is where incidents without a channel of their own go.
func (c *Cards) Channel() string { return c.channel }

// Refresh brings the card and checklist up to date with the incident. A
// card not posted yet is posted now (its thread is needed at once); an
// existing one is refreshed by the renderer, at most once a second per
// incident, from the latest state: a burst of changes is one chat.update,
// and the person who typed is answered first. The returned error is the
// post's, when the card could not be posted.
func (c *Cards) Refresh(ctx context.Context, inc *incident.Incident) error {
	if inc.CardTS == "" && inc.Channel != "" {
		return c.refreshNow(ctx, inc)
	}
	if err := c.st.Renders.QueueRender(ctx, inc.ID, time.Now()); err != nil {
		return c.refreshNow(ctx, inc) // Redis hiccup: render now rather than lose it
	}
	c.outbox.wake()
	return nil
}

// Changed follows a change written with its line and refresh queued in
// the same transaction (incident.After): a card not posted yet is posted
// now; otherwise the renderer and the line poster are woken.
func (c *Cards) Changed(ctx context.Context, inc *incident.Incident) error {
	if inc.CardTS == "" && inc.Channel != "" {
		return c.refreshNow(ctx, inc)
	}
	c.outbox.wake()
	return nil
}

// refreshNow re-renders at once. Concurrent changes may finish their
// updates in any order, so after writing it re-reads the incident and
// renders again until what it wrote is the latest version.
func (c *Cards) refreshNow(ctx context.Context, inc *incident.Incident) error {
	var rerr error
	for range 8 {
		rerr = c.render(ctx, inc)
		latest, err := c.st.Incidents.Current(ctx, inc.ID)
		if err != nil || latest.Version == inc.Version {
			return rerr
		}
		timeline := inc.Timeline
		*inc = *latest
		inc.Timeline = timeline
	}
	return rerr
}

// DefaultRenderGap is the least time between two refreshes of one
// incident's messages: Slack's chat.update is Tier 3 (about 50 a minute),
// and a busy incident has five people clicking. It is real time: it paces
// Slack, not the incident.
const DefaultRenderGap = time.Second

// RunRenderer refreshes queued cards and posts queued thread lines until
// ctx ends, on every replica; each refresh and each channel's lines are
// claimed in Redis, so one replica does each.
func (c *Cards) RunRenderer(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.outbox.kick:
		}
		c.RenderDue(ctx)
		c.outbox.PostDueLines(ctx)
	}
}

// RenderDue refreshes every card whose refresh is due.
func (c *Cards) RenderDue(ctx context.Context) {
	ids, err := c.st.Renders.DueRenders(ctx, time.Now())
	if err != nil {
		return
	}
	for _, id := range ids {
		if ok, err := c.st.Renders.ClaimRender(ctx, id); err != nil || !ok {
			continue
		}
		if wait, err := c.st.Renders.PaceRender(ctx, id, c.renderGap); err == nil && wait > 0 {
			_ = c.st.Renders.QueueRender(ctx, id, time.Now().Add(wait))
			continue
		}
		inc, err := c.st.Incidents.Current(ctx, id)
		if err != nil {
			continue
		}
		_ = c.render(ctx, inc)
	}
}

// render writes the card and checklist; when Slack refuses, the incident
// is marked stale and the sweep catches the card up later.
func (c *Cards) render(ctx context.Context, inc *incident.Incident) error {
	if c.rooms != nil {
		defer func() { c.rooms.CardChanged(ctx, inc) }()
	}
	spec := c.rb.Spec(inc.Category)
	card := c.withPause(ctx, inc, render.Card(inc, spec, c.LadderState(ctx, inc.ID), c.now()))
	var failed error
	if inc.CardTS == "" && inc.Channel != "" {
		// Only one request posts the card; the others wait for its ts.
		if first, err := c.st.Locks.Once(ctx, "card-post:"+inc.ID, 30*time.Second); err == nil && !first {
			if cur := c.WithCard(ctx, inc); cur.CardTS != "" {
				*inc = *cur
				card = c.withPause(ctx, inc, render.Card(inc, spec, c.LadderState(ctx, inc.ID), c.now()))
			}
		}
	}
	if inc.CardTS == "" {
		if inc.Channel == "" {
			return nil
		}
		ts, err := c.slack.Post(ctx, inc.Channel, "", card)
		if err != nil {
			c.log.WithError(err).WithField("incident", inc.ID).Warn("could not post incident card")
			_ = c.st.Stale.MarkStale(ctx, inc.ID)
			return fmt.Errorf("post the card of %s: %w", inc.ID, err)
		}
		// Where the card is, so the next render updates it (Incidents).
		if updated, err := c.st.Incidents.SetCard(ctx, inc.ID, inc.Channel, ts); err == nil {
			*inc = *updated
		}
	} else if err := c.slack.Update(ctx, inc.Channel, inc.CardTS, card); err != nil {
		c.log.WithError(err).WithField("incident", inc.ID).Warn("could not update incident card")
		failed = fmt.Errorf("update the card of %s: %w", inc.ID, err)
	}
	if inc.ChecklistTS != "" && spec != nil {
		if err := c.slack.Update(ctx, inc.Channel, inc.ChecklistTS, render.ChecklistMsg(inc, spec)); err != nil {
			c.log.WithError(err).WithField("incident", inc.ID).Warn("could not update checklist")
			failed = cmpOr(failed, fmt.Errorf("update the checklist of %s: %w", inc.ID, err))
		}
	}
	if failed != nil {
		_ = c.st.Stale.MarkStale(ctx, inc.ID)
	}
	return failed
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// catchUp re-renders cards that could not be updated (Slack was down, or
// the change came from the break-glass CLI); a new card gets its checklist.
func (c *Cards) CatchUp(ctx context.Context) {
	ids, err := c.st.Stale.Stale(ctx)
	if err != nil {
		return
	}
	now := c.now()
	for _, id := range ids {
		// A card Slack keeps refusing (the bot left the channel) is retried
		// with backoff up to every 5 minutes, not every sweep forever.
		attempts, next, err := c.st.Stale.StaleRetry(ctx, id)
		if err != nil || now.Before(next) {
			continue
		}
		// One replica at a time, or two would post two cards.
		lease := c.st.Locks.Lease("catch-up:"+id, c.outbox.owner)
		if ok, err := lease.Take(ctx, 30*time.Second); err != nil || !ok {
			continue
		}
		c.catchUp(ctx, id, attempts, now)
		_ = lease.Release(context.WithoutCancel(ctx))
	}
}

// maxCardRetry caps the backoff of a card Slack keeps refusing.
const maxCardRetry = 5 * time.Minute

func (c *Cards) catchUp(ctx context.Context, id string, attempts int, now time.Time) {
	inc, err := c.st.Incidents.Current(ctx, id)
	if err != nil {
		_ = c.st.Stale.ClearStale(ctx, id)
		return
	}
	hadCard := inc.CardTS != ""
	if err := c.render(ctx, inc); err != nil {
		wait := min(5*time.Second<<min(attempts, 6), maxCardRetry)
		_ = c.st.Stale.SetStaleRetry(ctx, id, attempts+1, now.Add(wait))
		c.log.WithError(err).WithField("incident", id).WithField("retry_in", wait).Warn("card still behind")
		return
	}
	_ = c.st.Stale.ClearStale(ctx, id)
	if !hadCard && inc.CardTS != "" {
		c.PostChecklist(ctx, inc)
		c.outbox.Thread(ctx, inc, fmt.Sprintf("This card caught up after Slack was unreachable; the timeline has everything done meanwhile (`/clerk-incident status %s`).", inc.ID))
	}
}

// withCard waits briefly for the card of a just-opened incident: a
// command typed right after `open` may run before the card's ts is stored,
// and its thread line belongs under the card, not at the top level.
func (c *Cards) WithCard(ctx context.Context, inc *incident.Incident) *incident.Incident {
	if inc.CardTS != "" || inc.Channel == "" || c.now().Sub(inc.OpenedAt) > 30*time.Second {
		return inc
	}
	for range 20 {
		cur, err := c.st.Incidents.Current(ctx, inc.ID)
		if err != nil {
			return inc
		}
		if cur.CardTS != "" {
			return cur
		}
		if stale, _ := c.st.Stale.Stale(ctx); slices.Contains(stale, inc.ID) {
			return inc // the card could not be posted: no point waiting
		}
		select {
		case <-ctx.Done():
			return inc
		case <-time.After(100 * time.Millisecond):
		}
	}
	return inc
}

func (c *Cards) PostChecklist(ctx context.Context, inc *incident.Incident) {
	spec := c.rb.Spec(inc.Category)
	if spec == nil || inc.Channel == "" {
		return
	}
	ts, err := c.slack.Post(ctx, inc.Channel, inc.CardTS, render.ChecklistMsg(inc, spec))
	if err != nil {
		c.log.WithError(err).WithField("incident", inc.ID).Warn("could not post checklist")
		return
	}
	// Where the checklist is, so ticks re-render it (Incidents).
	if err := c.st.Incidents.SetChecklistMessage(ctx, inc.ID, ts); err != nil {
		c.log.WithError(err).WithField("incident", inc.ID).Warn("could not remember checklist message")
	}
}

func (c *Cards) LadderState(ctx context.Context, id string) *escalation.State {
	if c.ladders == nil {
		return nil
	}
	st, err := c.ladders.Get(ctx, id)
	if err != nil {
		return nil
	}
	return st
}

// UpdateChecklist re-renders a checklist message (the current one, or an
// older copy someone clicked).
func (c *Cards) UpdateChecklist(ctx context.Context, inc *incident.Incident, channel, ts string) error {
	spec := c.rb.Spec(inc.Category)
	if spec == nil {
		return nil
	}
	return c.slack.Update(ctx, channel, ts, render.ChecklistMsg(inc, spec))
}
