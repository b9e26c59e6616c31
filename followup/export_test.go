package followup_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/followup"
	"github.com/clerk-incident-bot/clerk-incident-bot/github"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakegithub"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

type rig struct {
	fg    *fakegithub.Server
	fs    *incident.FollowupStore
	incs  *incident.Store
	now   time.Time
	mu    sync.Mutex
	id    string
	alice incident.Person
}

func (r *rig) clock() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }
func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func newRig(t *testing.T) *rig {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	r := &rig{fg: fakegithub.New(), now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), alice: incident.Person{ID: "U1", Name: "alice"}}
	t.Cleanup(r.fg.Close)
	r.fg.SetNow(r.clock)
	r.incs = incident.NewStore(rdb, prefix, r.clock)
	r.fs = incident.NewFollowupStore(rdb, prefix, r.clock)
	inc, err := r.incs.Open(context.Background(), incident.OpenParams{Category: incident.Outage, Title: "Sign-in failing", By: r.alice})
	if err != nil {
		t.Fatal(err)
	}
	r.id = inc.ID
	return r
}

func (r *rig) exporter(owner string) *followup.Exporter {
	c := github.New(github.Config{Token: r.fg.Token, Repo: r.fg.Repo, APIURL: r.fg.URL(), Sleep: func(context.Context, time.Duration) error { return nil }})
	return &followup.Exporter{Store: r.fs, Issues: c, Incidents: r.incs, Now: r.clock, Owner: owner, Settle: time.Minute}
}

func (r *rig) add(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if _, err := r.fs.Add(context.Background(), r.id, s, r.alice); err != nil {
			t.Fatal(err)
		}
	}
}

func outcomes(rs []followup.Result) string {
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("%d:%s", r.N, r.Outcome))
	}
	return strings.Join(s, " ")
}

// Two follow-ups exported twice are two issues, each naming the incident,
// its summary and its marker; the second export sends nothing.
func TestExportTwiceCreatesEachIssueOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.add(t, "Alert on sign-in errors", "Rotate the webhook secret")
	if _, _, err := r.fs.Done(ctx, r.id, 2, r.alice); err != nil {
		t.Fatal(err)
	}
	e := r.exporter("a")
	res, err := e.Export(ctx, r.id)
	if err != nil || outcomes(res) != "1:created 2:created" {
		t.Fatalf("first: %s %v", outcomes(res), err)
	}
	res, err = e.Export(ctx, r.id)
	if err != nil || outcomes(res) != "1:already 2:already" || res[1].URL != r.fg.IssueURL(2) {
		t.Fatalf("second: %s %+v %v", outcomes(res), res, err)
	}
	issues := r.fg.Issues()
	if len(issues) != 2 {
		t.Fatalf("%d issues", len(issues))
	}
	if issues[1].Title != "INC-1 follow-up 2 (done): Rotate the webhook secret" {
		t.Errorf("title %q", issues[1].Title)
	}
	for i, is := range issues {
		for _, want := range []string{"**INC-1**", "Sign-in failing", "- **Status:** investigating", "Back to the incident: INC-1", followup.Marker("INC-1", i+1)} {
			if !strings.Contains(is.Body, want) {
				t.Errorf("issue %d body lacks %q:\n%s", i+1, want, is.Body)
			}
		}
	}
}

// A kill -9 between create and record: the issue exists at GitHub, Redis
// still says "creating", and search does not show the issue yet. The next
// export does not create again while search may lag, and records the
// issue once search shows it.
func TestExportAfterCrashBetweenCreateAndRecordDoesNotDuplicate(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.add(t, "Alert on sign-in errors")
	marker := followup.Marker(r.id, 1)
	if _, err := r.fs.BeginExport(ctx, r.id, 1, marker); err != nil {
		t.Fatal(err)
	}
	r.fg.Create("INC-1 follow-up 1: Alert on sign-in errors", "body\n\n"+marker+"\n") // the POST that went through
	r.fg.SetSearchLag(30 * time.Second)
	e := r.exporter("restarted")
	res, _ := e.Export(ctx, r.id)
	if outcomes(res) != "1:pending" || res[0].RetryIn != time.Minute {
		t.Fatalf("during the lag: %s %+v", outcomes(res), res)
	}
	r.advance(45 * time.Second)
	res, _ = e.Export(ctx, r.id)
	if outcomes(res) != "1:found" || res[0].Number != 1 {
		t.Fatalf("after the lag: %s", outcomes(res))
	}
	if n := len(r.fg.Issues()); n != 1 {
		t.Fatalf("%d issues", n)
	}
	// Search that never catches up cannot make it create again either:
	// the record is in Redis now.
	r.fg.SetSearchLagCount(100)
	r.advance(time.Hour)
	if res, _ := e.Export(ctx, r.id); outcomes(res) != "1:already" || len(r.fg.Issues()) != 1 {
		t.Fatalf("later: %s, %d issues", outcomes(res), len(r.fg.Issues()))
	}
}

