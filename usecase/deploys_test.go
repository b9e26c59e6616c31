package usecase_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakevercel"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// deploysOnVercel is a project whose production is dpl_now, with an
// older good one, a staged one, a failed one and a preview between.
func deploysOnVercel(t *testing.T, now time.Time) usecase.Deployments {
	t.Helper()
	fv := fakevercel.New()
	t.Cleanup(fv.Close)
	fv.SetNow(func() time.Time { return now })
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_good", Created: now.Add(-5 * time.Hour), SHA: "aaaaaaa1", Message: "Good", Author: "alice"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_failed", Created: now.Add(-4 * time.Hour), State: "ERROR", SHA: "bbbbbbb2"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_staged", Created: now.Add(-3 * time.Hour), Staged: true, SHA: "ccccccc3"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_preview", Created: now.Add(-2 * time.Hour), Target: "preview"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_now", Created: now.Add(-30 * time.Minute), SHA: "ddddddd4", Message: "Change <matcher>\n\nbody", Author: "bob"})
	return usecase.Deployments{Vercel: vercel.New(vercel.Config{Token: fv.Token, Project: fv.Project, APIURL: fv.URL()})}
}

// A rollback's plan names both ends, or why none is asked for, as data.
func TestPlanRollbackPicksBothEndsOrSaysWhyNot(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	d := deploysOnVercel(t, now)
	ctx := context.Background()
	for target, want := range map[string]struct {
		refused usecase.RollbackRefusal
		to      string
	}{
		usecase.PreviousDeploy: {"", "dpl_good"}, // never the staged or the failed one
		"dpl_good":             {"", "dpl_good"},
		"dpl_now":              {usecase.DeployServesNow, "dpl_now"},
		"dpl_failed":           {usecase.DeployNotReady, "dpl_failed"},
		"dpl_staged":           {usecase.DeployNeverServed, "dpl_staged"},
		"dpl_preview":          {usecase.DeployNotListed, ""}, // not a production deployment
		"dpl_nowhere":          {usecase.DeployNotListed, ""},
	} {
		plan, err := d.PlanRollback(ctx, "U1", "INC-1", target)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if plan.Refused != want.refused || plan.To.ID != want.to || plan.From.ID != "dpl_now" {
			t.Errorf("%s: plan %+v, want refused %q to %q from dpl_now", target, plan, want.refused, want.to)
		}
	}
	list, err := d.List(ctx, "U1", 5)
	if err != nil {
		t.Fatal(err)
	}
	if list.Production != "dpl_now" || len(list.Deploys) != 4 || list.Deploys[0].ID != "dpl_now" || list.Deploys[0].Message != "Change <matcher>" || list.Moving != nil {
		t.Errorf("list: %+v", list)
	}
}

// The deploy note names the newest deploy in the two hours before the
// open, escapes what the commit says, and ticks with a short "what".
func TestDeployNoteNamesTheDeployBeforeTheOpen(t *testing.T) {
	opened := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	inc := &incident.Incident{ID: "INC-4", OpenedAt: opened}
	deps := []usecase.Deploy{
		{ID: "dpl_after", Status: "READY", At: opened.Add(time.Minute), SHA: "eeeeeee"},
		{ID: "dpl_b", Status: "READY", At: opened.Add(-12 * time.Minute), SHA: "bbbbbbb", Message: "Fix <!channel>", Author: "mallory"},
		{ID: "dpl_a", Status: "READY", At: opened.Add(-90 * time.Minute), SHA: "aaaaaaa"},
		{ID: "dpl_old", Status: "READY", At: opened.Add(-5 * time.Hour)},
	}
	text, what := usecase.DeployNote(inc, deps)
	for _, want := range []string{"landed 12 min before INC-4 opened", "commit `bbbbbbb` Fix &lt;!channel&gt;", "by mallory (`dpl_b`, READY)", "1 more in the 2 hours before"} {
		if !strings.Contains(text, want) {
			t.Errorf("note lacks %q: %s", want, text)
		}
	}
	if what != "the deploy check (deploy bbbbbbb 12 min before)" {
		t.Errorf("what: %q", what)
	}
	text, what = usecase.DeployNote(inc, deps[3:])
	if !strings.Contains(text, "No production deploy of the app in the 2 hours before INC-4 opened (the last, `without commit`, landed 5 h before).") ||
		what != "the deploy check (no production deploy in the 2 h before)" {
		t.Errorf("quiet note: %q / %q", text, what)
	}
}
