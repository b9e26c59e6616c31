package incident_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func clockedStore(t *testing.T, start time.Time) (*incident.Store, *clock) {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	c := &clock{t: start}
	return incident.NewStore(rdb, prefix, c.now), c
}

func mustContain(t *testing.T, md string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q:\n%s", w, md)
		}
	}
}

// The acceptance: opened, acknowledged 90 s later, mitigated and
// resolved gives those durations exactly; `milestone` corrections move
// them, and the timeline shows the milestones in time order.
func TestReportDurationsFromMilestones(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 3, 2, 0, 0, time.UTC)
	s, c := clockedStore(t, t0)
	alice := incident.Person{ID: "U1", Name: "Alice"}
	bob := incident.Person{ID: "U2", Name: "Bob"}
	inc, err := s.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "Sign-in failing", By: alice})
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration, m incident.Mutation) {
		t.Helper()
		c.add(d)
		if _, err := s.Update(ctx, inc.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	step(90*time.Second, incident.Ack(bob))
	step(12*time.Minute+30*time.Second, incident.Mitigate(bob, "Switched to the backup instance")) // 03:16:00
	step(44*time.Minute+15*time.Second, incident.Resolve(alice, "Clerk fixed it"))                 // 04:00:15
	got, _ := s.Get(ctx, inc.ID)
	md, _ := incident.ReportWith(got, c.now().Add(time.Hour), incident.ReportFacts{Affected: 3})
	mustContain(t, md,
		"- **Detected:** 03:02 UTC, when opened (Alice)\n",
		"- **Time to acknowledge:** 1 minute 30 seconds\n",
		"- **Time to mitigate:** 14 minutes\n",
		"- **Duration:** 58 minutes 15 seconds\n",
		"- **Impact:** 3 affected accounts\n",
		"- 03:02 - **Incident detected**: Incident opened: Sign-in failing (outage, P1) (Alice)\n"+
			"- 03:03 - **Initial response**: Acknowledged; now leading the response (Bob)\n"+
			"- 03:16 - Mitigation applied: Switched to the backup instance (Bob)\n"+
			"- 04:00 - Resolution confirmed: Clerk fixed it (Alice)\n",
	)

	// Corrections: detected 10 minutes earlier (02:52), mitigated at 03:10.
	c.add(time.Hour)
	carol := incident.Person{ID: "U3", Name: "Carol"}
	at, err := incident.ParseMilestoneTime("02:52", got.OpenedAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, inc.ID, incident.CorrectMilestone(carol, incident.MilestoneDetected, at)); err != nil {
		t.Fatal(err)
	}
	at, _ = incident.ParseMilestoneTime("03:10", got.OpenedAt)
	if _, err := s.Update(ctx, inc.ID, incident.CorrectMilestone(carol, incident.MilestoneMitigated, at)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, inc.ID)
	md, _ = incident.Report(got, c.now())
	mustContain(t, md,
		"- **Detected:** 02:52 UTC, when opened (Alice) (corrected by Carol; was 03:02)\n",
		"- **Time to acknowledge:** 11 minutes 30 seconds\n",
		"- **Time to mitigate:** 18 minutes\n",
		"- **Duration:** 1 hour 8 minutes 15 seconds\n",
		"- **Impact:** unknown (no affected accounts recorded)\n",
		"- 02:52 - **Incident detected**: Incident opened: Sign-in failing (outage, P1) (corrected by Carol; was 03:02) (Alice)\n"+
			"- 03:03 - **Initial response**: Acknowledged; now leading the response (Bob)\n"+
			"- 03:10 - Mitigation applied: Switched to the backup instance (corrected by Carol; was 03:16) (Bob)\n"+
			"- 04:00 - Resolution confirmed: Clerk fixed it (Alice)\n",
		"- 05:00 - Milestone detected corrected: 2026-11-25 02:52 UTC (was 2026-11-25 03:02 UTC) (Carol)\n",
	)
}

// A first signal before the open (the status poller's first failing
// poll) is the detection, with its source; durations run from it.
func TestDetectedFromAnEarlierSignal(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 3, 2, 0, 0, time.UTC)
	s, c := clockedStore(t, t0)
	poller := incident.Person{Name: "status poller"}
	inc, err := s.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "Clerk: sign-in degraded", By: poller,
		Detected: t0.Add(-2 * time.Minute), Source: incident.SourceStatusPage})
	if err != nil {
		t.Fatal(err)
	}
	c.add(time.Minute)
	if _, err := s.Update(ctx, inc.ID, incident.Ack(incident.Person{ID: "U2", Name: "Bob"})); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, inc.ID)
	md, _ := incident.Report(got, c.now())
	mustContain(t, md,
		"- **Detected:** 03:00 UTC, first signal: status page (status poller)\n",
		"- **Time to acknowledge:** 3 minutes\n",
		"- **Duration:** 3 minutes (still open)\n",
		"- 03:00 - **Incident detected** (status page) (status poller)\n- 03:02 - Incident opened: Clerk: sign-in degraded (outage, P1) (status poller)\n",
	)
	// A signal "from the future" (a skewed clock) is the open itself.
	inc2, _ := s.Open(ctx, incident.OpenParams{Category: incident.Webhook, By: poller, Detected: c.now().Add(time.Hour), Source: incident.SourceProbe})
	if d := inc2.Timings().Detected; !d.At.Equal(c.now()) || d.Source != incident.SourceProbe {
		t.Fatalf("detected = %+v", d)
	}
}

