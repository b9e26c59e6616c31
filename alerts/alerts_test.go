package alerts_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/alerts"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

func body(labels, annotations, extra string) []byte {
	return []byte(fmt.Sprintf(`{"version":"4","status":"firing","receiver":"r","alerts":[{"status":"firing","labels":%s,"annotations":%s,
		"startsAt":"2026-11-26T02:58:30Z","endsAt":"0001-01-01T00:00:00Z"%s}]}`, labels, annotations, extra))
}

func TestLabelsDecide(t *testing.T) {
	for _, c := range []struct {
		name                  string
		labels, annots, extra string
		cat                   incident.Category
		sev                   incident.Severity
		title, link, fp       string
	}{
		{"critical outage", `{"alertname":"A","category":"outage","severity":"critical"}`, `{"summary":"Sign-in errors"}`, `,"generatorURL":"https://prom.example/graph?g0.expr=x","fingerprint":"ABCDEF0123456789"`,
			incident.Outage, incident.P1, "Sign-in errors", "https://prom.example/graph?g0.expr=x", "abcdef0123456789"},
		{"warning, security in capitals", `{"alertname":"A","category":"SECURITY","severity":"warning"}`, `{}`, ``, incident.Security, incident.P2, "A", "", ""},
		{"P3 as given, webhook", `{"alertname":"A","category":"webhook","severity":"p3"}`, `{}`, ``, incident.Webhook, incident.P3, "A", "", ""},
		{"P1 as given", `{"alertname":"A","severity":"P1"}`, `{}`, ``, incident.Performance, incident.P1, "A", "", ""},
		{"unknown severity and category", `{"alertname":"A","category":"db","severity":"info"}`, `{}`, ``, incident.Performance, incident.P3, "A", "", ""},
		{"no severity", `{"alertname":"A"}`, `{}`, ``, incident.Performance, incident.P3, "A", "", ""},
		{"javascript: link dropped", `{"alertname":"A"}`, `{}`, `,"generatorURL":"javascript:alert(1)"`, incident.Performance, incident.P3, "A", "", ""},
		{"a link that would end Slack's", `{"alertname":"A"}`, `{}`, `,"generatorURL":"https://x.example/a|b>c<!here>"`, incident.Performance, incident.P3, "A", "https://x.example/a%7Cb%3Ec%3C%21here%3E", ""},
		{"summary on one line", `{"alertname":"A"}`, `{"summary":"  two\nlines  "}`, ``, incident.Performance, incident.P3, "two lines", "", ""},
	} {
		b, err := alerts.Parse(body(c.labels, c.annots, c.extra), incident.Performance)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		a := b.Alerts[0]
		if a.Category != c.cat || a.Severity != c.sev || a.Title != c.title || a.Link != c.link || (c.fp != "" && a.Fingerprint != c.fp) || len(a.Fingerprint) != 16 {
			t.Errorf("%s: %+v", c.name, a)
		}
	}
}

// Without a fingerprint one is made from the labels, whatever their order.
func TestFingerprintFromLabels(t *testing.T) {
	a, _ := alerts.Parse(body(`{"alertname":"A","zone":"eu"}`, `{}`, ``), incident.Outage)
	b, _ := alerts.Parse(body(`{"zone":"eu","alertname":"A"}`, `{}`, ``), incident.Outage)
	c, _ := alerts.Parse(body(`{"zone":"us","alertname":"A"}`, `{}`, ``), incident.Outage)
	if a.Alerts[0].Key() != b.Alerts[0].Key() || a.Alerts[0].Fingerprint == c.Alerts[0].Fingerprint {
		t.Fatalf("%s %s %s", a.Alerts[0].Key(), b.Alerts[0].Key(), c.Alerts[0].Fingerprint)
	}
}

func TestRefusals(t *testing.T) {
	for _, c := range []struct{ body, says string }{
		{`{"version":"4","alerts":[]} {}`, "more than one JSON value"},
		{`{"version":"1","alerts":[]}`, `version "1" is not supported`}, // Grafana's 1 comes with orgId
		{`{"version":4,"alerts":[]}`, `"version" should be string`},
		{`{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"yesterday"}]}`, "must be RFC 3339"},
		{`{"version":"4",`, "invalid JSON"},
	} {
		_, err := alerts.Parse([]byte(c.body), incident.Outage)
		if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), c.says) {
			t.Errorf("%s: %v", c.body, err)
		}
	}
	var many strings.Builder
	many.WriteString(`{"version":"4","alerts":[`)
	for i := range alerts.MaxAlerts + 1 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`{"status":"firing","labels":{"alertname":"A"}}`)
	}
	many.WriteString("]}")
	if _, err := alerts.Parse([]byte(many.String()), incident.Outage); !errors.Is(err, alerts.ErrTooMany) {
		t.Fatalf("1,001 alerts: %v", err)
	}
}
