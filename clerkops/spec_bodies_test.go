package clerkops_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

// The same requests as TestRequestsMatchClerksOpenAPISpec, checked with the
// shared checker (internal/speccheck): besides paths and query names, JSON
// body properties, required ones and enum values. A planted request
// outside the spec fails.
func TestRequestsMatchClerksOpenAPISpecBodiesAndEnums(t *testing.T) {
	raw, err := os.ReadFile("testdata/clerk-bapi-2025-04-10.yml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := speccheck.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	fc := fakeclerk.New()
	defer fc.Close()
	u := fc.AddUser("Eve", "eve@example.com", 2)
	c := newClient(t, fc)
	ctx := context.Background()
	if _, _, err := c.FindUsers(ctx, []string{u.ID, "eve@example.com"}); err != nil {
		t.Fatal(err)
	}
	c.RevokeSessions(ctx, u.ID, true)
	if _, err := c.Ban(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unban(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Investigate(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DashboardURL(ctx); err != nil {
		t.Fatal(err)
	}
	speccheck.Verify(t, spec, fc.SpecRequests(), "GET /users", "GET /sessions", "POST /users/{user_id}/ban", "POST /webhooks/svix_url")
	req, _ := http.NewRequest(http.MethodGet, fc.URL()+"/sessions?user_id="+u.ID+"&status=alive", nil)
	req.Header.Set("Authorization", "Bearer "+fc.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := fc.SpecRequests()
	if err := spec.Check(reqs[len(reqs)-1]); err == nil || !strings.Contains(err.Error(), `"status" = "alive"`) {
		t.Fatalf("the planted request passed: %v", err)
	}
}
