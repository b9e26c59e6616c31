package app_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakevercel"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/secretscan"
)

type vercelHarness struct {
	*secHarness
	vercel *fakevercel.Server
	logs   *secretscan.Buffer
	// gate, when set, holds the rollback's polls of Vercel until closed.
	mu   sync.Mutex
	gate chan struct{}
}

// holdRollback keeps an approved rollback running until release is called.
func (h *vercelHarness) holdRollback() (release func()) {
	g := make(chan struct{})
	h.mu.Lock()
	h.gate = g
	h.mu.Unlock()
	return sync.OnceFunc(func() { close(g) })
}

func (h *vercelHarness) wait(ctx context.Context) error {
	h.mu.Lock()
	g := h.gate
	h.mu.Unlock()
	if g == nil {
		return nil
	}
	select {
	case <-g:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// The fake app's publishable key: pk_live_ for the fake Clerk's host.
const appPK = "pk_live_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk"

// startVercel runs the bot with a fake Vercel whose production has an old
// deploy (2 h 30 ago) and a new one 12 minutes before the clock.
func startVercel(t *testing.T, extra map[string]string) *vercelHarness {
	t.Helper()
	fs := fakeslack.New()
	fc := fakeclerk.New()
	fv := fakevercel.New()
	t.Cleanup(fc.Close)
	t.Cleanup(fs.Close)
	t.Cleanup(fv.Close)
	for id, name := range map[string]string{"U1": "alice", "U2": "bob", "U3": "carol"} {
		fs.AddUser(id, name)
	}
	h := &vercelHarness{secHarness: &secHarness{slack: fs, clerk: fc, clock: &testClock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}}, vercel: fv}
	now := h.clock.Now()
	fv.SetNow(h.clock.Now)
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_old111", Created: now.Add(-150 * time.Minute), SHA: "1111111aaaa", Message: "Add billing page", Author: "alice"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_new222", Created: now.Add(-12 * time.Minute), SHA: "2222222bbbb", Message: "Change middleware matcher\n\nlong body", Author: "mallory"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_prev333", Created: now.Add(-5 * time.Minute), Target: "preview", SHA: "3333333", Message: "preview only"})
	env := map[string]string{"SLACK_RESPONDERS": "U1,U2,U3", "SLACK_APPROVERS": "U1,U2,U3", "SLACK_CHANNEL_ID": "CINC",
		"CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(), "CLERK_RATE_LIMIT": "1000/10s",
		"CLERK_PUBLISHABLE_KEY": appPK, "CLERK_FRONTEND_API_URL": fc.URL(),
		"VERCEL_TOKEN": fv.Token, "VERCEL_PROJECT_ID": fv.Project, "VERCEL_API_URL": fv.URL()}
	for k, v := range extra {
		env[k] = v
	}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: env, Options: app.Options{Manual: app.Loops{Sweep: true}, Now: h.clock.Now,
		VercelWait: h.wait}})
	h.prefix, h.sweep, h.httpAddr, h.logs = bot.Prefix, bot.Sweep, bot.HTTPAddr, bot.Logs
	return h
}

// everything is every text the fake Slack holds (posts, updates, ephemerals).
func everything(s *fakeslack.Server) string {
	var b strings.Builder
	for _, m := range s.Messages() {
		b.WriteString(m.Text + "\n" + string(m.Blocks) + "\n")
	}
	return b.String()
}

func TestDeploysListsProductionDeploymentsWithCommits(t *testing.T) {
	h := startVercel(t, nil)
	h.slack.Command(t, "U1", "C1", "deploys")
	m := h.slack.ExpectEphemeral(t, "U1", "Production deployments of fake-app")
	for _, want := range []string{"`dpl_new222` READY · `2222222` Change middleware matcher · 12 min ago · mallory · :large_green_circle: *serves production*",
		"`dpl_old111` READY · `1111111` Add billing page · 2 h ago · alice", "inspect>"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("deploys lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "preview only") || strings.Contains(m.Text, "long body") {
		t.Errorf("deploys shows a preview or a commit body:\n%s", m.Text)
	}
	h.slack.Command(t, "U1", "C1", "deploys 0")
	h.slack.ExpectEphemeral(t, "U1", "not a number from 1 to 50")
	h.slack.Command(t, "U1", "C1", "audit")
	h.slack.ExpectEphemeral(t, "U1", "vercel call", "GET /v6/deployments")
}

func TestIncidentOpenedAfterADeploySaysSo(t *testing.T) {
	h := startVercel(t, nil)
	card := h.open(t, "open outage Sign-in broken")
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"A production deploy landed 12 min before INC-1 opened", "`2222222` Change middleware matcher", "mallory", "rollback previous"}})
	tick := h.ticked(t, "INC-1", "Check recent deployments", true)
	if tick == nil {
		t.Fatal("Check recent deployments not ticked")
	}
}

