package vercel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakevercel"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

func setup(t *testing.T) (*fakevercel.Server, *vercel.Client, *[]vercel.Call) {
	t.Helper()
	fv := fakevercel.New()
	t.Cleanup(fv.Close)
	var calls []vercel.Call
	c := vercel.New(vercel.Config{Token: fv.Token, Project: fv.Project, APIURL: fv.URL(), OnCall: func(_ context.Context, c vercel.Call) { calls = append(calls, c) }})
	return fv, c, &calls
}

func TestDeploymentsPagesThroughProductionOnly(t *testing.T) {
	fv, c, calls := setup(t)
	base := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for i := range 150 {
		fv.AddDeployment(fakevercel.Deployment{UID: fmt.Sprintf("dpl_%03d", i), Created: base.Add(time.Duration(i) * time.Minute), SHA: fmt.Sprintf("%040d", i), Message: fmt.Sprintf("commit %d\nbody", i), Author: "alice"})
	}
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_preview", Created: base.Add(time.Hour * 10), Target: "preview"})
	got, err := c.Deployments(context.Background(), 120)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 120 || got[0].UID != "dpl_149" || got[119].UID != "dpl_030" {
		t.Fatalf("got %d, first %s, last %s", len(got), got[0].UID, got[len(got)-1].UID)
	}
	if got[0].SHA() != "0000000" || got[0].Message() != "commit 149" || got[0].Author() != "alice" || got[0].Status() != "READY" {
		t.Fatalf("deployment read as %q %q %q %q", got[0].SHA(), got[0].Message(), got[0].Author(), got[0].Status())
	}
	if len(*calls) != 2 || (*calls)[0].Route != "/v6/deployments" || (*calls)[0].Status != 200 {
		t.Fatalf("calls %+v", *calls)
	}
}

func TestTeamIDIsSentOnEveryCall(t *testing.T) {
	fv := fakevercel.New()
	t.Cleanup(fv.Close)
	fv.Team = "team_abc"
	without := vercel.New(vercel.Config{Token: fv.Token, Project: fv.Project, APIURL: fv.URL()})
	if _, err := without.Project(context.Background()); !vercel.IsStatus(err, http.StatusForbidden) || !strings.Contains(err.Error(), "VERCEL_TEAM_ID") {
		t.Fatalf("without teamId: %v", err)
	}
	with := vercel.New(vercel.Config{Token: fv.Token, Project: fv.Project, Team: "team_abc", APIURL: fv.URL()})
	if _, err := with.Project(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := with.Envs(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsAreSentencesThatSayWhatToDo(t *testing.T) {
	fv, c, _ := setup(t)
	reset := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		status int
		want   string
	}{
		{401, "set VERCEL_TOKEN"},
		{402, "use `rollback previous`"},
		{403, "set VERCEL_TEAM_ID"},
		{409, "Run `deploys` to see what serves production"},
		{422, "Pick one from `deploys`"},
		{429, "resets at 10:30:00 UTC"},
	} {
		fv.Fail("", "/v9/projects", tc.status, "some_code", "Some message.", 1, reset)
		_, err := c.Project(context.Background())
		var ve *vercel.Error
		if !errors.As(err, &ve) || ve.Status != tc.status || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), fv.Token) {
			t.Errorf("%d: %v", tc.status, err)
		}
	}
	bad := vercel.New(vercel.Config{Token: "wrong", Project: fv.Project, APIURL: fv.URL()})
	if _, err := bad.Envs(context.Background()); !vercel.IsStatus(err, 401) {
		t.Fatalf("wrong token: %v", err)
	}
}

func TestEnvValuesAreReadOneByOneAndSensitiveNever(t *testing.T) {
	fv, c, _ := setup(t)
	fv.AddEnv(fakevercel.Env{Key: "CLERK_SECRET_KEY", Value: "sk_live_abc", Type: "encrypted", Updated: time.Now()})
	fv.AddEnv(fakevercel.Env{Key: "CLERK_WEBHOOK_SIGNING_SECRET", Value: "whsec_abc", Type: "sensitive", Target: []string{"production", "preview"}, Updated: time.Now()})
	envs, err := c.Envs(context.Background())
	if err != nil || len(envs) != 2 {
		t.Fatalf("%v %v", envs, err)
	}
	v, err := c.Value(context.Background(), envs[0])
	if err != nil || v != "sk_live_abc" {
		t.Fatalf("value %q %v", v, err)
	}
	if !envs[1].Target.Has("preview") || !envs[1].Sensitive() {
		t.Fatalf("env %+v", envs[1])
	}
	// Even asked directly, a sensitive variable has no value.
	envs[1].Type = "encrypted"
	if _, err := c.Value(context.Background(), envs[1]); !errors.Is(err, vercel.ErrSensitive) {
		t.Fatalf("sensitive read: %v", err)
	}
}

