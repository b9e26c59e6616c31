package rooms

import (
	"regexp"
	"strings"
	"testing"
)

var valid = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)

func TestNameFollowsSlacksRules(t *testing.T) {
	for _, c := range []struct {
		n     int
		title string
		want  string
	}{
		{7, "Sign-in failing", "inc-7-sign-in-failing"},
		{12, "  Webhooks: 500s from /api/clerk!!  ", "inc-12-webhooks-500s-from-api-clerk"},
		{3, "Déjà vu — Straße façade", "inc-3-deja-vu-strasse-facade"},
		{4, "ログイン 障害 login", "inc-4-login"},
		{5, "", "inc-5"},
		{6, "!!!", "inc-6"},
		{8, "snake_case OK", "inc-8-snake_case-ok"},
		{9, "a -- b", "inc-9-a-b"},
		{10, "🔥 fire 🔥", "inc-10-fire"},
	} {
		got := Name(c.n, c.title)
		if got != c.want {
			t.Errorf("Name(%d, %q) = %q, want %q", c.n, c.title, got, c.want)
		}
		if !valid.MatchString(got) {
			t.Errorf("Name(%d, %q) = %q breaks Slack's rules", c.n, c.title, got)
		}
	}
}

func TestNameAndSuffixStayWithin80(t *testing.T) {
	long := strings.Repeat("very long title ", 20)
	name := Name(123, long)
	if len(name) > 80 || !valid.MatchString(name) || strings.HasSuffix(name, "-") || !strings.HasPrefix(name, "inc-123-very-long") {
		t.Fatalf("long name %q (%d)", name, len(name))
	}
	for _, k := range []int{2, 10, 100} {
		s := WithSuffix(name, k)
		if len(s) > 80 || !valid.MatchString(s) || strings.Contains(s, "--") {
			t.Errorf("WithSuffix(%d) = %q (%d)", k, s, len(s))
		}
	}
	if got := WithSuffix("inc-1-x", 2); got != "inc-1-x-2" {
		t.Errorf("WithSuffix short = %q", got)
	}
}