func TestIncidentWithoutARecentDeploySaysSo(t *testing.T) {
	h := startVercel(t, nil)
	h.clock.Add(3 * time.Hour)
	card := h.open(t, "open outage Sign-in broken")
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"No production deploy of the app in the 2 hours before INC-1 opened", "`2222222`", "3 h before"}})
}

func TestEnvCheckFlagsATestSecretKeyAndARecentChangeWithoutShowingValues(t *testing.T) {
	h := startVercel(t, nil)
	now := h.clock.Now()
	h.vercel.AddEnv(fakevercel.Env{Key: "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", Value: appPK, Type: "plain", Updated: now.Add(-30 * 24 * time.Hour)})
	h.vercel.AddEnv(fakevercel.Env{Key: "CLERK_SECRET_KEY", Value: "sk_test_appsecretvalue123", Updated: now.Add(-20 * time.Minute)})
	h.vercel.AddEnv(fakevercel.Env{Key: "CLERK_WEBHOOK_SIGNING_SECRET", Value: "whsec_c2VjcmV0dmFsdWU=", Type: "sensitive", Updated: now.Add(-30 * 24 * time.Hour)})
	card := h.open(t, "open outage Sign-in broken")
	h.slack.Command(t, "U1", "C1", "env check")
	h.slack.ExpectEphemeral(t, "U1", "The env check is in the thread of INC-1")
	m := h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"production Clerk variables"}})
	for _, want := range []string{
		"CLERK_SECRET_KEY is a development key (sk_test_) in production",
		"different modes: pk_live_ with sk_test_",
		"CLERK_SECRET_KEY is set for production (encrypted), changed 20 min ago: *changed within 24 h*",
		"Frontend API foo-bar-13.clerk.accounts.dev answers",
		"did not accept the secret key",
		"CLERK_WEBHOOK_SIGNING_SECRET is set for production (sensitive)",
		"not checked: the signing secret's form (whsec_)",
	} {
		if !strings.Contains(m.Render(), want) {
			t.Errorf("env check lacks %q:\n%s", want, m.Render())
		}
	}
	// ❌ lines are work still to do: the step is not ticked.
	h.ticked(t, "INC-1", "Verify environment variables", false)
	all := everything(h.slack)
	// Pieces of the values read back: the middle of each, and the last four
	// characters (a tail shown "to tell keys apart" is still a piece).
	for _, v := range []string{"appsecretvalue", "c2VjcmV0", appPK[8:20], "sk_test_a", "e123", appPK[len(appPK)-4:]} {
		if strings.Contains(all, v) {
			t.Errorf("Slack holds a piece of a value: %q", v)
		}
	}
	if strings.Contains(all, "characters") {
		t.Error("Slack mentions a length")
	}
	// Lengths: the secret key's value is 25 long, the publishable key's 48.
	// The clock's date holds 25, so the findings themselves are looked at.
	for _, text := range []string{m.Text, m.Render()} {
		if n := regexp.MustCompile(`\b(25|48)\b`).FindString(text); n != "" {
			t.Errorf("the env check shows a value's length (%s):\n%s", n, text)
		}
	}
	if f := secretscan.Find(all); f != "" {
		t.Errorf("Slack holds a secret-shaped value %.12s…", f)
	}
	if strings.Contains(h.logs.String(), "appsecretvalue") || strings.Contains(h.logs.String(), h.vercel.Token) {
		t.Error("the logs hold the app's secret key or the Vercel token")
	}
}

func TestVercelRefusalsAreSentences(t *testing.T) {
	h := startVercel(t, nil)
	for status, want := range map[int]string{402: "use `rollback previous`", 403: "set VERCEL_TEAM_ID", 409: "Run `deploys`"} {
		h.vercel.Fail("GET", "/v9/projects", status, "code", "Message from Vercel.", 1, time.Time{})
		h.slack.Command(t, "U1", "C1", "deploys")
		h.slack.ExpectEphemeral(t, "U1", want)
	}
}

func TestVercelUnsetSaysWhatToSet(t *testing.T) {
	h := startSecurity(t, nil)
	h.slack.Command(t, "U1", "C1", "deploys")
	h.slack.ExpectEphemeral(t, "U1", "set VERCEL_TOKEN and VERCEL_PROJECT_ID")
}

func TestRollbackNeedsASecondPersonAndRunsOnce(t *testing.T) {
	t.Parallel()
	h := startVercel(t, nil)
	card := h.open(t, "open outage Sign-in broken")
	h.vercel.RollbackSteps("in-progress", "succeeded")
	req := h.request(t, card, "rollback previous -- matcher broke sign-in", "Approval needed: rollback",
		"back from `dpl_new222` (`2222222` Change middleware matcher · 12 min ago · mallory) to `dpl_old111` (`1111111` Add billing page · 2 h ago · alice)")
	h.slack.Click(t, "U1", req, "Approve")
	h.slack.ExpectEphemeral(t, "U1", "someone else must approve it")
	if n := h.vercel.Calls("POST", "/rollback/"); n != 0 {
		t.Fatalf("self-approval reached Vercel (%d)", n)
	}
	h.slack.Click(t, "U2", req, "Approve")
	h.slack.ExpectUpdated(t, req, "succeeded; `dpl_old111` serves production again")
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Rollback", "succeeded"}})
	if n := h.vercel.Calls("POST", "/rollback/dpl_old111"); n != 1 || h.vercel.Production() != "dpl_old111" {
		t.Fatalf("rollback calls %d, production %s", n, h.vercel.Production())
	}
	if h.ticked(t, "INC-1", "Rollback if necessary", true) == nil {
		t.Fatal("Rollback if necessary not ticked")
	}
	h.sweep(context.Background()) // the outbox has nothing left to do
	if n := h.vercel.Calls("POST", "/rollback/"); n != 1 {
		t.Fatalf("%d rollback calls after a sweep", n)
	}
}

