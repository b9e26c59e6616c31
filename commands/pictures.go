package commands

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/pictures"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/stats"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// Pictures draws charts and uploads them (package pictures).
type Pictures interface {
	Report(ctx context.Context, inc *incident.Incident) error
	LastHour(ctx context.Context, inc *incident.Incident, user string) error
	Stats(ctx context.Context, s stats.Summary, user string) error
	Record(ctx context.Context, target string, samples []statuswatch.Sample) error
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

// Charts attaches charts to what status, diagnose, stats and the report
// answer; a family that draws holds one.
type Charts struct {
	*Kit
	pictures Pictures // nil: charts are off
}

// NewCharts wires the charts (pictures may be nil).
func NewCharts(k *Kit, pictures Pictures) *Charts { return &Charts{Kit: k, pictures: pictures} }

// attachLatency uploads the last hour's probe latency into the incident's
// thread (inc != nil) or the asker's direct message, and says where.
func (c *Charts) attachLatency(ctx context.Context, r Req, inc *incident.Incident) {
	if c == nil || c.pictures == nil {
		c.ReplyText(ctx, r, "Charts are not set up in this bot.")
		return
	}
	err := c.pictures.LastHour(ctx, inc, r.Who.ID)
	switch {
	case errors.Is(err, pictures.ErrNoSamples):
		c.ReplyText(ctx, r, "No chart: the bot timed no Clerk endpoint in the last hour (it does on each probe round, CLERK_PROBE_SCHEDULE, when CLERK_PROBE is on, and on each `diagnose`).")
	case err != nil:
		c.Fail(ctx, r, err)
	case inc != nil && inc.Channel != "":
		c.ReplyText(ctx, r, ":chart_with_upwards_trend: The last hour of Clerk's probe latency is in the "+inc.ID+" thread.")
	default:
		c.ReplyText(ctx, r, ":chart_with_upwards_trend: The last hour of Clerk's probe latency is in your direct messages with the bot.")
	}
}

// recordDiagnosis keeps what `diagnose` timed for the latency chart, each
// sample at when it was taken (the samples ran one after the other,
// ending now).
func (c *Charts) recordDiagnosis(ctx context.Context, results []probe.DiagnoseResult) {
	if c == nil || c.pictures == nil {
		return
	}
	at := c.now()
	for i := len(results) - 1; i >= 0; i-- {
		res := results[i]
		samples := make([]statuswatch.Sample, len(res.Timings))
		for j := len(res.Timings) - 1; j >= 0; j-- {
			tm := res.Timings[j]
			samples[j] = statuswatch.Sample{At: at, Ms: float64(tm.D) / float64(time.Millisecond), OK: tm.OK}
			at = at.Add(-max(tm.D, time.Millisecond))
		}
		if err := c.pictures.Record(ctx, res.Target.Name, samples); err != nil {
			c.log.WithError(err).Warn("could not keep the diagnosis for the latency chart")
			return
		}
	}
}

// reportPictures uploads the report's pictures after the report: a
// picture that fails is logged, the report stands without it.
func (c *Charts) reportPictures(ctx context.Context, inc *incident.Incident) {
	if c != nil && c.pictures != nil {
		if err := c.pictures.Report(ctx, inc); err != nil {
			c.log.WithError(err).WithField("incident", inc.ID).Warn("could not attach the report's pictures")
		}
	}
}

// statsChart sends the chart of a stats summary to the asker; a chart
// that fails is logged, the text has been answered.
func (c *Charts) statsChart(ctx context.Context, r Req, s stats.Summary) {
	if c == nil || c.pictures == nil || r.Who.ID == "" {
		return
	}
	if err := c.pictures.Stats(ctx, s, r.Who.ID); err != nil {
		c.log.WithError(err).Warn("could not send the stats chart")
		return
	}
	c.ReplyText(ctx, r, ":bar_chart: The chart of these numbers is in your direct messages with the bot.")
}
