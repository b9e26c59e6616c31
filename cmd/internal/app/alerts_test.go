package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

const alertsToken = "am-token-4f9c2e7a1b3d5c6e"

// amAlert is one alert as Alertmanager's webhook (version 4) sends it.
func amAlert(status, fp string, labels, annotations map[string]string) map[string]any {
	ends := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		ends = "2026-11-26T03:20:00Z"
	}
	return map[string]any{"status": status, "labels": labels, "annotations": annotations, "startsAt": "2026-11-26T02:58:30.123Z",
		"endsAt": ends, "generatorURL": "http://prometheus.example:9090/graph?g0.expr=sign_in_errors%3E0.2&g0.tab=1", "fingerprint": fp}
}

// amBody is Alertmanager's webhook body around alerts.
func amBody(status string, as ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"version": "4", "groupKey": `{}:{alertname="SignInErrors"}`, "truncatedAlerts": 0, "status": status,
		"receiver": "clerk-incident-bot", "groupLabels": map[string]string{"alertname": "SignInErrors"}, "commonLabels": map[string]string{},
		"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager.example:9093", "alerts": as})
	return b
}

func postAlerts(t *testing.T, addr, token string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/alerts", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Alertmanager/0.28.1")
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

func startAlerts(t *testing.T, fs *fakeslack.Server, prefix string, env map[string]string) *apptest.Bot {
	base := map[string]string{"SLACK_CHANNEL_ID": "CINC", "ALERTS_TOKEN": alertsToken}
	for k, v := range env {
		base[k] = v
	}
	return apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: base})
}

