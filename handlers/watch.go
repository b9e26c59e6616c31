package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// StatusSource gives the live Clerk status and the last app probe.
type StatusSource interface {
	Live(ctx context.Context) statuswatch.Snapshot
}

// poller is who opens incidents from status changes.
var poller = incident.Person{Name: "status poller"}

// OpenAlert implements statuswatch.Reporter: it opens an incident (or
// attaches the alert to an open one of the same category), posts the
// alert to the channel and starts the ladder.
func (h *Handlers) OpenAlert(ctx context.Context, a statuswatch.Alert) (string, error) {
	if h.channel == "" {
		return "", errors.New("SLACK_CHANNEL_ID is not set, so there is no channel for auto-opened incidents")
	}
	inc, err := h.store.Open(ctx, incident.OpenParams{Category: a.Category, Severity: a.Severity, Title: truncate(a.Title, MaxTitle), By: poller, Channel: h.channel})
	var dup *incident.DuplicateError
	if errors.As(err, &dup) {
		inc = dup.Existing
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(poller, "Status alert attached: "+a.Title))
		h.thread(ctx, inc, AlertText(a, inc.ID, true))
		return inc.ID, nil
	}
	if err != nil {
		return "", err
	}
	if a.Impact != "" {
		if updated, err := h.store.Update(ctx, inc.ID, incident.SetImpact(poller, a.Impact)); err == nil {
			inc = updated
		}
	}
	h.refresh(ctx, inc)
	if inc.CardTS != "" {
		h.postChecklist(ctx, inc)
	}
	m := Text(AlertText(a, inc.ID, false))
	m.Broadcast = true
	if _, err := h.slack.Post(ctx, inc.Channel, inc.CardTS, m); err != nil {
		h.log.WithError(err).Warn("could not post status alert")
	}
	h.startLadder(ctx, inc)
	h.system(ctx, "status poller", "open", a.Title, inc.ID)
	return inc.ID, nil
}

// AlertText renders a status alert.
func AlertText(a statuswatch.Alert, id string, attached bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":rotating_light: *%s*", a.Title)
	if a.Impact != "" {
		b.WriteString("\n*Impact:* " + a.Impact)
	}
	if len(a.Components) > 0 {
		b.WriteString("\n*Affected:* " + strings.Join(a.Components, ", "))
	}
	if a.Update != "" {
		b.WriteString("\n*Latest update:* " + truncate(a.Update, 1500))
	}
	if a.Link != "" {
		fmt.Fprintf(&b, "\n<%s|Details>", a.Link)
	}
	if attached {
		fmt.Fprintf(&b, "\nAttached to %s, already open for this category.", id)
	} else {
		fmt.Fprintf(&b, "\n%s was opened automatically after %d consecutive polls.", id, a.Polls)
	}
	return b.String()
}

// ThreadNote implements statuswatch.Reporter.
func (h *Handlers) ThreadNote(ctx context.Context, id, text string) {
	inc, err := h.store.Current(ctx, id)
	if err != nil {
		return
	}
	_, _ = h.store.Update(ctx, id, incident.Record(poller, oneLine(text)))
	h.thread(ctx, inc, text)
}

// ChannelNote implements statuswatch.Reporter.
func (h *Handlers) ChannelNote(ctx context.Context, text string) {
	if h.channel == "" {
		h.log.Warn(text)
		return
	}
	if _, err := h.slack.Post(ctx, h.channel, "", Text(text)); err != nil {
		h.log.WithError(err).Warn("could not post channel note")
	}
}

// IncidentOpen implements statuswatch.Reporter.
func (h *Handlers) IncidentOpen(ctx context.Context, id string) bool {
	inc, err := h.store.Current(ctx, id)
	return err == nil && inc.Open()
}