func TestRollbackIsFollowedUntilItsJobEnds(t *testing.T) {
	for _, final := range []string{"succeeded", "failed"} {
		t.Run(final, func(t *testing.T) {
			fv, c, _ := setup(t)
			now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
			fv.SetNow(func() time.Time { return now })
			fv.AddDeployment(fakevercel.Deployment{UID: "dpl_old", Created: now.Add(-2 * time.Hour), SHA: "aaaaaaaa"})
			fv.AddDeployment(fakevercel.Deployment{UID: "dpl_new", Created: now.Add(-10 * time.Minute), SHA: "bbbbbbbb"})
			fv.RollbackSteps("in-progress", "in-progress", final)
			p, err := c.Project(context.Background())
			if err != nil || p.Production() != "dpl_new" || p.ID != fv.ProjectID {
				t.Fatalf("%+v %v", p, err)
			}
			if err := c.Rollback(context.Background(), p.ID, "dpl_old", "INC-1"); err != nil {
				t.Fatal(err)
			}
			polls := 0
			a, err := c.Follow(context.Background(), "dpl_old", now, func(context.Context) error { polls++; return nil })
			if err != nil || a == nil || a.JobStatus != final {
				t.Fatalf("%+v %v", a, err)
			}
			if polls != 3 {
				t.Fatalf("%d waits", polls)
			}
			want := map[string]string{"succeeded": "dpl_old", "failed": "dpl_new"}[final]
			if fv.Production() != want {
				t.Fatalf("production %s", fv.Production())
			}
		})
	}
}

func TestRollbackRefusalsAreVercels(t *testing.T) {
	fv, c, _ := setup(t)
	now := time.Now()
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_a", Created: now.Add(-3 * time.Hour)})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_b", Created: now.Add(-2 * time.Hour)})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_c", Created: now.Add(-1 * time.Hour)})
	fv.Hobby()
	if err := c.Rollback(context.Background(), fv.ProjectID, "dpl_a", ""); !vercel.IsStatus(err, 402) {
		t.Fatalf("hobby, not the previous: %v", err)
	}
	if err := c.Rollback(context.Background(), fv.ProjectID, "dpl_c", ""); !vercel.IsStatus(err, 409) {
		t.Fatalf("the current one: %v", err)
	}
	if err := c.Rollback(context.Background(), fv.ProjectID, "dpl_b", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(context.Background(), fv.ProjectID, "dpl_b", ""); !vercel.IsStatus(err, 409) {
		t.Fatalf("while one runs: %v", err)
	}
}

// The env list pages (pagination.next, passed back as until): a variable
// on the second page is still found.
func TestEnvsPageThroughPaginationNext(t *testing.T) {
	fv, c, _ := setup(t)
	fv.EnvPageSize(2)
	now := time.Now()
	for i := range 5 {
		fv.AddEnv(fakevercel.Env{Key: fmt.Sprintf("K%d", i), Value: "v", Updated: now.Add(-time.Duration(i) * time.Hour)})
	}
	envs, err := c.Envs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range envs {
		keys = append(keys, e.Key)
	}
	if strings.Join(keys, ",") != "K0,K1,K2,K3,K4" {
		t.Fatalf("listed %v", keys)
	}
	if n := fv.Calls("GET", "/env"); n != 3 {
		t.Errorf("%d list calls, want 3", n)
	}
}