// alertAudit reads the audit entries the alerts left.
func alertAudit(t *testing.T, prefix string) []audit.Entry {
	t.Helper()
	rdb, _ := redistest.Client(t)
	msgs, err := rdb.XRange(context.Background(), prefix+"audit", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, m := range msgs {
		var e audit.Entry
		_ = json.Unmarshal([]byte(fmt.Sprint(m.Values["e"])), &e)
		if strings.HasPrefix(e.Action, "alert ") {
			out = append(out, e)
		}
	}
	return out
}

func readIncident(t *testing.T, prefix, id string) incident.Incident {
	t.Helper()
	rdb, _ := redistest.Client(t)
	raw, err := rdb.Get(context.Background(), prefix+"incident:"+id).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var inc incident.Incident
	if err := json.Unmarshal(raw, &inc); err != nil {
		t.Fatal(err)
	}
	return inc
}

func countIncidents(fs *fakeslack.Server) int {
	n := 0
	for _, m := range fs.Messages() {
		if m.ThreadTS == "" && strings.Contains(m.Render(), "INC-") && strings.Contains(m.Render(), "*Category*") {
			n++
		}
	}
	return n
}

// An Alertmanager alert ("sign-in errors over 20 %") opens one incident,
// however many replicas receive it and however often Alertmanager
// retries or repeats it: category and severity from its labels, title
// from its summary, its generatorURL on the card, the detected milestone
// its start. Its resolution is said in the thread and the incident stays
// open; another outage alert joins the same incident.
func TestAlertmanagerAlertOpensOnceAcrossReplicasAndRetries(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	prefix := redistest.Prefix()
	a := startAlerts(t, fs, prefix, nil)
	b := startAlerts(t, fs, prefix, nil)
	firing := amBody("firing", amAlert("firing", "5c3a8e1f0b2d4e6a", map[string]string{"alertname": "SignInErrors", "severity": "critical", "category": "outage", "service": "web"},
		map[string]string{"summary": "Sign-in errors over 20 %", "description": "sign_in_errors / sign_in_attempts = 0.34 for 5m"}))
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		addr := []string{a.HTTPAddr, b.HTTPAddr}[i%2]
		wg.Go(func() { codes[i], _ = postAlerts(t, addr, alertsToken, firing) })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("post %d answered %d", i, c)
		}
	}
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in errors over 20 %", "P1", "Outage", "http://prometheus.example:9090/graph?g0.expr=sign_in_errors%3E0.2")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Sign-in errors over 20 %", "sign_in_errors / sign_in_attempts = 0.34", "opened automatically from this alert"}})
	// A retry later, and the repeat Alertmanager sends every repeat_interval.
	if c, body := postAlerts(t, b.HTTPAddr, alertsToken, firing); c != 200 || !strings.Contains(body, `"duplicates":1`) {
		t.Fatalf("repeat: %d %s", c, body)
	}
	if n := countIncidents(fs); n != 1 {
		t.Fatalf("%d incidents", n)
	}
	if inc := readIncident(t, prefix, "INC-1"); inc.Marks == nil || inc.Marks.Detected == nil || inc.Marks.Detected.Source != incident.SourceAlert ||
		!inc.Marks.Detected.At.Equal(time.Date(2026, 11, 26, 2, 58, 30, 123e6, time.UTC)) || inc.OpenedBy.Name != "Alertmanager" {
		t.Fatalf("detected milestone %+v, opened by %+v", inc.Marks, inc.OpenedBy)
	}

	// Another firing outage alert joins INC-1.
	other := amBody("firing", amAlert("firing", "77aa00bb11cc22dd", map[string]string{"alertname": "HealthDown", "severity": "warning"},
		map[string]string{"summary": "Health check failing in eu-west"}))
	if c, body := postAlerts(t, a.HTTPAddr, alertsToken, other); c != 200 || !strings.Contains(body, `"incidents":["INC-1"]`) {
		t.Fatalf("second alert: %d %s", c, body)
	}
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Health check failing in eu-west", "Attached to INC-1"}})

	// Resolved: said once in the thread; INC-1 stays open.
	resolved := amBody("resolved", amAlert("resolved", "5c3a8e1f0b2d4e6a", map[string]string{"alertname": "SignInErrors", "severity": "critical", "category": "outage", "service": "web"},
		map[string]string{"summary": "Sign-in errors over 20 %"}))
	for range 2 {
		if c, body := postAlerts(t, b.HTTPAddr, alertsToken, resolved); c != 200 {
			t.Fatalf("resolved: %d %s", c, body)
		}
	}
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Alertmanager says resolved", "Sign-in errors over 20 %", "INC-1 stays open"}})
	if inc := readIncident(t, prefix, "INC-1"); inc.Status != incident.Investigating {
		t.Fatalf("INC-1 is %s after the alert resolved", inc.Status)
	}
	if n := strings.Count(dump(fs), "Alertmanager says resolved"); n != 1 {
		t.Fatalf("resolution said %d times", n)
	}

	entries := alertAudit(t, prefix)
	var ok, dup, res int
	for _, e := range entries {
		switch {
		case e.Action == "alert firing" && e.Outcome == "ok":
			ok++
		case e.Action == "alert firing" && e.Outcome == "duplicate":
			dup++
		case e.Action == "alert resolved" && e.Outcome == "ok":
			res++
		}
		if e.Actor != "Alertmanager" {
			t.Errorf("audit actor %q", e.Actor)
		}
	}
	if ok != 2 || dup != 6 || res != 1 || len(entries) != 10 {
		t.Fatalf("audit: %d taken, %d duplicates, %d resolved, %d entries: %+v", ok, dup, res, len(entries), entries)
	}
	for _, bot := range []*apptest.Bot{a, b} {
		if strings.Contains(bot.Logs.String(), alertsToken) {
			t.Fatal("the token is in the logs")
		}
	}
}

