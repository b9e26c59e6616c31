// Package alerts reads alerts from the team's own monitoring: Prometheus
// Alertmanager's webhook (version 4) and Grafana's webhook contact point
// (the same shape, version 1, with orgId), and keeps, in Redis, which
// alert firing was taken in (once per fingerprint and start, across
// replicas and retries) and which incident it went to. No Slack here.
package alerts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Limits on one request: Alertmanager's own max_alerts is unlimited by
// default, so a storm arrives whole; the body is bounded by the handler.
const (
	MaxBody   = 1 << 20
	MaxAlerts = 1000
	maxField  = 1000 // runes kept of a label or annotation value
)

// ErrTooMany is in the error of a request with more than MaxAlerts.
var ErrTooMany = errors.New("too many alerts")

// Status of one alert.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Payload is the webhook body: Alertmanager's version 4, or Grafana's
// version 1 (its extra fields are ignored).
type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Raw             `json:"alerts"`
	OrgID             *int64            `json:"orgId,omitempty"` // Grafana only
}

// Raw is one alert as sent.
type Raw struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Alert is one alert read for the bot: plain text (no markup: the
// publisher escapes it), a category and severity, and its identity.
type Alert struct {
	Fingerprint string
	Status      string
	Name        string // the alertname label
	Title       string // the summary annotation, else the alertname
	Description string
	Category    incident.Category
	Severity    incident.Severity
	Link        string // generatorURL, when it is an http(s) URL
	StartsAt    time.Time
	EndsAt      time.Time
	Labels      map[string]string
}

// Key is what makes one firing of an alert: its fingerprint and start
// (a repeat of the same notification, or a retry, has the same key).
func (a Alert) Key() string {
	return a.Fingerprint + ":" + a.StartsAt.UTC().Format(time.RFC3339Nano)
}

// Batch is one accepted request.
type Batch struct {
	Sender   string // "Alertmanager" or "Grafana"
	Receiver string
	Alerts   []Alert
}

// Parse reads and checks a webhook body; nothing is changed when it is
// refused. def is the category of alerts without a known `category`
// label (ALERTS_DEFAULT_CATEGORY). The error is apperr.Invalid with a
// sentence saying what is wrong.
func Parse(body []byte, def incident.Category) (Batch, error) {
	var p Payload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return Batch{}, bad("the body is not Alertmanager's webhook JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return Batch{}, bad("the body is not Alertmanager's webhook JSON: more than one JSON value")
	}
	b := Batch{Sender: "Alertmanager", Receiver: oneLine(p.Receiver, 100)}
	switch {
	case p.Version == "4":
	case p.Version == "1" && p.OrgID != nil:
		b.Sender = "Grafana"
	case p.Version == "":
		return Batch{}, bad(`the body is not Alertmanager's webhook JSON: no "version" (Alertmanager sends "4", Grafana "1" with "orgId")`)
	default:
		return Batch{}, bad("webhook version %q is not supported: Alertmanager's version 4 (or Grafana's 1, with orgId) is", oneLine(p.Version, 20))
	}
	if p.Alerts == nil {
		return Batch{}, bad(`the body has no "alerts" list`)
	}
	if len(p.Alerts) > MaxAlerts {
		return Batch{}, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%d alerts in one request; at most %d are taken (set max_alerts in the receiver's webhook_config)", len(p.Alerts), MaxAlerts), ErrTooMany)
	}
	for i, r := range p.Alerts {
		a, err := read(r, def)
		if err != nil {
			return Batch{}, bad("alert %d: %s", i+1, err)
		}
		b.Alerts = append(b.Alerts, a)
	}
	return b, nil
}

func bad(format string, args ...any) error {
	return apperr.New(apperr.Invalid, fmt.Sprintf(format, args...))
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tm *time.ParseError
	switch {
	case errors.As(err, &tm):
		return "startsAt and endsAt must be RFC 3339 times"
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%q should be %s, not %s", typ.Field, typ.Type, typ.Value)
	}
	return "invalid JSON"
}

func read(r Raw, def incident.Category) (Alert, error) {
	if r.Status != Firing && r.Status != Resolved {
		return Alert{}, fmt.Errorf(`status %q is neither "firing" nor "resolved"`, oneLine(r.Status, 20))
	}
	if len(r.Labels) == 0 {
		return Alert{}, errors.New("no labels (Alertmanager always sends alertname)")
	}
	a := Alert{Status: r.Status, StartsAt: r.StartsAt, EndsAt: r.EndsAt, Labels: map[string]string{}}
	for k, v := range r.Labels {
		a.Labels[oneLine(k, 100)] = oneLine(v, maxField)
	}
	a.Name = a.Labels["alertname"]
	a.Title = oneLine(r.Annotations["summary"], 300)
	if a.Title == "" {
		a.Title = a.Name
	}
	if a.Title == "" {
		a.Title = "Alert without a summary"
	}
	a.Description = oneLine(r.Annotations["description"], maxField)
	a.Category = def
	if c, ok := incident.ParseCategory(r.Labels["category"]); ok {
		a.Category = c
	}
	a.Severity = severity(r.Labels["severity"])
	a.Link = httpURL(r.GeneratorURL)
	a.Fingerprint = strings.ToLower(strings.TrimSpace(r.Fingerprint))
	if a.Fingerprint == "" || len(a.Fingerprint) > 64 || strings.Trim(a.Fingerprint, "0123456789abcdef") != "" {
		a.Fingerprint = fingerprint(r.Labels) // older senders: from the labels, as Alertmanager does
	}
	return a, nil
}

// severity maps the `severity` label: critical → P1, warning → P2,
// P1–P3 as given, anything else P3.
func severity(s string) incident.Severity {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "critical":
		return incident.P1
	case "warning":
		return incident.P2
	}
	if v, ok := incident.ParseSeverity(s); ok {
		return v
	}
	return incident.P3
}

// httpURL keeps an http(s) URL with a host ("" otherwise), its
// characters that would end a Slack link percent-encoded.
func httpURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 2000 {
		return ""
	}
	return strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", "\n", "", "\r", "").Replace(u.String())
}

func fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\xff%s\xff", k, labels[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// oneLine is s on one line, at most n runes: alert text is data, shown
// in a thread line or a card.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
