package secretscan

import "testing"

func TestFind(t *testing.T) {
	for _, leak := range []string{`token=xoxb-1-2-abc`, `xapp-1-A1-xyz`, `key sk_live_abcDEF`, `"whsec_MfKQ9r8GKYq"`,
		`url=http://127.0.0.1:5/response/12`, `redis://user:pw@host:6379`} {
		if Find(leak) == "" {
			t.Errorf("missed %s", leak)
		}
	}
	for _, ok := range []string{`level=info msg="incident opened" incident=INC-1`, `[redacted]`, `redis://127.0.0.1:6379/0`, `sk_ alone`} {
		if m := Find(ok); m != "" {
			t.Errorf("false alarm %q in %s", m, ok)
		}
	}
}
