package paging_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
)

// GET /incidents finds the incidents our events opened by their key, with
// who acknowledged, across pages, in PagerDuty's headers.
func TestPagerDutyAPIFindsIncidentsByKeyAcrossPages(t *testing.T) {
	pd := fakepaging.NewPagerDuty()
	defer pd.Close()
	ctx := context.Background()
	ev := paging.NewPagerDuty(pd.URL(), pd.Key, nil)
	api := paging.NewPagerDutyAPI(pd.APIURL(), pd.APIToken, nil)
	if got, err := api.Incidents(ctx, "INC-1"); err != nil || len(got) != 0 {
		t.Fatalf("before any event: %+v %v", got, err)
	}
	if err := ev.Trigger(ctx, "INC-1", "Sign-in failing", "critical", ""); err != nil {
		t.Fatal(err)
	}
	if !pd.Resolve("INC-1", "PBOB", "Bob") {
		t.Fatal("no open incident to resolve")
	}
	// A second trigger after a resolve opens a second incident.
	if err := ev.Trigger(ctx, "INC-1", "Sign-in failing again", "critical", ""); err != nil {
		t.Fatal(err)
	}
	if !pd.Acknowledge("INC-1", "PNORA", "Nora Oncall") {
		t.Fatal("no open incident to acknowledge")
	}
	if err := ev.Trigger(ctx, "INC-2", "Other", "warning", ""); err != nil {
		t.Fatal(err)
	}
	pd.PageSize(1)
	got, err := api.Incidents(ctx, "INC-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Status != "resolved" || got[1].Status != "acknowledged" || got[1].Key != "INC-1" || got[1].Created.IsZero() {
		t.Fatalf("incidents %+v", got)
	}
	if a := got[1].Acks; len(a) != 1 || a[0].By.Summary != "Nora Oncall" || a[0].By.ID != "PNORA" || !a[0].By.Person() || a[0].At.IsZero() {
		t.Fatalf("acknowledgements %+v", a)
	}
	if by := got[0].LastChangeBy; by.Summary != "Bob" || !by.Person() {
		t.Fatalf("resolved by %+v", by)
	}
	reqs := pd.APIRequests()
	if len(reqs) != 3 { // one empty read, then two pages of one
		t.Fatalf("requests %+v", reqs)
	}
	for _, r := range reqs {
		if !r.Authorized || !r.Versioned || !strings.Contains(r.Query, "incident_key=INC-1") || !strings.Contains(r.Query, "date_range=all") {
			t.Fatalf("request %+v", r)
		}
	}
}

// 401 and 403 are PDAuthErrors that never show the key; a 429 says how
// long PagerDuty asks to wait; a 500 is retried.
func TestPagerDutyAPIErrors(t *testing.T) {
	pd := fakepaging.NewPagerDuty()
	defer pd.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		token  string
		status int
		want   string
	}{
		{"wrong-key-0123", 401, "rejected PAGERDUTY_API_TOKEN (401"},
		{"", 401, "rejected PAGERDUTY_API_TOKEN (401"},
		{pd.NoAccessToken, 403, "(403"},
	} {
		_, err := paging.NewPagerDutyAPI(pd.APIURL(), tc.token, nil).Incidents(ctx, "INC-1")
		a, ok := paging.IsPDAuth(err)
		if !ok || a.Status != tc.status || !strings.Contains(apperr.MessageOf(err), tc.want) || apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("token %q: %v", tc.token, err)
		}
		if tc.token != "" && strings.Contains(err.Error(), tc.token) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
	api := paging.NewPagerDutyAPI(pd.APIURL(), pd.APIToken, nil)
	pd.RateLimitAPI(1)
	_, err := api.Incidents(ctx, "INC-1")
	var later *paging.RetryLater
	if !errors.As(err, &later) || later.RetryAfter() != 30*time.Second || apperr.CodeOf(err) != apperr.UnavailableRemote {
		t.Fatalf("429: %v", err)
	}
	pd.FailAPI(1)
	if _, err := api.Incidents(ctx, "INC-1"); err != nil {
		t.Fatalf("one 500 is retried: %v", err)
	}
	if _, err := paging.NewPagerDutyAPI(pd.APIURL()+"/nothing", pd.APIToken, nil).Incidents(ctx, "INC-1"); apperr.CodeOf(err) != apperr.Invalid ||
		!strings.Contains(apperr.MessageOf(err), "PAGERDUTY_API_URL") {
		t.Fatalf("404: %v", err)
	}
}
