package account

import (
	"fmt"
	"time"
)

// Profile is what `user` shows about an account.
type Profile struct {
	User
	Created, LastSignIn, LastActive time.Time // zero: never
	TwoFactor, EmailVerified        bool
}

// SessionInfo is one active session with where it was last used from;
// Clerk's latest_activity may be null, leaving those fields empty.
type SessionInfo struct {
	ID                                 string
	Device, Browser, IP, City, Country string
	Mobile                             bool
	LastActive, Created                time.Time
}

// TrustedDevice is one device a user enrolled to skip MFA.
type TrustedDevice struct {
	ID       string `json:"id"`
	Platform string `json:"platform"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	LastUsed int64  `json:"last_used_at"`
}

// Groups are a user's sessions by IP address and by country, and which
// sessions stand out: a country (or, when most sessions share one IP,
// an IP) that differs from the majority.
type Groups struct {
	ByIP, ByCountry map[string]int
	MajorityCountry string
	MajorityIP      string            // "" unless more than half share it
	Flagged         map[string]string // session ID → why
}

// GroupSessions groups sessions and flags the outliers.
func GroupSessions(ss []SessionInfo) Groups {
	g := Groups{ByIP: map[string]int{}, ByCountry: map[string]int{}, Flagged: map[string]string{}}
	for _, s := range ss {
		g.ByIP[orUnknown(s.IP)]++
		g.ByCountry[orUnknown(s.Country)]++
	}
	g.MajorityCountry = majority(g.ByCountry, 0)
	g.MajorityIP = majority(g.ByIP, len(ss)/2)
	for _, s := range ss {
		switch {
		case len(g.ByCountry) > 1 && s.Country != "" && s.Country != g.MajorityCountry:
			g.Flagged[s.ID] = fmt.Sprintf("country %s differs from the usual %s", s.Country, g.MajorityCountry)
		case g.MajorityIP != "" && s.IP != "" && s.IP != g.MajorityIP:
			g.Flagged[s.ID] = fmt.Sprintf("IP %s differs from the usual %s", s.IP, g.MajorityIP)
		}
	}
	return g
}

// majority is the key with the largest count, if that count is over
// more (ties go to the alphabetically first, so the result is stable).
func majority(m map[string]int, more int) string {
	best, n := "", 0
	for k, c := range m {
		if k == "unknown" {
			continue
		}
		if c > n || (c == n && k < best) {
			best, n = k, c
		}
	}
	if n <= more {
		return ""
	}
	return best
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