func TestRollbackRefusedByVercelIsASentence(t *testing.T) {
	h := startVercel(t, nil)
	card := h.open(t, "open outage Sign-in broken")
	h.vercel.Fail("POST", "/v1/projects", 402, "payment_required", "Upgrade to Pro.", 1, time.Time{})
	req := h.request(t, card, "rollback dpl_old111", "Approval needed: rollback")
	h.slack.Click(t, "U2", req, "Approve")
	h.slack.ExpectUpdated(t, req, "402", "use `rollback previous`")
	if h.vercel.Production() != "dpl_new222" {
		t.Fatal("production changed")
	}
}

// A rollback's reason is typed into its approval request: a broadcast and a
// disguised link there show as text (the hostile pass, with a fake Vercel).
func TestHostileRollbackReasonIsInert(t *testing.T) {
	h := startVercel(t, nil)
	card := h.open(t, "open outage Sign-in broken")
	req := h.request(t, card, "rollback previous -- "+hostile, "Approval needed: rollback", "evil.example")
	inert(t, *req)
	for _, m := range h.slack.Messages() {
		inert(t, m)
	}
}

// Production moved between the request and the approval (a hotfix landed):
// the approved rollback would undo it, so it is not carried out and says
// why; Vercel is not asked.
func TestRollbackIsNotCarriedOutWhenProductionMovedSinceTheRequest(t *testing.T) {
	h := startVercel(t, nil)
	card := h.open(t, "open outage Sign-in broken")
	req := h.request(t, card, "rollback previous", "Approval needed: rollback", "back from `dpl_new222`")
	h.vercel.AddDeployment(fakevercel.Deployment{UID: "dpl_hotfix444", Created: h.clock.Now().Add(-time.Minute), SHA: "4444444dddd", Message: "Hotfix matcher", Author: "bob"})
	h.slack.Click(t, "U2", req, "Approve")
	h.slack.ExpectUpdated(t, req, "production changed since the request (it is dpl_hotfix444 now, not dpl_new222)")
	if n := h.vercel.Calls("POST", "/rollback/"); n != 0 || h.vercel.Production() != "dpl_hotfix444" {
		t.Fatalf("rollback calls %d, production %s", n, h.vercel.Production())
	}
}

// The commander reads one env check in the thread, never a ✅ that
// contradicts a ❌ above it: two test keys in production are two
// problems, not "Both keys are test keys"; only a check with no problem
// ticks "Verify environment variables".
func TestEnvCheckNeverContradictsItselfAndPostsOnce(t *testing.T) {
	h := startVercel(t, nil)
	now := h.clock.Now()
	h.vercel.AddEnv(fakevercel.Env{Key: "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", Value: "pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk", Type: "plain", Updated: now.Add(-30 * 24 * time.Hour)})
	h.vercel.AddEnv(fakevercel.Env{Key: "CLERK_SECRET_KEY", Value: "sk_test_appsecretvalue123", Updated: now.Add(-30 * 24 * time.Hour)})
	card := h.open(t, "open outage Sign-in broken")
	h.slack.Command(t, "U1", "C1", "env check")
	h.slack.ExpectEphemeral(t, "U1", "The env check is in the thread of INC-1: 4 problems")
	m := h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"production Clerk variables"}})
	for _, want := range []string{"CLERK_SECRET_KEY is a development key (sk_test_) in production", "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY is a development key (pk_test_) in production"} {
		if !strings.Contains(m.Render(), want) {
			t.Errorf("env check lacks %q:\n%s", want, m.Render())
		}
	}
	if strings.Contains(m.Render(), "Both keys are test keys") {
		t.Errorf("a ✅ contradicts the ❌ above it:\n%s", m.Render())
	}
	h.ticked(t, "INC-1", "Verify environment variables", false)
	// Whatever else the thread says afterwards, the check is in it once.
	h.slack.Command(t, "U1", "C1", "note INC-1 after the check")
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"after the check"}})
	n := 0
	for _, msg := range h.slack.Messages() {
		if msg.Channel == "CINC" && msg.ThreadTS == card.TS && strings.Contains(msg.Text+string(msg.Blocks), "The app's production Clerk variables") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the env check is in the thread %d times", n)
	}
}
