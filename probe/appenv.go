package probe

import "strings"

// EnvFinding is one line of the check of the app's production Clerk
// variables (`env check`): it names variables, modes and times, never a
// value.
type EnvFinding struct {
	Level string // EnvOK, EnvWarn, EnvFail, EnvInfo
	Text  string
}

// The levels of a finding; only EnvFail counts as a problem.
const (
	EnvOK   = "ok"
	EnvWarn = "warn"
	EnvFail = "fail"
	EnvInfo = "info"
)

// KeyMode is a Clerk key's mode (live or test) by its well-known prefix
// only (kind is pk or sk), or "" when it has none.
func KeyMode(v, kind string) string {
	for _, m := range []string{"live", "test"} {
		if strings.HasPrefix(v, kind+"_"+m+"_") {
			return m
		}
	}
	return ""
}
