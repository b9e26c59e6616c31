package account

import (
	"regexp"
	"strings"
	"time"
)

// Protect is Clerk Protect's two switches.
type Protect struct {
	Rules   bool `json:"rules_enabled"`
	Specter bool `json:"specter_enabled"`
}

// Restrictions are the instance's sign-up restrictions as Clerk answered.
type Restrictions struct {
	Allowlist, Blocklist, Subaddresses, Disposable bool
}

// Restriction names, as `restrict` takes them.
const (
	RestrictDisposable   = "disposable"
	RestrictSubaddresses = "subaddresses"
)

// Blocked is one blocklist identifier as Clerk answered.
type Blocked struct {
	ID, Identifier, Type string
}

var (
	phoneRe  = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	domainRe = regexp.MustCompile(`^\*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
)

// BlockTarget checks an identifier for the blocklist: an e-mail address,
// a phone number in E.164 (+…) or a whole domain (*@example.com). It
// returns the identifier as Clerk stores it and whether it is a domain.
func BlockTarget(s string) (id string, domain bool, ok bool) {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	if i := strings.Index(s, "|"); strings.HasPrefix(s, "mailto:") && i > 0 {
		s = s[i+1:]
	}
	s = strings.TrimPrefix(s, "mailto:")
	switch {
	case domainRe.MatchString(s):
		return strings.ToLower(s), true, true
	case phoneRe.MatchString(s):
		return s, false, true
	case emailRe.MatchString(s) && !strings.HasPrefix(s, "*"):
		return strings.ToLower(s), false, true
	}
	return "", false, false
}

// MaxKeep is the longest a rotated machine key stays valid (Clerk's
// previous_token_ttl maximum).
const MaxKeep = 8 * time.Hour

var (
	machineRe = regexp.MustCompile(`^mch_[A-Za-z0-9]+$`)
	oauthRe   = regexp.MustCompile(`^oa_[A-Za-z0-9]+$`)
)

// IsMachineID and IsOAuthAppID check the IDs `rotate` takes.
func IsMachineID(s string) bool  { return machineRe.MatchString(s) }
func IsOAuthAppID(s string) bool { return oauthRe.MatchString(s) }