// LiveText renders the live Clerk status and app health block.
func LiveText(s statuswatch.Snapshot) string {
	var b strings.Builder
	switch {
	case s.Summary == nil && s.Err != "":
		b.WriteString(":grey_question: *Clerk status:* unknown (" + s.Err + ")")
	case s.Summary == nil:
		b.WriteString(":grey_question: *Clerk status:* not polled yet")
	default:
		icon := map[string]string{"none": ":large_green_circle:", "minor": ":large_yellow_circle:", "major": ":large_orange_circle:",
			"critical": ":red_circle:", "maintenance": ":wrench:"}[s.Summary.Indicator]
		if icon == "" {
			icon = ":grey_question:"
		}
		desc := s.Summary.Description
		if desc == "" {
			desc = s.Summary.Indicator
		}
		fmt.Fprintf(&b, "%s *Clerk status:* %s (%s)", icon, desc, s.Summary.Indicator)
		if s.Err != "" {
			b.WriteString(" · last poll failed: " + s.Err)
		}
		if bad := s.Summary.NotOperational(); len(bad) > 0 {
			var parts []string
			for _, c := range bad {
				parts = append(parts, fmt.Sprintf("%s (%s)", c.Name, strings.ReplaceAll(c.Status, "_", " ")))
			}
			b.WriteString("\n*Not operational:* " + strings.Join(parts, ", "))
		}
		for _, in := range s.Summary.Incidents {
			if in.Status == "resolved" {
				continue
			}
			line := fmt.Sprintf("\n• Upstream: *%s* (%s)", in.Name, in.Status)
			if in.URL != "" {
				line += fmt.Sprintf(" <%s|details>", in.URL)
			}
			b.WriteString(line)
		}
	}
	if s.Health != nil {
		hh := s.Health
		if hh.OK {
			fmt.Fprintf(&b, "\n:white_check_mark: *App health:* %d in %s at %s", hh.Status, ms(hh.Latency), slackDate(hh.At))
		} else {
			what := hh.Err
			if what == "" {
				what = fmt.Sprintf("status %d", hh.Status)
			}
			fmt.Fprintf(&b, "\n:x: *App health:* %s after %s at %s", what, ms(hh.Latency), slackDate(hh.At))
		}
	}
	return b.String()
}

func (h *Handlers) live(ctx context.Context) string {
	if h.watch == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return LiveText(h.watch.Live(ctx))
}

// withLive puts the live status block on top of a reply.
func withLive(m bot.Msg, live string) bot.Msg {
	if live == "" {
		return m
	}
	m.Blocks = append(Text(live).Blocks, m.Blocks...)
	return m
}

// DiagnoseTarget is one thing diagnose measures.
type DiagnoseTarget struct {
	Name      string
	Threshold time.Duration
	Hint      string
	Do        func(ctx context.Context) error
}

// DiagnoseResult is its measurement.
type DiagnoseResult struct {
	Target   DiagnoseTarget
	P50, Max time.Duration
	Errors   int
	LastErr  string
}

// Diagnose samples each target n times, one after the other.
func Diagnose(ctx context.Context, targets []DiagnoseTarget, n int) []DiagnoseResult {
	var out []DiagnoseResult
	for _, t := range targets {
		var lat []time.Duration
		r := DiagnoseResult{Target: t}
		for range n {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			start := time.Now()
			err := t.Do(cctx)
			d := time.Since(start)
			cancel()
			if err != nil {
				r.Errors++
				r.LastErr = err.Error()
			}
			lat = append(lat, d)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		r.P50, r.Max = lat[len(lat)/2], lat[len(lat)-1]
		out = append(out, r)
	}
	return out
}

// DiagnoseText renders results against the runbook's thresholds.
func DiagnoseText(rs []DiagnoseResult, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":stopwatch: *Diagnosis* (%d samples each; p50 / max)", n)
	var hints []string
	for _, r := range rs {
		icon := ":white_check_mark:"
		switch {
		case r.Errors > 0:
			icon = ":x:"
		case r.P50 > r.Target.Threshold:
			icon = ":warning:"
		}
		fmt.Fprintf(&b, "\n%s %s: %s / %s (threshold %s)", icon, r.Target.Name, ms(r.P50), ms(r.Max), ms(r.Target.Threshold))
		if r.Errors > 0 {
			fmt.Fprintf(&b, " · %d of %d failed: %s", r.Errors, n, truncate(r.LastErr, 200))
		}
		if (r.Errors > 0 || r.P50 > r.Target.Threshold) && r.Target.Hint != "" {
			hints = append(hints, fmt.Sprintf("%s is slow or failing (%s): %s", r.Target.Name, ms(r.P50), r.Target.Hint))
		}
	}
	if len(hints) == 0 {
		b.WriteString("\nEverything is within the runbook's thresholds.")
	}
	for _, h := range hints {
		b.WriteString("\n:point_right: " + h)
	}
	return b.String()
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// ProbeURL is a DiagnoseTarget action: GET url expecting 2xx.
func ProbeURL(hc *http.Client, url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return errors.New("unreachable or timed out")
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("answered %d", resp.StatusCode)
		}
		return nil
	}
}

