package probe_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

func TestFrontendHost(t *testing.T) {
	cases := map[string]string{
		"pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk":   "foo-bar-13.clerk.accounts.dev",
		"pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk==": "foo-bar-13.clerk.accounts.dev",
		"pk_live_Y2xlcmsuZXhhbXBsZS5jb20k":                   "clerk.example.com",
		"pk_test_bm90LWEtaG9zdA":                             "",
		"pk_test_!!!":                                        "",
		"sk_test_abc":                                        "",
		"pk_test_Y2xlcmsuZXhhbXBsZS5jb20kJA":                 "", // two $
	}
	for in, want := range cases {
		got, err := probe.FrontendHost(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
}

// A masked secret keeps only its well-known prefix: no character of the
// secret, and nothing that tells its length.
func TestMaskShowsNoSecretCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"sk_live_abcdefghijklmnopqrstuvwxyz0123": "sk_live_…", "sk_live_abcdefgh": "sk_live_…",
		"sk_test_fakeclerkkey": "sk_test_…", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw": "whsec_…",
		"xoxb-1-2-abcdef": "xoxb-…", "opaque-secret-value": "…", "": "(not set)",
	} {
		if got := probe.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChecksReportMalformedKeysWithFixes(t *testing.T) {
	up := func(context.Context) error { return nil }
	items := probe.RunChecks(context.Background(), probe.CheckInput{
		SecretKey: "pk_test_notasecret", PublishableKey: "pk_test_!!!",
		WebhookURL: "ftp://x", WebhookSecret: "whsec_***",
		PingRedis: up, PingSlack: func(context.Context) (string, error) { return "", errors.New("invalid_auth") },
	})
	text := render.CheckText(items)
	for _, want := range []string{
		":x: CLERK_SECRET_KEY pk_test_… is not a secret key", "not the publishable pk_ key",
		":x: CLERK_PUBLISHABLE_KEY pk_test_… is malformed: its body is not base64", "Copy the publishable key again",
		":x: APP_WEBHOOK_URL is not an http(s) URL", ":x: APP_WEBHOOK_SECRET whsec_… is not a whsec_ base64 secret",
		":x: Slack bot token check failed: invalid_auth", "5 problem(s)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "notasecret") {
		t.Error("secret shown")
	}
}
