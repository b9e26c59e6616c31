package statuspage_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatuspage"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuspage"
)

// Statuspage's 420 is waited out; a wrong key and an unknown incident are
// sentences that will not change on retry, without the key in them.
func TestStatuspageRateLimitAndRefusals(t *testing.T) {
	sp := fakestatuspage.New()
	defer sp.Close()
	c := statuspage.New(sp.URL(), sp.Key, sp.Page, nil)
	ctx := context.Background()
	sp.RateLimit(1)
	id, err := c.Create(ctx, "INC-1", "Sign-in failing", statuspage.Investigating, "We are investigating.", "critical")
	if err != nil || id == "" {
		t.Fatalf("create after a 420: %q %v", id, err)
	}
	if err := c.Update(ctx, id, statuspage.Resolved, "Resolved."); err != nil {
		t.Fatal(err)
	}
	if in := sp.Incidents(); len(in) != 1 || in[0].Status != "resolved" || len(in[0].Updates) != 2 {
		t.Fatalf("incidents %+v", in)
	}
	if err := c.Update(ctx, "sp9999", statuspage.Resolved, "x"); err == nil || apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), "404") {
		t.Fatalf("unknown incident: %v", err)
	}
	bad := statuspage.New(sp.URL(), "wrong-key-123", sp.Page, nil)
	_, err = bad.Create(ctx, "INC-2", "x", statuspage.Investigating, "x", "minor")
	if err == nil || !strings.Contains(apperr.MessageOf(err), "refused the API key (401)") || strings.Contains(err.Error(), "wrong-key-123") {
		t.Fatalf("wrong key: %v", err)
	}
}

// Statuspage may create the incident and still answer 5xx, or the
// connection may drop before the answer: the client finds the incident by
// its INC-n marker instead of creating a second one (subscribers would be
// told twice), also when a later Post tries again.
func TestStatuspageCreateIsNotRepeatedAfterALostAnswer(t *testing.T) {
	for name, fail := range map[string]int{"502": 502, "dropped": fakestatuspage.Dropped} {
		t.Run(name, func(t *testing.T) {
			sp := fakestatuspage.New()
			defer sp.Close()
			c := statuspage.New(sp.URL(), sp.Key, sp.Page, nil)
			ctx := context.Background()
			other, err := c.Create(ctx, "INC-7", "Another incident", statuspage.Investigating, "x", "minor")
			if err != nil {
				t.Fatal(err)
			}
			sp.FailAfterCreate(fail)
			id, err := c.Create(ctx, "INC-8", "Sign-in failing", statuspage.Investigating, "We are investigating.", "critical")
			if err != nil || id == "" || id == other {
				t.Fatalf("create after a lost answer: %q %v", id, err)
			}
			again, err := c.Create(ctx, "INC-8", "Sign-in failing", statuspage.Investigating, "We are investigating.", "critical")
			if err != nil || again != id {
				t.Fatalf("a second create for INC-8: %q %v, want %q", again, err, id)
			}
			in := sp.Incidents()
			if len(in) != 2 || in[1].ID != id || in[1].Metadata[statuspage.MetadataKey]["incident_id"] != "INC-8" || len(in[1].Updates) != 1 {
				t.Fatalf("incidents %+v", in)
			}
		})
	}
}

// Metadata is any two-level JSON object: another tool's incident tagged
// with a number and a boolean does not stop the look-up before create, so
// the public update still goes out, once.
func TestCreateLooksUpPastForeignMetadata(t *testing.T) {
	sp := fakestatuspage.New()
	defer sp.Close()
	sp.AddIncident("Database maintenance", statuspage.Investigating, map[string]map[string]any{"opsgenie": {"alert_count": 3, "auto": true, "owner": nil}})
	c := statuspage.New(sp.URL(), sp.Key, sp.Page, nil)
	ctx := context.Background()
	id, err := c.Create(ctx, "INC-4", "Sign-in failing", statuspage.Investigating, "We are investigating.", "major")
	if err != nil || id == "" {
		t.Fatalf("create: %q %v", id, err)
	}
	again, err := c.Create(ctx, "INC-4", "Sign-in failing", statuspage.Investigating, "We are investigating.", "major")
	if err != nil || again != id || len(sp.Incidents()) != 2 {
		t.Fatalf("second create: %q %v, %d incidents", again, err, len(sp.Incidents()))
	}
}

// Every request the client sends is one Statuspage's API description
// defines (internal/speccheck/testdata/statuspage-subset.json), and a
// planted one outside it fails.
func TestRequestsMatchStatuspagesDescription(t *testing.T) {
	sp := fakestatuspage.New()
	defer sp.Close()
	c := statuspage.New(sp.URL(), sp.Key, sp.Page, nil)
	ctx := context.Background()
	id, err := c.Create(ctx, "INC-1", "Sign-in failing", statuspage.Investigating, "We are investigating.", "critical")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Update(ctx, id, statuspage.Resolved, "Resolved."); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "INC-2", "Was down", statuspage.Resolved, "It was down.", "minor"); err != nil {
		t.Fatal(err)
	}
	spec := speccheck.MustLoad(speccheck.Statuspage)
	speccheck.Verify(t, spec, sp.SpecRequests(), "GET /pages/{page_id}/incidents/unresolved", "GET /pages/{page_id}/incidents",
		"POST /pages/{page_id}/incidents", "PATCH /pages/{page_id}/incidents/{incident_id}")
	req, _ := http.NewRequest(http.MethodPatch, sp.URL()+"/pages/"+sp.Page+"/incidents/"+id, strings.NewReader(`{"incident":{"status":"fixed"}}`))
	req.Header.Set("Authorization", "OAuth "+sp.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := sp.SpecRequests()
	if err := spec.Check(reqs[len(reqs)-1]); err == nil || !strings.Contains(err.Error(), "body.incident.status = fixed") {
		t.Fatalf("the planted request passed: %v", err)
	}
}
