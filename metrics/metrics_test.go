package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/metrics"
)

// Call is the one place outside calls are counted: Clerk's attempts keep
// their metric and label, the other services' are counted by service.
func TestCallCountsEachServiceUnderItsMetric(t *testing.T) {
	m := metrics.New(metrics.Gauges{})
	m.Call("clerk", "GET", "/v1/users", 429)
	m.Call("clerk", "GET", "/v1/users", 200)
	m.Call("github", "POST", "/repos/{owner}/{repo}/issues", 201)
	m.Call("github", "POST", "/repos/{owner}/{repo}/issues", 503)
	m.Call("github", "POST", "/repos/{owner}/{repo}/issues", 503)
	m.Call("twilio", "POST", "/2010-04-01/Accounts/{AccountSid}/Messages", 0)
	rec := httptest.NewRecorder()
	m.Handler(metrics.Access{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`clerk_incident_clerk_api_calls_total{status="429"} 1`,
		`clerk_incident_clerk_api_calls_total{status="200"} 1`,
		`clerk_incident_http_calls_total{service="github",status="201"} 1`,
		`clerk_incident_http_calls_total{service="github",status="503"} 2`,
		`clerk_incident_http_calls_total{service="twilio",status="0"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), `service="clerk"`) {
		t.Error("Clerk's calls counted twice")
	}
}
