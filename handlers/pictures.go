package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/pictures"
)

// Pictures draws charts and uploads them (package pictures).
type Pictures interface {
	Report(ctx context.Context, inc *incident.Incident) error
	LastHour(ctx context.Context, inc *incident.Incident, user string) error
}

// takeChart removes a --chart argument and says whether there was one:
// charts come only when asked for, so a burst of `status` posts no files.
func takeChart(p *Parsed) bool {
	for i, a := range p.Args {
		if strings.EqualFold(a, "--chart") {
			p.Args = append(p.Args[:i:i], p.Args[i+1:]...)
			p.Rest = strings.TrimSpace(strings.Replace(p.Rest, a, "", 1))
			return true
		}
	}
	return false
}

// attachLatency uploads the last hour's probe latency into the incident's
// thread (inc != nil) or the asker's direct message, and says where.
func (h *Handlers) attachLatency(ctx context.Context, r req, inc *incident.Incident) {
	if h.pictures == nil {
		h.replyText(ctx, r, "Charts are not set up in this bot.")
		return
	}
	err := h.pictures.LastHour(ctx, inc, r.who.ID)
	switch {
	case errors.Is(err, pictures.ErrNoSamples):
		h.replyText(ctx, r, "No chart: the bot timed no Clerk endpoint in the last hour (it does on each status poll when CLERK_PROBE is on).")
	case err != nil:
		h.fail(ctx, r, err)
	case inc != nil && inc.Channel != "":
		h.replyText(ctx, r, ":chart_with_upwards_trend: The last hour of Clerk's probe latency is in the "+inc.ID+" thread.")
	default:
		h.replyText(ctx, r, ":chart_with_upwards_trend: The last hour of Clerk's probe latency is in your direct messages with the bot.")
	}
}

// uploadReport uploads the report, then its pictures: a picture that
// fails is logged, the report stands without it.
func (h *Handlers) uploadReport(ctx context.Context, inc *incident.Incident, md string) error {
	if err := h.pub.UploadReport(ctx, inc, md); err != nil {
		return err
	}
	if h.pictures != nil {
		if err := h.pictures.Report(ctx, inc); err != nil {
			h.log.WithError(err).WithField("incident", inc.ID).Warn("could not attach the report's pictures")
		}
	}
	return nil
}
