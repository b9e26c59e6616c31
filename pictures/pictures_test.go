package pictures

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/chart"
	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

var t0 = time.Date(2026, 11, 30, 14, 2, 0, 0, time.UTC)

func entry(d time.Duration, who, text string) incident.Entry {
	return incident.Entry{At: t0.Add(d), Actor: incident.Person{Name: who}, Text: text}
}

// An incident as the bot writes it: the timeline lines are those publish
// and handlers record for pages, approvals and the bypass.
func sample() *incident.Incident {
	return &incident.Incident{ID: "INC-7", Title: "Sign-ins failing", Channel: "C1", CardTS: "1.1",
		OpenedAt: t0, AckedAt: t0.Add(90 * time.Second), MitigatedAt: t0.Add(25 * time.Minute), ResolvedAt: t0.Add(48 * time.Minute), Status: incident.Resolved,
		Timeline: []incident.Entry{
			entry(0, "alice", "Opened (outage, P1)"),
			entry(10*time.Second, "escalation", "Paged level 1 (Primary, business hours): alice"),
			entry(6*time.Minute, "escalation", "Re-paged (1) level 1 (Primary, business hours): alice"),
			entry(8*time.Minute, "escalation", "Escalated: paged level 2 (Secondary, any time): bob"),
			entry(12*time.Minute, "alice", "Requested emergency bypass (apr-abc123def456): turn the auth bypass on for 30m. Reason: Clerk down"),
			entry(15*time.Minute, "carol", "Approved emergency bypass (apr-abc123def456)"),
			entry(15*time.Minute+time.Second, "bot", "emergency bypass (apr-abc123def456) result: Emergency auth bypass is ON until Nov 30 14:47 UTC (30m). Apps reading GET /v1/bypass let users in without Clerk."),
			entry(40*time.Minute, "alice", "Emergency bypass turned off"),
			entry(41*time.Minute, "alice", "Denied lockout (apr-zzz999zzz999)"),
		}}
}

func TestTimelineInputReadsMilestonesPagesApprovalsAndBypass(t *testing.T) {
	in := TimelineInput(sample(), t0.Add(time.Hour))
	if in.Milestones[chartdata.Detected] != t0 || in.Milestones[chartdata.Acknowledged] != t0.Add(90*time.Second) ||
		in.Milestones[chartdata.Mitigated] != t0.Add(25*time.Minute) || in.Milestones[chartdata.Resolved] != t0.Add(48*time.Minute) {
		t.Errorf("milestones %v", in.Milestones)
	}
	wantPages := []string{"L1 Primary", "L1 Primary", "L2 Secondary"}
	if len(in.Pages) != 3 {
		t.Fatalf("pages %+v, want 3", in.Pages)
	}
	for i, w := range wantPages {
		if in.Pages[i].Label != w {
			t.Errorf("page %d: %q, want %q", i, in.Pages[i].Label, w)
		}
	}
	wantApprovals := []string{"requested emergency bypass", "approved emergency bypass by carol", "denied lockout by alice"}
	if len(in.Approvals) != 3 {
		t.Fatalf("approvals %+v, want 3", in.Approvals)
	}
	for i, w := range wantApprovals {
		if in.Approvals[i].Label != w {
			t.Errorf("approval %d: %q, want %q", i, in.Approvals[i].Label, w)
		}
	}
	if len(in.Bypass) != 1 || !in.Bypass[0].From.Equal(t0.Add(15*time.Minute+time.Second)) || !in.Bypass[0].To.Equal(t0.Add(40*time.Minute)) {
		t.Errorf("bypass %+v, want 14:17:01–14:42", in.Bypass)
	}
}

func TestTimelineInputOfAnOpenIncident(t *testing.T) {
	inc := sample()
	inc.MitigatedAt, inc.ResolvedAt, inc.Status = time.Time{}, time.Time{}, incident.Investigating
	inc.Timeline = inc.Timeline[:7] // the bypass is still on
	in := TimelineInput(inc, t0.Add(30*time.Minute))
	if _, ok := in.Milestones[chartdata.Mitigated]; ok {
		t.Error("an unmitigated incident has a mitigated milestone")
	}
	if _, ok := in.Milestones[chartdata.Resolved]; ok {
		t.Error("an open incident has a resolved milestone")
	}
	if len(in.Bypass) != 1 || !in.Bypass[0].To.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("open bypass %+v, want it to run to now", in.Bypass)
	}
}

type upload struct{ where, name, content string }

type files struct{ got []upload }

func (f *files) UploadFile(_ context.Context, inc *incident.Incident, name, _, content, _ string) error {
	f.got = append(f.got, upload{inc.ID, name, content})
	return nil
}

func (f *files) UploadToUser(_ context.Context, user, name, _, content, _ string) error {
	f.got = append(f.got, upload{user, name, content})
	return nil
}

type samples []statuswatch.TargetSamples

