package pictures

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/stats"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// Files puts files in Slack (the publisher). Content is the file's bytes
// in a string: a PNG goes through as is.
type Files interface {
	UploadFile(ctx context.Context, inc *incident.Incident, name, title, content, comment string) error
	UploadToUser(ctx context.Context, user, name, title, content, comment string) error
}

// Samples are the probes' recent timings (statuswatch.Samples).
type Samples interface {
	Range(ctx context.Context, from, to time.Time) ([]statuswatch.TargetSamples, error)
	Add(ctx context.Context, target string, smp statuswatch.Sample) error
}

// ErrNoSamples means no probe ran in the window: the poller is off, or
// no Clerk key is set, or samples are older than their 24 h.
var ErrNoSamples = errors.New("no probe samples in that window")

// Pictures draws charts and uploads them.
type Pictures struct {
	draw    Drawer
	files   Files
	samples Samples // nil: nothing times Clerk
	slow    time.Duration
	now     func() time.Time
}

// New builds Pictures; samples may be nil (no probes), slow is
// CLERK_PROBE_SLOW.
func New(draw Drawer, files Files, samples Samples, slow time.Duration, now func() time.Time) *Pictures {
	return &Pictures{draw: draw, files: files, samples: samples, slow: slow, now: now}
}

// Report uploads the incident's timeline into its thread and, when
// probes ran during it, Clerk's latency over the incident.
func (p *Pictures) Report(ctx context.Context, inc *incident.Incident) error {
	tl := TimelineInput(inc, p.now())
	png, err := p.draw.Draw(ctx, chartdata.Request{Timeline: &tl})
	if err != nil {
		return fmt.Errorf("draw the timeline of %s: %w", inc.ID, err)
	}
	if err := p.files.UploadFile(ctx, inc, inc.ID+"-timeline.png", "Timeline of "+inc.ID, string(png), ""); err != nil {
		return fmt.Errorf("upload the timeline of %s: %w", inc.ID, err)
	}
	end := inc.ResolvedAt
	if end.IsZero() {
		end = p.now()
	}
	// A margin each side shows what "normal" looked like.
	png, err = p.latency(ctx, "Clerk probe latency during "+inc.ID, inc.OpenedAt.Add(-15*time.Minute), end.Add(15*time.Minute))
	if errors.Is(err, ErrNoSamples) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := p.files.UploadFile(ctx, inc, inc.ID+"-latency.png", "Clerk latency during "+inc.ID, string(png), ""); err != nil {
		return fmt.Errorf("upload the latency of %s: %w", inc.ID, err)
	}
	return nil
}

// LastHour uploads Clerk's probe latency over the last hour into the
// incident's thread, or, without an incident, into user's direct
// message (the command's reply is ephemeral and cannot carry a file).
func (p *Pictures) LastHour(ctx context.Context, inc *incident.Incident, user string) error {
	now := p.now()
	png, err := p.latency(ctx, "Clerk probe latency, last hour", now.Add(-time.Hour), now)
	if err != nil {
		return err
	}
	name := "clerk-latency-" + now.UTC().Format("20060102-1504") + ".png"
	if inc != nil && inc.Channel != "" {
		return p.files.UploadFile(ctx, inc, name, "Clerk latency, last hour", string(png), "")
	}
	return p.files.UploadToUser(ctx, user, name, "Clerk latency, last hour", string(png), "")
}

// Record keeps timings taken by hand (`diagnose`) beside the probes', so
// the last hour's chart shows what was just measured.
func (p *Pictures) Record(ctx context.Context, target string, samples []statuswatch.Sample) error {
	if p.samples == nil {
		return nil
	}
	for _, s := range samples {
		if err := p.samples.Add(ctx, target, s); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pictures) latency(ctx context.Context, title string, from, to time.Time) ([]byte, error) {
	if p.samples == nil {
		return nil, ErrNoSamples
	}
	got, err := p.samples.Range(ctx, from, to)
	if err != nil {
		return nil, err
	}
	in := chartdata.Latency{Title: title, From: from, To: to, Slow: p.slow}
	for _, ts := range got {
		s := chartdata.Series{Name: ts.Target}
		for _, smp := range ts.Samples {
			s.Samples = append(s.Samples, chartdata.Sample{At: smp.At, Ms: smp.Ms, OK: smp.OK})
		}
		in.Series = append(in.Series, s)
	}
	png, err := p.draw.Draw(ctx, chartdata.Request{Latency: &in})
	if errors.Is(err, chartdata.ErrNoData) {
		return nil, ErrNoSamples
	}
	return png, err
}

// Stats uploads a chart of a `stats` summary into user's direct message
// (the command's reply is ephemeral and cannot carry a file): incidents
// by category, and MTTA/MTTR p50/p90 beside them when any were measured.
func (p *Pictures) Stats(ctx context.Context, s stats.Summary, user string) error {
	in := chartdata.Stats{Title: fmt.Sprintf("Incidents, last %d days", s.Period.Days)}
	for _, c := range s.ByCategory {
		in.Counts = append(in.Counts, chartdata.Count{Label: c.Name, N: c.N})
	}
	for _, d := range []struct {
		label string
		p     stats.Percentiles
	}{{"MTTA", s.MTTA}, {"MTTR", s.MTTR}} {
		if d.p.N > 0 {
			in.Durations = append(in.Durations, chartdata.Duration{Label: d.label + " p50", D: d.p.P50}, chartdata.Duration{Label: d.label + " p90", D: d.p.P90})
		}
	}
	png, err := p.draw.Draw(ctx, chartdata.Request{Stats: &in})
	if err != nil {
		return fmt.Errorf("draw the stats chart: %w", err)
	}
	name := fmt.Sprintf("incident-stats-%dd-%s.png", s.Period.Days, p.now().UTC().Format("20060102"))
	return p.files.UploadToUser(ctx, user, name, in.Title, string(png), "")
}
