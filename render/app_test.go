package render

import (
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
)

func TestEnvTextCountsOnlyFailures(t *testing.T) {
	text, problems := EnvText([]probe.EnvFinding{
		{Level: probe.EnvOK, Text: "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY is set for production (plain), changed 30 d ago."},
		{Level: probe.EnvWarn, Text: "CLERK_SECRET_KEY is set for production (encrypted), changed 20 min ago: *changed within 24 h*: was it rotated into the wrong environment?"},
		{Level: probe.EnvFail, Text: "CLERK_SECRET_KEY is a development key (sk_test_) in production: production needs the sk_live_ key of the production instance."},
		{Level: probe.EnvFail, Text: "The keys are of different modes: pk_live_ with sk_test_. Use both keys of the same instance."},
		{Level: probe.EnvInfo, Text: "Stored as sensitive, so Vercel never returns the value; not checked: the signing secret's form (whsec_)."},
	})
	if problems != 2 {
		t.Errorf("problems %d, want 2 (warnings and notes are not problems)", problems)
	}
	golden(t, "env_check", Text(text))
}

func TestAgoIsShort(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * time.Second: "just now", 12 * time.Minute: "12 min ago", 47 * time.Hour: "47 h ago", 72 * time.Hour: "3 d ago"} {
		if got := Ago(d); got != want {
			t.Errorf("Ago(%s) = %q, want %q", d, got, want)
		}
	}
}