// An incident stored before milestones existed (no "milestones" in its
// JSON) still gets its durations, derived from its fields and timeline.
func TestOldIncidentWithoutMilestones(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	alice := incident.Person{ID: "U1", Name: "Alice"}
	inc := &incident.Incident{ID: "INC-1", Title: "Old", Category: incident.Outage, Severity: incident.P2, Status: incident.Resolved,
		OpenedBy: alice, OpenedAt: t0, AckedBy: &alice, AckedAt: t0.Add(2 * time.Minute),
		MitigatedAt: t0.Add(20 * time.Minute), ResolvedAt: t0.Add(time.Hour), ResolvedBy: &alice,
		Timeline: []incident.Entry{
			{At: t0, Actor: alice, Text: "Incident opened: Old (outage, P2)"},
			{At: t0.Add(2 * time.Minute), Actor: alice, Text: "Acknowledged; now leading the response"},
			{At: t0.Add(20 * time.Minute), Actor: alice, Text: "Mitigation applied"},
			{At: t0.Add(time.Hour), Actor: alice, Text: "Resolution confirmed"},
		}}
	md, _ := incident.Report(inc, t0.Add(2*time.Hour))
	mustContain(t, md, "- **Time to acknowledge:** 2 minutes\n", "- **Time to mitigate:** 20 minutes\n", "- **Duration:** 1 hour 0 minutes\n",
		"- 09:20 - **Mitigation applied** (Alice)\n")
	if strings.Count(md, "Mitigation applied") != 1 {
		t.Errorf("the mitigation is said twice:\n%s", md)
	}
}