// Who may post: no token configured, the endpoint is not there (404); a
// wrong or missing token is 401. Bad bodies are a 4xx saying what is
// wrong, and change nothing.
func TestAlertsRefuseWhoAndWhatTheyShould(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	off := apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC"}})
	good := amBody("firing", amAlert("firing", "0123456789abcdef", map[string]string{"alertname": "X"}, map[string]string{"summary": "x"}))
	if c, _ := postAlerts(t, off.HTTPAddr, alertsToken, good); c != http.StatusNotFound {
		t.Fatalf("no token configured: %d", c)
	}
	prefix := redistest.Prefix()
	on := startAlerts(t, fs, prefix, nil)
	for _, tok := range []string{"", "wrong-token-0000000000", alertsToken + "x"} {
		if c, _ := postAlerts(t, on.HTTPAddr, tok, good); c != http.StatusUnauthorized {
			t.Fatalf("token %q: %d", tok, c)
		}
	}
	huge := amBody("firing", amAlert("firing", "0123456789abcdef", map[string]string{"alertname": "X"}, map[string]string{"summary": strings.Repeat("x", 1<<20)}))
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = amAlert("firing", fmt.Sprintf("%016x", i), map[string]string{"alertname": "X"}, nil)
	}
	for _, c := range []struct {
		name string
		body []byte
		code int
		says string
	}{
		{"not JSON", []byte("alertname=X"), 400, "not Alertmanager's webhook JSON"},
		{"a JSON list", []byte(`[{"labels":{"alertname":"X"}}]`), 400, "not Alertmanager's webhook JSON"},
		{"no version", []byte(`{"alerts":[]}`), 400, `no "version"`},
		{"version 3", []byte(`{"version":"3","alerts":[]}`), 400, `version "3" is not supported`},
		{"no alerts", []byte(`{"version":"4","status":"firing"}`), 400, `no "alerts" list`},
		{"bad status", amBody("firing", amAlert("pending", "0123456789abcdef", map[string]string{"alertname": "X"}, nil)), 400, `alert 1: status "pending"`},
		{"no labels", amBody("firing", amAlert("firing", "0123456789abcdef", nil, nil)), 400, "alert 1: no labels"},
		{"labels not strings", []byte(`{"version":"4","alerts":[{"status":"firing","labels":{"alertname":3}}]}`), 400, "should be string"},
		{"over 1 MiB", huge, 413, "over 1 MiB"},
		{"1,001 alerts", amBody("firing", many...), 413, "at most 1000"},
	} {
		code, raw := postAlerts(t, on.HTTPAddr, alertsToken, c.body)
		var body struct{ Error string }
		_ = json.Unmarshal([]byte(raw), &body)
		if code != c.code || !strings.Contains(body.Error, c.says) {
			t.Errorf("%s: %d %s", c.name, code, body)
		}
	}
	if n := countIncidents(fs); n != 0 {
		t.Fatalf("bad input opened %d incidents", n)
	}
	if got := alertAudit(t, prefix); len(got) != 0 {
		t.Fatalf("bad input audited: %+v", got)
	}
}

// A storm: 300 alerts at once in two categories, their labels and
// summaries full of Slack markup. One incident per category; the rest are
// one thread line each (ten listed, the others counted); nothing renders
// live (the fake Slack flags any bare <); every alert is in the audit.
func TestAlertStormOpensOneIncidentPerCategory(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	prefix := redistest.Prefix()
	bot := startAlerts(t, fs, prefix, nil)
	var as []map[string]any
	for i := range 300 {
		cat := "outage"
		if i%3 == 0 {
			cat = "security"
		}
		sev := []string{"warning", "critical", "info"}[i%3]
		as = append(as, amAlert("firing", fmt.Sprintf("%016x", 0xa000+i), map[string]string{"alertname": fmt.Sprintf("<!channel> Alert%d", i), "category": cat, "severity": sev, "pod": "<@U1>"},
			map[string]string{"summary": fmt.Sprintf("<!here> errors on <https://evil.example|login> #%d *bold* & more", i)}))
	}
	code, body := postAlerts(t, bot.HTTPAddr, alertsToken, amBody("firing", as...))
	if code != 200 || !strings.Contains(body, `"firing":300`) {
		t.Fatalf("storm: %d %s", code, body)
	}
	// The first alert of each category leads (the most severe: a critical
	// outage alert, a warning security one).
	sec := fs.ExpectMessage(t, "CINC", "INC-1 ·", "Security Incident (security)", "P2")
	out := fs.ExpectMessage(t, "CINC", "INC-2 ·", "(outage)", "P1")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: out.TS, Contains: []string{"&lt;!here&gt; errors on &lt;https://evil.example|login&gt; #1", "opened automatically from this alert"}})
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: out.TS, Contains: []string{"199 more firing alerts from Alertmanager joined INC-2", "… and 189 more"}})
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: sec.TS, Contains: []string{"99 more firing alerts from Alertmanager joined INC-1", "&lt;!channel&gt; Alert"}})
	// Cards are posted before the answer: a third would be here by now.
	if n := countIncidents(fs); n != 2 {
		t.Fatalf("%d incidents", n)
	}
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text, "<!here>") || strings.Contains(m.Text, "<!channel>") || strings.Contains(m.Text, "<@U1>") || strings.Contains(m.Text, "<https://evil") {
			t.Fatalf("live markup: %s", m.Text)
		}
	}
	if got := alertAudit(t, prefix); len(got) != 300 {
		t.Fatalf("audit has %d alerts", len(got))
	}
}