func (h *Handlers) diagnose(ctx context.Context, r req, p Parsed) {
	n := 5
	if len(p.Args) > 0 {
		if _, err := fmt.Sscanf(p.Args[0], "%d", &n); err != nil || n < 1 || n > 50 {
			h.fail(ctx, r, &UsageError{Problem: "The number of samples must be 1 to 50.", Usage: p.Sub.Usage})
			return
		}
	}
	if len(h.diagTargets) == 0 {
		h.replyText(ctx, r, "Nothing to diagnose: set CLERK_SECRET_KEY, APP_HEALTH_URL or CLERK_STATUS_URL.")
		return
	}
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	text := DiagnoseText(Diagnose(ctx, h.diagTargets, n), n)
	if inc != nil {
		_, _ = h.store.Update(ctx, inc.ID, incident.Record(r.who, "Diagnosis: "+oneLine(strings.ReplaceAll(text, "\n", "; "))))
		h.thread(ctx, inc, text)
	}
	h.replyText(ctx, r, text)
}

// CheckItem is one line of `check`.
type CheckItem struct {
	OK   bool
	Info bool // neither good nor bad: not configured
	Text string
	Fix  string
}

// Mask shows a secret's prefix and last four characters only.
func Mask(s string) string {
	if s == "" {
		return "(not set)"
	}
	prefix := ""
	for _, p := range []string{"sk_live_", "sk_test_", "pk_live_", "pk_test_", "whsec_", "xoxb-", "xapp-"} {
		if strings.HasPrefix(s, p) {
			prefix = p
		}
	}
	if len(s)-len(prefix) < 8 {
		return prefix + "…"
	}
	return prefix + "…" + s[len(s)-4:]
}

// FrontendHost decodes a publishable key to its Frontend API host.
func FrontendHost(pk string) (string, error) {
	parts := strings.SplitN(pk, "_", 3)
	if len(parts) != 3 || parts[0] != "pk" || (parts[1] != "live" && parts[1] != "test") {
		return "", errors.New("it does not look like pk_live_… or pk_test_…")
	}
	enc := strings.TrimRight(parts[2], "=")
	raw, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(enc)
	}
	if err != nil {
		return "", errors.New("its body is not base64")
	}
	host := string(raw)
	if strings.Count(host, "$") != 1 || !strings.HasSuffix(host, "$") {
		return "", errors.New("it does not decode to a host ending in one $")
	}
	host = strings.TrimSuffix(host, "$")
	if !strings.Contains(host, ".") || strings.ContainsAny(host, " /") {
		return "", errors.New("it does not decode to a host name")
	}
	return host, nil
}

// CheckInput is what `check` looks at.
type CheckInput struct {
	SecretKey      string
	PublishableKey string
	WebhookURL     string
	WebhookSecret  string
	ContactsFile   string
	ContactsErr    string
	Placeholders   []int
	PingClerk      func(ctx context.Context) error // nil when no key
	PingRedis      func(ctx context.Context) error
	PingSlack      func(ctx context.Context) (string, error)
}

