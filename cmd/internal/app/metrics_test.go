package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
)

func scrape(t *testing.T, addr, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// With METRICS_TOKEN set, /metrics wants it (401 without or with a wrong
// one) and then shows everything, the bypass gauge included.
func TestMetricsTokenGuardsMetrics(t *testing.T) {
	bot := apptest.Start(t, apptest.Spec{Env: map[string]string{"METRICS_TOKEN": "metrics-secret-1", "BYPASS_READ_TOKEN": "bypass-secret-1"}})
	for _, tok := range []string{"", "wrong"} {
		if code, body := scrape(t, bot.HTTPAddr, tok); code != http.StatusUnauthorized || strings.Contains(body, "clerk_incident") {
			t.Fatalf("token %q: %d %q", tok, code, body)
		}
	}
	code, body := scrape(t, bot.HTTPAddr, "metrics-secret-1")
	if code != http.StatusOK || !strings.Contains(body, "clerk_incident_bypass_active 0") || !strings.Contains(body, "clerk_incident_open_incidents") {
		t.Fatalf("with the token: %d\n%s", code, body)
	}
}

// Without METRICS_TOKEN /metrics is open, so when BYPASS_READ_TOKEN keeps
// the bypass private the open output must not say whether it is on.
func TestOpenMetricsHideAPrivateBypass(t *testing.T) {
	bot := apptest.Start(t, apptest.Spec{Env: map[string]string{"BYPASS_READ_TOKEN": "bypass-secret-1"}})
	code, body := scrape(t, bot.HTTPAddr, "")
	if code != http.StatusOK || !strings.Contains(body, "clerk_incident_open_incidents") {
		t.Fatalf("%d\n%s", code, body)
	}
	if strings.Contains(body, "bypass") {
		t.Fatalf("open /metrics shows the bypass:\n%s", grepLines(body, "bypass"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
