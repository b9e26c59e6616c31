package account_test

import (
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
)

func TestParseRefs(t *testing.T) {
	refs, bad := account.ParseRefs("user_2abc, <mailto:eve@example.com|eve@example.com>\nbob@example.com  USER_2abc nope; user_2abc")
	if strings.Join(refs, " ") != "user_2abc eve@example.com bob@example.com" {
		t.Fatalf("refs %q", refs)
	}
	if strings.Join(bad, " ") != "USER_2abc nope" {
		t.Fatalf("invalid %q", bad)
	}
}

func TestBlockTarget(t *testing.T) {
	for in, want := range map[string]struct {
		id     string
		domain bool
		ok     bool
	}{
		"Eve@Example.com":                          {"eve@example.com", false, true},
		"<mailto:eve@example.com|eve@example.com>": {"eve@example.com", false, true},
		"+15555550123":                             {"+15555550123", false, true},
		"*@Evil.example":                           {"*@evil.example", true, true},
		"*@evil":                                   {"", false, false},
		"*@*.example":                              {"", false, false},
		"5555550123":                               {"", false, false},
		"eve":                                      {"", false, false},
		"*eve@example.com":                         {"", false, false},
	} {
		id, domain, ok := account.BlockTarget(in)
		if id != want.id || domain != want.domain || ok != want.ok {
			t.Errorf("BlockTarget(%q) = %q %v %v, want %+v", in, id, domain, ok, want)
		}
	}
	for _, s := range []string{"sit_2abc", "act_2abc"} {
		if !account.IsTokenID(s) {
			t.Errorf("%s is a token ID", s)
		}
	}
	for _, s := range []string{"sess_2abc", "sit_", "user_2abc", "sit_a b"} {
		if account.IsTokenID(s) {
			t.Errorf("%s is not a token ID", s)
		}
	}
}
