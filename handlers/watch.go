package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// The watching family: incident status with Clerk's live status, diagnose, check.

func watchingCommands() []Sub {
	return []Sub{
		{Name: "status", Usage: "/clerk-incident status [INC-n] [--chart]", Summary: "show an incident and its latest timeline (--chart: the last hour of Clerk's latency, in a DM)",
			Run: (*Handlers).status},
		{Name: "diagnose", Usage: "/clerk-incident diagnose [INC-n] [samples] [--chart]", Summary: "time Clerk's API, JWKS, the app health endpoint and the status page (--chart: the last hour of Clerk's latency)", Who: Responder,
			Run: (*Handlers).diagnose},
		{Name: "check", Usage: "/clerk-incident check", Summary: "check keys, webhook secret, Redis, contacts and Slack tokens", NoID: true, Who: Responder,
			Run: func(h *Handlers, ctx context.Context, r req, _ Parsed) { h.check(ctx, r) }},
	}
}

// StatusSource gives what the last poll (any replica's) saw of Clerk's
// status page, Clerk's endpoints and the app's health.
type StatusSource interface {
	Last(ctx context.Context) (statuswatch.Snapshot, error)
}

// live answers from the last poll's snapshot, saying how old it is: a
// burst of `status` during an incident never reaches the status page.
func (h *Handlers) live(ctx context.Context) string {
	if h.watch == nil {
		return ""
	}
	s, err := h.watch.Last(ctx)
	if err != nil {
		h.log.WithError(err).Warn("reading the last status poll failed")
		s = statuswatch.Snapshot{Err: "the last poll could not be read"}
	}
	return publish.LiveText(s) + publish.SnapshotAge(s.FetchedAt, h.now())
}

func (h *Handlers) status(ctx context.Context, r req, p Parsed) {
	if takeChart(&p) {
		defer h.attachLatency(ctx, r, nil)
	}
	if p.ID == "" {
		open, err := h.store.ListOpen(ctx)
		if err != nil {
			h.fail(ctx, r, err)
			return
		}
		if len(open) != 1 {
			recent, err := h.store.ListRecent(ctx, 5)
			if err != nil {
				h.fail(ctx, r, err)
				return
			}
			var closed []*incident.Incident
			for _, inc := range recent {
				if !inc.Open() {
					closed = append(closed, inc)
				}
			}
			h.reply(ctx, r, publish.WithLive(publish.ListMsg(open, closed, h.now()), h.live(ctx)))
			return
		}
		p.ID = open[0].ID
	}
	inc, err := h.store.Get(ctx, p.ID)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	h.reply(ctx, r, publish.WithLive(publish.StatusMsg(inc, h.rb.Spec(inc.Category), h.pub.LadderState(ctx, inc.ID), h.now()), h.live(ctx)))
}

func (h *Handlers) diagnose(ctx context.Context, r req, p Parsed) {
	chart := takeChart(&p)
	n := 5
	if len(p.Args) > 0 {
		if _, err := fmt.Sscanf(p.Args[0], "%d", &n); err != nil || n < 1 || n > 50 {
			h.fail(ctx, r, &UsageError{Problem: "The number of samples must be 1 to 50.", Usage: p.Sub.Usage})
			return
		}
	}
	if len(h.diagTargets) == 0 {
		h.replyText(ctx, r, "Nothing to diagnose: set CLERK_SECRET_KEY, APP_HEALTH_URL or CLERK_STATUS_URL.")
		return
	}
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	text := publish.DiagnoseText(probe.Diagnose(ctx, h.diagTargets, n), n)
	if inc != nil {
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(r.who, "Diagnosis: "+publish.TimelineText(strings.ReplaceAll(text, "\n", "; "))))
		h.pub.Thread(ctx, inc, text)
	}
	h.replyText(ctx, r, text)
	if chart {
		h.attachLatency(ctx, r, inc)
	}
}

func (h *Handlers) check(ctx context.Context, r req) {
	in := h.checkInput
	if in.PingRedis == nil {
		in.PingRedis = func(ctx context.Context) error { _, err := h.store.ListOpen(ctx); return err }
	}
	if in.PingSlack == nil {
		in.PingSlack = func(ctx context.Context) (string, error) { return "", errors.New("not checked") }
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	h.replyText(ctx, r, publish.CheckText(probe.RunChecks(ctx, in)))
}
