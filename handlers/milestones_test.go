package handlers

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// `milestone` corrects detected and mitigated with a thread line and an
// audit entry; each bad input gets its own reason and changes nothing;
// an outsider is refused; `stats` is a read anyone may run, measured
// from the corrected milestones.
func TestMilestoneAndStatsCommands(t *testing.T) {
	rdb, _ := redistest.Client(t)
	prefix := redistest.Prefix()
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.Unlimited()
	fs.AddUser("U1", "alice")
	fs.AddUser("U3", "carol")
	out := bot.NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	log := logrus.New()
	log.SetOutput(io.Discard)
	rb, err := incident.LoadRunbook("embedded", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	c := &testClock{t: time.Date(2026, 11, 25, 3, 2, 0, 0, time.UTC)}
	stores := incident.NewStores(rdb, prefix, c.now)
	store := stores.Incidents
	pub := publish.New(publish.Deps{Store: publish.Stores{Incidents: store, Stale: stores.Outbox, Renders: stores.Outbox, Lines: stores.Outbox, Locks: stores.Markers},
		Slack: out, Lookups: publish.Lookups{Groups: out}, Runbook: rb, Channel: "C1", Log: log, Now: c.now})
	auth := NewAuthorizer([]string{"U1"}, out, time.Minute, c.now)
	al := audit.New(rdb, prefix, log, c.now)
	h := wire(wiring{stores: stores, out: out, pub: pub, rb: rb, auth: auth, log: log, audit: al, now: c.now,
		approvals: approval.NewStore(rdb, prefix, 10*time.Minute, c.now), bypass: bypass.NewStore(rdb, prefix, c.now)})
	ctx := context.Background()
	run := func(user, text string, want ...string) {
		t.Helper()
		h.Command(ctx, bot.Command{Text: text, UserID: user, ChannelID: "C1"})
		fs.ExpectEphemeral(t, user, want...)
	}
	run("U1", "open outage P1 Sign-in failing", "Opened *INC-1*")
	c.add(90 * time.Second)
	run("U1", "ack", "INC-1")
	c.add(10 * time.Minute)
	run("U1", "mitigated Switched to backup", "INC-1 is mitigated")
	before, _ := store.Get(ctx, "INC-1")

	for _, tc := range []struct{ text, want string }{
		{"milestone detected", "Say which milestone (detected or mitigated) and the time"},
		{"milestone acknowledged 03:00", `"acknowledged" cannot be corrected`},
		{"milestone detected 25:00", "Not changed: \"25:00\" is not a time of day"},
		{"milestone detected noon", "Not changed: \"noon\" is not a time; give HH:MM in UTC"},
		{"milestone detected 03:05", "Not changed: detected can be no later than the open (2026-11-25 03:02 UTC)"},
		{"milestone mitigated 03:00", "Not changed: mitigated can be no earlier than detected (2026-11-25 03:02 UTC)"},
		{"milestone detected 2026-11-15 03:00", "Not changed: detected can be at most 7 days before the open"},
		{"milestone detected 03:02", "detected is already 2026-11-25 03:02 UTC; nothing changed"},
	} {
		run("U1", tc.text, tc.want)
	}
	run("U3", "milestone detected 02:55", ":no_entry: Only")
	if after, _ := store.Get(ctx, "INC-1"); after.Version != before.Version || len(after.Timeline) != len(before.Timeline) {
		t.Fatalf("a refused correction changed the incident: version %d → %d", before.Version, after.Version)
	}

	// 05:55 at +02:00 is 03:55 UTC... too late; 04:55 +02:00 is 02:55 UTC.
	run("U1", "milestone INC-1 detected 04:55 +02:00", "detected of INC-1 is now 2026-11-25 02:55 UTC. Time to acknowledge: 8 minutes 30 seconds. Time to mitigate: 18 minutes 30 seconds.")
	lines, _ := rdb.LRange(ctx, prefix+"lines:C1", 0, -1).Result()
	if !strings.Contains(strings.Join(lines, "\n"), "corrected *detected* to 2026-11-25 02:55 UTC") {
		t.Errorf("no thread line for the correction: %q", lines)
	}
	entries, _ := al.Recent(ctx, "INC-1", 5)
	if len(entries) == 0 || entries[0].Action != "milestone" || !strings.Contains(entries[0].Detail, "04:55 +02:00") {
		t.Errorf("the correction is not audited: %+v", entries)
	}

	c.add(20 * time.Minute)
	run("U1", "resolve Clerk recovered", "INC-1")
	// stats: a read anyone may run, from the corrected detection.
	run("U3", "stats", "*Incidents, last 30 days*", "*MTTA* (detection to acknowledgement): p50 8 minutes 30 seconds", "*MTTR* (detection to resolve): p50 38 minutes 30 seconds")
	run("U3", "stats 90d", "*Incidents, last 90 days*")
	run("U3", "stats 7d", `"7d" is not a period; use 30d or 90d.`)
	run("U3", "stats INC-1", "INC-1")

	// The report: durations from the corrected milestones, Impact from
	// the affected accounts recorded.
	if err := stores.Affected.AddAffected(ctx, "INC-1", []incident.AffectedUser{{ID: "user_1"}, {ID: "user_2"}}, "added by hand", incident.Person{ID: "U1"}); err != nil {
		t.Fatal(err)
	}
	run("U1", "postmortem INC-1", "The report for INC-1")
	report := fs.ExpectFile(t, "C1", "# Incident Report").Content
	for _, want := range []string{"- **Detected:** 02:55 UTC", "- **Time to acknowledge:** 8 minutes 30 seconds\n", "- **Time to mitigate:** 18 minutes 30 seconds\n",
		"- **Duration:** 38 minutes 30 seconds\n", "- **Impact:** 2 affected accounts\n"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