// The same crash when the POST never reached GitHub: once search has had
// time to show it and does not, the issue is created.
func TestExportAfterCrashBeforeCreateCreatesOnceSettled(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.add(t, "Alert on sign-in errors")
	if _, err := r.fs.BeginExport(ctx, r.id, 1, followup.Marker(r.id, 1)); err != nil {
		t.Fatal(err)
	}
	e := r.exporter("restarted")
	if res, _ := e.Export(ctx, r.id); outcomes(res) != "1:pending" {
		t.Fatalf("young: %s", outcomes(res))
	}
	r.advance(2 * time.Minute)
	if res, _ := e.Export(ctx, r.id); outcomes(res) != "1:created" || len(r.fg.Issues()) != 1 {
		t.Fatalf("settled: %s, %d issues", outcomes(res), len(r.fg.Issues()))
	}
}

// Two replicas exporting at once, again and again, create each issue once.
func TestConcurrentExportsDoNotDuplicate(t *testing.T) {
	r := newRig(t)
	r.add(t, "one", "two", "three")
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.exporter(fmt.Sprintf("replica-%d", i%2)+fmt.Sprint(i)).Export(context.Background(), r.id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	res, _ := r.exporter("last").Export(context.Background(), r.id)
	if outcomes(res) != "1:already 2:already 3:already" {
		t.Fatalf("after: %s", outcomes(res))
	}
	if n := len(r.fg.Issues()); n != 3 {
		t.Fatalf("%d issues, want 3", n)
	}
}

// GitHub refusing (issues disabled) fails the first, skips the rest and
// leaves nothing to look for: the next export after the fix creates at once.
func TestExportRefusedIsRetriedCleanly(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.add(t, "one", "two")
	r.fg.DisableIssues(true)
	e := r.exporter("a")
	res, _ := e.Export(ctx, r.id)
	if outcomes(res) != "1:failed 2:skipped" || !github.IsStatus(res[0].Err, 410) {
		t.Fatalf("disabled: %s %v", outcomes(res), res[0].Err)
	}
	r.fg.DisableIssues(false)
	if res, _ := e.Export(ctx, r.id); outcomes(res) != "1:created 2:created" {
		t.Fatalf("after: %s", outcomes(res))
	}
}

// A lost answer (a 502) leaves "creating": the next export looks first.
func TestExportAfterAmbiguousFailureLooksFirst(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.add(t, "one")
	r.fg.AfterCreate(func(fakegithub.Issue) {})
	r.fg.Fail(fakegithub.Failure{Method: "POST", Status: 502, Message: "Bad Gateway"}, 1)
	e := r.exporter("a")
	if res, _ := e.Export(ctx, r.id); outcomes(res) != "1:failed" {
		t.Fatalf("502: %s", outcomes(res))
	}
	f, _ := r.fs.Get(ctx, r.id, 1)
	if f.Export == nil || f.Export.State != incident.ExportCreating {
		t.Fatalf("record after 502: %+v", f.Export)
	}
	if res, _ := e.Export(ctx, r.id); outcomes(res) != "1:pending" {
		t.Fatalf("right after: %s", outcomes(res))
	}
}

// Slack text is inert on GitHub: no forged marker, no live mention.
func TestIssueBodyIsInert(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.add(t, "ping @octocat <!-- clerk-incident-bot:INC-1:followup-9 --> <b>x</b>")
	if _, err := r.exporter("a").Export(ctx, r.id); err != nil {
		t.Fatal(err)
	}
	body := r.fg.Issues()[0].Body
	if strings.Count(body, "<!--") != 1 || strings.Contains(body, "@octocat") || strings.Contains(body, "<b>") {
		t.Fatalf("body:\n%s", body)
	}
}
