package clerkops_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
)

func newClient(t testing.TB, fc *fakeclerk.Server) *clerkops.Client {
	return clerkops.New(clerkops.Config{SecretKey: fc.Key, APIURL: fc.URL(), Budget: 1000, Window: 10 * time.Second}, nil)
}

func TestFindUsersByIDAndEmail(t *testing.T) {
	fc := fakeclerk.New()
	defer fc.Close()
	a := fc.AddUser("Ann", "ann@example.com", 1)
	b := fc.AddUser("Bob", "bob@example.com", 0)
	c := newClient(t, fc)
	found, unknown, err := c.FindUsers(context.Background(), []string{a.ID, "BOB@example.com", "ghost@example.com", "user_missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].ID != a.ID || found[1].ID != b.ID || found[0].Email != "ann@example.com" {
		t.Fatalf("found %+v", found)
	}
	if strings.Join(unknown, ",") != "user_missing,ghost@example.com" {
		t.Fatalf("unknown %v", unknown)
	}
}

func TestRevokeRetries429AndRevokesEverything(t *testing.T) {
	fc := fakeclerk.New()
	defer fc.Close()
	u := fc.AddUser("Eve", "eve@example.com", 3)
	fc.Fail("POST", "/sessions/", 429, 2, 1) // two 429s with Retry-After: 1
	fc.Fail("GET", "/sessions", 503, 1, 0)
	c := newClient(t, fc)
	start := time.Now()
	r := c.RevokeSessions(context.Background(), u.ID, true)
	if r.Err != nil || r.Revoked != 3 || r.Left != 0 {
		t.Fatalf("result %+v", r)
	}
	if fc.ActiveSessions(u.ID) != 0 {
		t.Fatal("sessions left active")
	}
	if time.Since(start) < time.Second {
		t.Fatal("Retry-After was not honoured")
	}
	// Idempotent: a second run finds nothing to do.
	if r := c.RevokeSessions(context.Background(), u.ID, true); r.Err != nil || r.Revoked != 0 {
		t.Fatalf("second run %+v", r)
	}
	for _, call := range fc.Calls() {
		if call.Method == "POST" && call.Body != "null" && call.Body != "" {
			t.Fatalf("POST body %q", call.Body)
		}
	}
}

func TestErrorsAreSentencesWithoutSecrets(t *testing.T) {
	fc := fakeclerk.New()
	defer fc.Close()
	u := fc.AddUser("Eve", "eve@example.com", 1)
	fc.BanStatus(402)
	c := newClient(t, fc)
	_, err := c.Ban(context.Background(), u.ID)
	var ce *clerkops.Error
	if !errors.As(err, &ce) || ce.Status != 402 || !strings.Contains(err.Error(), "plan does not include banning users (402") ||
		!strings.Contains(err.Error(), "nothing was changed") || apperr.CodeOf(err) != apperr.ClerkPlanRequired {
		t.Fatalf("err = %v (code %s)", err, apperr.CodeOf(err))
	}
	bad := clerkops.New(clerkops.Config{SecretKey: "sk_test_wrongsecret", APIURL: fc.URL()}, nil)
	_, err = bad.Ban(context.Background(), u.ID)
	if err == nil || !strings.Contains(err.Error(), "rejected CLERK_SECRET_KEY") || strings.Contains(err.Error(), "wrongsecret") {
		t.Fatalf("err = %v", err)
	}
	_, err = c.Unban(context.Background(), "user_nobody")
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err = %v", err)
	}
}

// As the Backend API spec documents: ban and unban answer 402 when the
// plan lacks banning, lock and unlock 403 when user lockout is off; with
// lockout off, ban still works.
func TestLockoutOffRefusesUnlockNotBan(t *testing.T) {
	fc := fakeclerk.New()
	defer fc.Close()
	u := fc.AddUser("Eve", "eve@example.com", 1)
	fc.DisableLockout()
	c := newClient(t, fc)
	if _, err := c.Ban(context.Background(), u.ID); err != nil {
		t.Fatalf("ban with lockout off: %v", err)
	}
	_, err := c.Unlock(context.Background(), u.ID)
	var ce *clerkops.Error
	if !errors.As(err, &ce) || ce.Status != 403 || apperr.CodeOf(err) != apperr.ClerkForbidden || !strings.Contains(err.Error(), "user lockout may be turned off") {
		t.Fatalf("unlock with lockout off: %v", err)
	}
	fc.BanStatus(402)
	if _, err := c.Unban(context.Background(), u.ID); !errors.As(err, &ce) || ce.Status != 402 {
		t.Fatalf("unban on a plan without banning: %v", err)
	}
}

// recordingGuard is internal/guard's contract: recover, report.
type recordingGuard struct {
	mu   sync.Mutex
	jobs map[string]int
}

func (g *recordingGuard) Run(ctx context.Context, job, _ string, fn func(context.Context)) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
			g.mu.Lock()
			g.jobs[job]++
			g.mu.Unlock()
		}
	}()
	fn(ctx)
	return false
}

// The progress callback runs in RevokeMany's workers: a panic in it goes
// through the guard and the revokes carry on.
func TestRevokeProgressPanicIsGuarded(t *testing.T) {
	fc := fakeclerk.New()
	defer fc.Close()
	var ids []string
	for range 5 {
		ids = append(ids, fc.AddUser("U", "", 2).ID)
	}
	g := &recordingGuard{jobs: map[string]int{}}
	c := clerkops.New(clerkops.Config{SecretKey: fc.Key, APIURL: fc.URL(), Budget: 1000, Window: 10 * time.Second, Guard: g}, nil)
	res := c.RevokeMany(context.Background(), ids, 2, false, func(done, failed int) { panic("progress line broke") })
	for _, r := range res {
		if r.Err != nil || r.Revoked != 2 {
			t.Fatalf("result %+v", r)
		}
	}
	if g.jobs["revoke progress"] != 5 {
		t.Fatalf("guarded panics: %v", g.jobs)
	}
}

func TestBudget(t *testing.T) {
	for in, want := range map[string]string{"1000/10s": "1000 10s", "100": "100 10s", "50/1m": "50 1m0s"} {
		n, w, err := clerkops.ParseBudget(in)
		if err != nil || fmt.Sprintf("%d %s", n, w) != want {
			t.Errorf("%s: %d %v %v", in, n, w, err)
		}
	}
	if _, _, err := clerkops.ParseBudget("lots"); err == nil {
		t.Error("want error")
	}
	if n, _ := clerkops.DefaultBudget("sk_live_x"); n != 1000 {
		t.Error(n)
	}
	if n, _ := clerkops.DefaultBudget("sk_test_x"); n != 100 {
		t.Error(n)
	}
}
