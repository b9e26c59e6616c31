// Package probe measures and checks the things an incident depends on:
// Clerk's API and JWKS, the app's health endpoint, the status page, keys
// and secrets. It returns data; the Slack side renders it.
package probe

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DiagnoseTarget is one thing diagnose measures.
type DiagnoseTarget struct {
	Name      string
	Threshold time.Duration
	Hint      string
	Do        func(ctx context.Context) error
	// Step is the checklist step timing this target performs (an
	// incident.Step… phrase), "" for none.
	Step string
}

// DiagnoseResult is its measurement.
type DiagnoseResult struct {
	Target   DiagnoseTarget
	P50, Max time.Duration
	Errors   int
	LastErr  string
	// Timings are the samples in the order taken (for charts).
	Timings []Timing
}

// Timing is one sample of a target.
type Timing struct {
	D  time.Duration
	OK bool
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
			r.Timings = append(r.Timings, Timing{D: d, OK: err == nil})
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		r.P50, r.Max = lat[len(lat)/2], lat[len(lat)-1]
		out = append(out, r)
	}
	return out
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

// CheckItem is one line of `check`.
type CheckItem struct {
	OK   bool
	Info bool // neither good nor bad: not configured
	Text string
	Fix  string
}

// Mask shows a secret's kind only: its well-known prefix, never a
// character of the secret itself nor its length (a Slack reply is
// read by many and kept).
func Mask(s string) string {
	if s == "" {
		return "(not set)"
	}
	for _, p := range []string{"sk_live_", "sk_test_", "pk_live_", "pk_test_", "whsec_", "xoxb-", "xapp-"} {
		if strings.HasPrefix(s, p) {
			return p + "…"
		}
	}
	return "…"
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
	// DetectStatus finds the status page's format (nil when not watched):
	// "<format> at <url>", or an error naming each candidate's answer.
	DetectStatus func(ctx context.Context) (string, error)
}

// RunChecks runs the runbook's "check environment variables", properly.
func RunChecks(ctx context.Context, in CheckInput) []CheckItem {
	var out checks
	checkKeys(ctx, in, &out)
	checkWebhook(in, &out)
	checkServices(ctx, in, &out)
	return out.items
}

// checks collects check items in order.
type checks struct{ items []CheckItem }

func (c *checks) add(ok bool, text, fix string) {
	c.items = append(c.items, CheckItem{OK: ok, Text: text, Fix: fix})
}

func (c *checks) info(it CheckItem) { c.items = append(c.items, it) }

// checkKeys checks the Clerk keys: their form, that they pair, that the
// secret key works.
func checkKeys(ctx context.Context, in CheckInput, out *checks) {
	add := out.add
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
		out.info(CheckItem{Info: true, Text: "CLERK_PUBLISHABLE_KEY is not set", Fix: "Set it to check the key pair and time the Frontend API JWKS."})
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
}

// checkWebhook checks the app webhook settings for `webhook check` and
// `resync`.
func checkWebhook(in CheckInput, out *checks) {
	add := out.add
	switch {
	case in.WebhookURL == "" && in.WebhookSecret == "":
		out.info(CheckItem{Info: true, Text: "APP_WEBHOOK_URL and APP_WEBHOOK_SECRET are not set", Fix: "Set them for `webhook check` and `resync`."})
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
}

// checkServices checks Redis, the contacts file, the status page and
// Slack.
func checkServices(ctx context.Context, in CheckInput, out *checks) {
	add := out.add
	if err := in.PingRedis(ctx); err != nil {
		add(false, "Redis does not answer", "Check REDIS_URL and that Redis is up; incident state cannot be read or written until it is.")
	} else {
		add(true, "Redis answers", "")
	}
	switch {
	case in.ContactsErr != "":
		add(false, "Contacts file: "+in.ContactsErr, "Fix the file named above; see the README's escalation section.")
	case in.ContactsFile == "":
		out.info(CheckItem{Info: true, Text: "No contacts file: the escalation ladder is off", Fix: "Set CONTACTS_FILE."})
	case len(in.Placeholders) > 0:
		add(false, fmt.Sprintf("Contacts file %s still has PLACEHOLDER Slack IDs (lines %v)", in.ContactsFile, in.Placeholders), "Replace them with your team's user or user group IDs.")
	default:
		add(true, "Contacts file "+in.ContactsFile+" is valid", "")
	}
	if in.DetectStatus != nil {
		if found, err := in.DetectStatus(ctx); err != nil {
			add(false, "Clerk status page: "+err.Error(), "Set CLERK_STATUS_URL to the page's root (https://status.clerk.com) or to an endpoint serving Statuspage, incident.io or RSS/Atom.")
		} else {
			add(true, "Clerk status page read as "+found, "")
		}
	}
	if who, err := in.PingSlack(ctx); err != nil {
		add(false, "Slack bot token check failed: "+err.Error(), "Reinstall the app and copy the Bot User OAuth Token (xoxb-…).")
	} else {
		add(true, "Slack tokens work (bot "+who+")", "")
	}
}

// Ms renders a timing for people: milliseconds under a second ("0.4 ms",
// "230 ms"), seconds above ("1.5 s"); never Go's "0s" or "230ms".
func Ms(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + " s"
}