// Grafana's webhook contact point sends the same shape (version 1, with
// orgId and its own fields): it opens an incident the same way. Its
// alerts carry no category label here, so ALERTS_DEFAULT_CATEGORY says.
func TestGrafanaContactPointOpensTheSame(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	bot := startAlerts(t, fs, redistest.Prefix(), map[string]string{"ALERTS_DEFAULT_CATEGORY": "performance"})
	// Grafana's documented webhook payload.
	grafana := []byte(`{
  "receiver": "My Super Webhook",
  "status": "firing",
  "orgId": 1,
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
      "annotations": {"description": "The system has high memory usage", "runbook_url": "https://myrunbook.com/runbook/1234", "summary": "This alert was triggered for zone us-1"},
      "startsAt": "2021-10-12T09:51:03.157076+02:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
      "fingerprint": "c6eadffa33fcdf37",
      "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
      "dashboardURL": "",
      "panelURL": "",
      "values": {"B": 44.23943737541908, "C": 1}
    },
    {
      "status": "firing",
      "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
      "annotations": {"description": "The system has high CPU usage", "runbook_url": "https://myrunbook.com/runbook/1234", "summary": "This alert was triggered for zone eu-1"},
      "startsAt": "2021-10-12T09:56:03.157076+02:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
      "fingerprint": "bc97ff14869b13e3",
      "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1",
      "dashboardURL": "",
      "panelURL": "",
      "values": {"B": 44.23943737541908, "C": 1}
    }
  ],
  "groupLabels": {},
  "commonLabels": {"team": "blue"},
  "commonAnnotations": {},
  "externalURL": "https://play.grafana.org/",
  "version": "1",
  "groupKey": "{}:{}",
  "truncatedAlerts": 0,
  "title": "[FIRING:2]  (blue)",
  "state": "alerting",
  "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1\n"
}`)
	if code, body := postAlerts(t, bot.HTTPAddr, alertsToken, grafana); code != 200 || !strings.Contains(body, `"firing":2`) {
		t.Fatalf("grafana: %d %s", code, body)
	}
	card := fs.ExpectMessage(t, "CINC", "INC-1 · This alert was triggered for zone us-1", "P3", "Performance", "https://play.grafana.org/alerting/1afz29v7z/edit")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"1 more firing alert from Grafana joined INC-1", "This alert was triggered for zone eu-1", "https://play.grafana.org/alerting/d1rdpdv7k/edit"}})
}

// A critical alert joining an open P3 incident of its category does not
// raise it by itself (a person decides), but the thread says the alert's
// severity and the command that raises it; an alert no more severe is
// said with its severity and no such advice.
func TestAlertMoreSevereThanItsIncidentSaysHowToRaiseIt(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	prefix := redistest.Prefix()
	bot := startAlerts(t, fs, prefix, nil)
	fs.Command(t, "U1", "C1", "open outage P3 Slow sign-in in one region")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Slow sign-in in one region")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	code, body := postAlerts(t, bot.HTTPAddr, alertsToken, amBody("firing", amAlert("firing", "00000000000000e1",
		map[string]string{"alertname": "SignInErrors", "category": "outage", "severity": "critical"}, map[string]string{"summary": "Sign-in errors over 20 %"})))
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Sign-in errors over 20 %", "Attached to INC-1",
		"This alert is *P1*; INC-1 is P3.", "more severe than the incident. To raise it: `/clerk-incident severity INC-1 P1`"}})
	if inc := readIncident(t, prefix, "INC-1"); inc.Severity != incident.P3 {
		t.Fatalf("severity changed by itself to %s", inc.Severity)
	}
	code, body = postAlerts(t, bot.HTTPAddr, alertsToken, amBody("firing", amAlert("firing", "00000000000000e2",
		map[string]string{"alertname": "SlowTokens", "category": "outage", "severity": "info"}, map[string]string{"summary": "Token latency up"})))
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Token latency up", "This alert is *P3*; INC-1 is P3."}})
	if n := said(fs, "To raise it"); n != 1 {
		t.Fatalf("advice to raise said %d times", n)
	}
}