// RunChecks runs the runbook's "check environment variables", properly.
func RunChecks(ctx context.Context, in CheckInput) []CheckItem {
	var out []CheckItem
	add := func(ok bool, text, fix string) { out = append(out, CheckItem{OK: ok, Text: text, Fix: fix}) }
	kind := func(k string) string {
		if strings.Contains(k, "_live_") {
			return "live"
		}
		return "test"
	}
	switch {
	case in.SecretKey == "":
		add(false, "CLERK_SECRET_KEY is not set", "Set it from Clerk Dashboard > API keys (sk_live_… in production).")
	case !strings.HasPrefix(in.SecretKey, "sk_live_") && !strings.HasPrefix(in.SecretKey, "sk_test_"):
		add(false, "CLERK_SECRET_KEY "+Mask(in.SecretKey)+" is not a secret key", "Use the key starting sk_live_ or sk_test_, not the publishable pk_ key.")
	default:
		add(true, "CLERK_SECRET_KEY "+Mask(in.SecretKey)+" ("+kind(in.SecretKey)+")", "")
	}
	pkOK := false
	switch host, err := FrontendHost(in.PublishableKey); {
	case in.PublishableKey == "":
		out = append(out, CheckItem{Info: true, Text: "CLERK_PUBLISHABLE_KEY is not set", Fix: "Set it to check the key pair and time the Frontend API JWKS."})
	case err != nil:
		add(false, "CLERK_PUBLISHABLE_KEY "+Mask(in.PublishableKey)+" is malformed: "+err.Error(), "Copy the publishable key again from Clerk Dashboard > API keys.")
	default:
		pkOK = true
		add(true, "CLERK_PUBLISHABLE_KEY "+Mask(in.PublishableKey)+" → Frontend API "+host, "")
	}
	if pkOK && in.SecretKey != "" {
		if kind(in.SecretKey) != kind(in.PublishableKey) {
			add(false, fmt.Sprintf("The keys do not match: secret key is %s, publishable key is %s", kind(in.SecretKey), kind(in.PublishableKey)),
				"Use both keys of the same instance: sk_live_ with pk_live_, or sk_test_ with pk_test_.")
		} else {
			add(true, "The secret and publishable keys are both "+kind(in.SecretKey), "")
		}
	}
	if in.PingClerk != nil {
		if err := in.PingClerk(ctx); err != nil {
			add(false, "The secret key does not work: "+err.Error(), "Check the key belongs to this instance and has not been rolled.")
		} else {
			add(true, "The secret key works (GET /jwks)", "")
		}
	}
	switch {
	case in.WebhookURL == "" && in.WebhookSecret == "":
		out = append(out, CheckItem{Info: true, Text: "APP_WEBHOOK_URL and APP_WEBHOOK_SECRET are not set", Fix: "Set them for `webhook check` and `resync`."})
	default:
		if !strings.HasPrefix(in.WebhookURL, "https://") && !strings.HasPrefix(in.WebhookURL, "http://") {
			add(false, "APP_WEBHOOK_URL is not an http(s) URL", "Set it to the app's Clerk webhook endpoint, e.g. https://yourapp.com/api/webhooks/clerk.")
		} else {
			add(true, "APP_WEBHOOK_URL is set", "")
		}
		if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(in.WebhookSecret, "whsec_")); err != nil || !strings.HasPrefix(in.WebhookSecret, "whsec_") {
			add(false, "APP_WEBHOOK_SECRET "+Mask(in.WebhookSecret)+" is not a whsec_ base64 secret", "Copy the endpoint's Signing Secret from Clerk Dashboard > Webhooks.")
		} else {
			add(true, "APP_WEBHOOK_SECRET "+Mask(in.WebhookSecret)+" is well formed", "")
		}
	}
	if err := in.PingRedis(ctx); err != nil {
		add(false, "Redis does not answer", "Check REDIS_URL and that Redis is up; incident state cannot be read or written until it is.")
	} else {
		add(true, "Redis answers", "")
	}
	switch {
	case in.ContactsErr != "":
		add(false, "Contacts file: "+in.ContactsErr, "Fix the file named above; see the README's escalation section.")
	case in.ContactsFile == "":
		out = append(out, CheckItem{Info: true, Text: "No contacts file: the escalation ladder is off", Fix: "Set CONTACTS_FILE."})
	case len(in.Placeholders) > 0:
		add(false, fmt.Sprintf("Contacts file %s still has PLACEHOLDER Slack IDs (lines %v)", in.ContactsFile, in.Placeholders), "Replace them with your team's user or user group IDs.")
	default:
		add(true, "Contacts file "+in.ContactsFile+" is valid", "")
	}
	if who, err := in.PingSlack(ctx); err != nil {
		add(false, "Slack bot token check failed: "+err.Error(), "Reinstall the app and copy the Bot User OAuth Token (xoxb-…).")
	} else {
		add(true, "Slack tokens work (bot "+who+")", "")
	}
	return out
}

// CheckText renders the check list.
func CheckText(items []CheckItem) string {
	var b strings.Builder
	bad := 0
	for _, it := range items {
		icon := ":white_check_mark:"
		switch {
		case it.Info:
			icon = ":information_source:"
		case !it.OK:
			icon = ":x:"
			bad++
		}
		b.WriteString(icon + " " + it.Text)
		if it.Fix != "" && !it.OK {
			b.WriteString("\n\u2003→ " + it.Fix)
		}
		b.WriteString("\n")
	}
	if bad == 0 {
		return "*Configuration check: all good*\n" + b.String()
	}
	return fmt.Sprintf("*Configuration check: %d problem(s)*\n", bad) + b.String()
}

func (h *Handlers) check(ctx context.Context, r req) {
	in := h.checkInput
	if in.PingRedis == nil {
		in.PingRedis = func(ctx context.Context) error { _, err := h.store.ListOpen(ctx); return err }
	}
	if in.PingSlack == nil {
		in.PingSlack = func(ctx context.Context) (string, error) { return "", errors.New("not checked") }
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	h.replyText(ctx, r, CheckText(RunChecks(ctx, in)))
}