func (s samples) Range(_ context.Context, from, to time.Time) ([]statuswatch.TargetSamples, error) {
	var out []statuswatch.TargetSamples
	for _, ts := range s {
		c := statuswatch.TargetSamples{Target: ts.Target}
		for _, smp := range ts.Samples {
			if !smp.At.Before(from) && !smp.At.After(to) {
				c.Samples = append(c.Samples, smp)
			}
		}
		if len(c.Samples) > 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

// Add is not used by these tests: the samples are given.
func (s samples) Add(context.Context, string, statuswatch.Sample) error {
	return errors.New("these samples are read only")
}

func isPNG(t *testing.T, content string) {
	t.Helper()
	if _, err := png.Decode(bytes.NewReader([]byte(content))); err != nil {
		t.Errorf("not a PNG: %v", err)
	}
}

func TestReportUploadsTimelineAndLatencyWhenProbesRan(t *testing.T) {
	now := func() time.Time { return t0.Add(2 * time.Hour) }
	var ss statuswatch.TargetSamples
	ss.Target = "Backend API GET /jwks"
	for i := range 90 {
		ss.Samples = append(ss.Samples, statuswatch.Sample{At: t0.Add(time.Duration(i-20) * time.Minute), Ms: 150, OK: i < 30 || i > 40})
	}
	f := &files{}
	if err := New(inProcess{}, f, samples{ss}, 2*time.Second, now).Report(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	if len(f.got) != 2 || f.got[0].name != "INC-7-timeline.png" || f.got[1].name != "INC-7-latency.png" || f.got[0].where != "INC-7" {
		t.Fatalf("uploads %+v, want the timeline then the latency into INC-7", f.got)
	}
	isPNG(t, f.got[0].content)
	isPNG(t, f.got[1].content)

	// Without probes, the timeline alone.
	f = &files{}
	if err := New(inProcess{}, f, nil, 2*time.Second, now).Report(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	if len(f.got) != 1 || f.got[0].name != "INC-7-timeline.png" {
		t.Fatalf("uploads %+v, want the timeline only", f.got)
	}
}

func TestLastHourGoesToTheThreadOrTheUser(t *testing.T) {
	now := func() time.Time { return t0 }
	ss := statuswatch.TargetSamples{Target: "Frontend API GET /v1/client"}
	for i := range 30 {
		ss.Samples = append(ss.Samples, statuswatch.Sample{At: t0.Add(-time.Duration(i) * time.Minute), Ms: 80, OK: true})
	}
	f := &files{}
	p := New(inProcess{}, f, samples{ss}, 2*time.Second, now)
	if err := p.LastHour(context.Background(), nil, "U1"); err != nil {
		t.Fatal(err)
	}
	if err := p.LastHour(context.Background(), sample(), "U1"); err != nil {
		t.Fatal(err)
	}
	if len(f.got) != 2 || f.got[0].where != "U1" || f.got[1].where != "INC-7" {
		t.Fatalf("uploads %+v, want the user's DM then the incident's thread", f.got)
	}
	isPNG(t, f.got[0].content)
	// Samples older than the hour do not count.
	old := New(inProcess{}, f, samples{ss}, 2*time.Second, func() time.Time { return t0.Add(3 * time.Hour) })
	if err := old.LastHour(context.Background(), nil, "U1"); !errors.Is(err, ErrNoSamples) {
		t.Errorf("no samples in the hour: %v, want ErrNoSamples", err)
	}
	if err := New(inProcess{}, f, nil, time.Second, now).LastHour(context.Background(), nil, "U1"); !errors.Is(err, ErrNoSamples) {
		t.Errorf("no probes: %v, want ErrNoSamples", err)
	}
}

// inProcess draws in the test's process (the bot runs chart's program).
type inProcess struct{}

func (inProcess) Draw(_ context.Context, req chartdata.Request) ([]byte, error) {
	return chart.Draw(req)
}

// Charts asked for at once are drawn one slot at a time: with one slot,
// a program that refuses to run beside another copy of itself is never
// run twice at once, and every request is drawn.
func TestChartProgramsRunWithinTheirSlots(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "chart")
	script := "#!/bin/sh\nmkdir " + dir + "/running 2>/dev/null || { echo 'two at once' >&2; exit 9; }\ncat >/dev/null\nsleep 0.1\nrmdir " + dir + "/running\nprintf 'PNG'\n"
	if err := os.WriteFile(prog, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	draw := NewProcess(prog, 1)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			out, err := draw.Draw(context.Background(), chartdata.Request{Latency: &chartdata.Latency{}})
			if err == nil && string(out) != "PNG" {
				err = fmt.Errorf("drew %q", out)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// A request whose context ends while it waits for a slot gives up.
	busy := NewProcess(prog, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := busy.Draw(ctx, chartdata.Request{Latency: &chartdata.Latency{}}); err == nil {
		t.Fatal("a cancelled request was drawn")
	}
}