// A legacy secret, or an answer that says decrypted: false, has no value to
// check: it "cannot be read", never handed on as if it were the value.
func TestLegacySecretsAndUndecryptedValuesCannotBeRead(t *testing.T) {
	fv, c, _ := setup(t)
	fv.AddEnv(fakevercel.Env{Key: "CLERK_SECRET_KEY", Value: "sk_live_abc", Type: "secret", Updated: time.Now()})
	fv.AddEnv(fakevercel.Env{Key: "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", Value: "pk_live_abc", Undecrypted: true, Updated: time.Now()})
	envs, err := c.Envs(context.Background())
	if err != nil || len(envs) != 2 {
		t.Fatalf("%v %v", envs, err)
	}
	for _, e := range envs {
		v, err := c.Value(context.Background(), e)
		if !errors.Is(err, vercel.ErrUnreadable) || v != "" {
			t.Errorf("%s (%s): %q, %v", e.Key, e.Type, v, err)
		} else if !strings.Contains(err.Error(), "cannot be read") {
			t.Errorf("%s: %v", e.Key, err)
		}
	}
	// Even when the list says encrypted, the answer's decrypted: false wins.
	envs[0].Type = "encrypted"
	if _, err := c.Value(context.Background(), envs[0]); !errors.Is(err, vercel.ErrUnreadable) {
		t.Errorf("legacy secret read as encrypted: %v", err)
	}
}

// A deploy's time is when it became ready (served), not when it was queued;
// isRollbackCandidate is read.
func TestDeploymentTimeIsReadyAndRollbackCandidacyIsRead(t *testing.T) {
	fv, c, _ := setup(t)
	now := time.Now().Truncate(time.Millisecond)
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_a", Created: now.Add(-40 * time.Minute), Ready: now.Add(-5 * time.Minute)})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_staged", Created: now.Add(-20 * time.Minute), Staged: true})
	deps, err := c.Deployments(context.Background(), 10)
	if err != nil || len(deps) != 2 {
		t.Fatalf("%v %v", deps, err)
	}
	byID := map[string]vercel.Deployment{deps[0].UID: deps[0], deps[1].UID: deps[1]}
	if at := byID["dpl_a"].At(); !at.Equal(now.Add(-5 * time.Minute)) {
		t.Errorf("dpl_a at %v, want its ready time %v", at, now.Add(-5*time.Minute))
	}
	if !byID["dpl_a"].RollbackCandidate() || byID["dpl_staged"].RollbackCandidate() {
		t.Errorf("candidates: a %v, staged %v", byID["dpl_a"].RollbackCandidate(), byID["dpl_staged"].RollbackCandidate())
	}
}

// Every request the client sends is one Vercel's REST API description
// defines (internal/speccheck/testdata/vercel-rest-subset.json), and a
// planted one outside it fails.
func TestRequestsMatchVercelsRESTDescription(t *testing.T) {
	fv := fakevercel.New()
	t.Cleanup(fv.Close)
	fv.Team = "team_x"
	c := vercel.New(vercel.Config{Token: fv.Token, Project: fv.Project, Team: "team_x", APIURL: fv.URL()})
	now := time.Now()
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_old", Created: now.Add(-2 * time.Hour)})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_new", Created: now.Add(-time.Hour)})
	fv.EnvPageSize(1)
	fv.AddEnv(fakevercel.Env{Key: "A", Value: "v", Updated: now})
	fv.AddEnv(fakevercel.Env{Key: "B", Value: "v", Updated: now.Add(-time.Hour)})
	ctx := context.Background()
	if _, err := c.Deployments(ctx, 1); err != nil {
		t.Fatal(err)
	}
	envs, err := c.Envs(ctx)
	if err != nil || len(envs) != 2 {
		t.Fatal(envs, err)
	}
	if _, err := c.Value(ctx, envs[0]); err != nil {
		t.Fatal(err)
	}
	p, err := c.Project(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(ctx, p.ID, "dpl_old", "sign-in broke"); err != nil {
		t.Fatal(err)
	}
	spec := speccheck.MustLoad(speccheck.Vercel)
	speccheck.Verify(t, spec, fv.SpecRequests(), "GET /v6/deployments", "GET /v9/projects/{idOrName}", "GET /v10/projects/{idOrName}/env",
		"GET /v1/projects/{idOrName}/env/{id}", "POST /v1/projects/{projectId}/rollback/{deploymentId}")
	req, _ := http.NewRequest(http.MethodGet, fv.URL()+"/v6/deployments?project=x&teamId=team_x", nil)
	req.Header.Set("Authorization", "Bearer "+fv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := fv.SpecRequests()
	if err := spec.Check(reqs[len(reqs)-1]); err == nil || !strings.Contains(err.Error(), `"project"`) {
		t.Fatalf("the planted request passed: %v", err)
	}
}