// Every broken rule is refused with its own reason and changes nothing.
func TestCorrectMilestoneRules(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 3, 2, 0, 0, time.UTC)
	s, c := clockedStore(t, t0)
	alice := incident.Person{ID: "U1", Name: "Alice"}
	inc, _ := s.Open(ctx, incident.OpenParams{Category: incident.Outage, By: alice})
	c.add(10 * time.Minute) // now 03:12
	for _, tc := range []struct {
		kind string
		at   time.Time
		want string
	}{
		{incident.MilestoneMitigated, t0, "not mitigated yet"},
		{incident.MilestoneDetected, t0.Add(time.Minute), "no later than the open"},
		{incident.MilestoneDetected, t0.Add(time.Hour), "in the future"},
		{incident.MilestoneDetected, t0.Add(-8 * 24 * time.Hour), "at most 7 days before the open"},
		{incident.MilestoneDetected, t0, "already"},
		{incident.MilestoneAcknowledged, t0, "only detected and mitigated"},
	} {
		_, err := s.Update(ctx, inc.ID, incident.CorrectMilestone(alice, tc.kind, tc.at))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: err = %v, want %q", tc.kind, tc.at.Format("15:04"), err, tc.want)
		}
	}
	if _, err := s.Update(ctx, inc.ID, incident.Mitigate(alice, "")); err != nil { // 03:12
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, inc.ID, incident.CorrectMilestone(alice, incident.MilestoneDetected, t0.Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	_, err := s.Update(ctx, inc.ID, incident.CorrectMilestone(alice, incident.MilestoneMitigated, t0.Add(-2*time.Minute)))
	if err == nil || !strings.Contains(err.Error(), "no earlier than detected (2026-11-25 03:01 UTC)") || apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("mitigated before detected: %v", err)
	}
	got, _ := s.Get(ctx, inc.ID)
	if m := got.Timings(); !m.Detected.At.Equal(t0.Add(-time.Minute)) || !m.Mitigated.At.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("milestones = %+v %+v", m.Detected, m.Mitigated)
	}
	if n := len(got.Timeline); n != 3 { // opened, mitigated, one correction
		t.Fatalf("timeline has %d entries: %+v", n, got.Timeline)
	}
}

func TestParseMilestoneTime(t *testing.T) {
	near := time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"23:50":             "2026-11-24T23:50:00Z", // nearest: last night
		"00:10":             "2026-11-25T00:10:00Z",
		"9:05 UTC":          "2026-11-25T09:05:00Z",
		"01:00 +02:00":      "2026-11-24T23:00:00Z",
		"19:00 -0500":       "2026-11-25T00:00:00Z",
		"2026-11-20 14:05":  "2026-11-20T14:05:00Z",
		"2026-11-20T14:05Z": "2026-11-20T14:05:00Z",
	} {
		got, err := incident.ParseMilestoneTime(in, near)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("%q = %s, %v; want %s", in, got.Format(time.RFC3339), err, want)
		}
	}
	for _, in := range []string{"", "25:00", "12:60", "noon", "12:00 CET", "2026-02-30 10:00", "12:00 +15:00"} {
		if _, err := incident.ParseMilestoneTime(in, near); !errors.Is(err, incident.ErrMilestoneTime) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
}

// Resolving adds the incident to the resolved index with its resolve
// time; incidents resolved before the index existed are added once by
// the backfill; ListResolved reads one period.
func TestResolvedIndexAndBackfill(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rdb, prefix := redistest.Client(t)
	c := &clock{t: t0}
	s := incident.NewStore(rdb, prefix, c.now)
	alice := incident.Person{ID: "U1", Name: "Alice"}
	var ids []string
	for i := range 4 {
		inc, err := s.Open(ctx, incident.OpenParams{Category: incident.Outage, By: alice, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
		c.add(24 * time.Hour)
		if i < 3 {
			if _, err := s.Update(ctx, inc.ID, incident.Resolve(alice, "")); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Simulate incidents resolved by the code before the index: drop it.
	rdb.Del(ctx, prefix+"incidents:resolved")
	added, err := s.Backfill(ctx)
	if err != nil || added != 3 {
		t.Fatalf("backfill added %d, %v", added, err)
	}
	if again, _ := s.Backfill(ctx); again != 0 {
		t.Fatalf("the backfill ran twice (%d)", again)
	}
	// Resolved on days 1, 2, 3; the window [day 2, day 3 - 1 ms] holds INC-2.
	got, err := s.ListResolved(ctx, t0.Add(48*time.Hour), t0.Add(72*time.Hour-time.Millisecond))
	if err != nil || len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("resolved in window = %v, %v", got, err)
	}
	all, _ := s.ListResolved(ctx, t0, c.now())
	if len(all) != 3 {
		t.Fatalf("resolved = %d", len(all))
	}
	if n, _ := rdb.ZCard(ctx, prefix+"incidents:resolved").Result(); n != 3 {
		t.Fatalf("index holds %d", n)
	}
}
