package incident

import (
	"net"
	"regexp"
	"strings"
)

// The patterns of personal data masked where the channel reads (the
// report, thread lines): one definition, render.Redact uses it too.
var (
	emailInText = regexp.MustCompile(`[^\s@<>|(),;:"'` + "`" + `]+@[^\s@<>|(),;:"'` + "`" + `]+\.[A-Za-z]{2,}`)
	ipv4InText  = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	// ipv6Candidate finds hex-and-colon runs; net.ParseIP decides (a
	// time such as 03:15:00 is not one).
	ipv6Candidate = regexp.MustCompile(`(?i)[0-9a-f]*:[0-9a-f:.]*[0-9a-f:]`)
)

// Redact masks e-mail addresses and IP addresses in free text before it
// is shown where the channel reads it.
func Redact(s string) string {
	s = emailInText.ReplaceAllString(s, "[e-mail]")
	s = ipv4InText.ReplaceAllString(s, "[IP]")
	return ipv6Candidate.ReplaceAllStringFunc(s, func(c string) string {
		if isIPv6(c) {
			return "[IP]"
		}
		return c
	})
}

func isIPv6(c string) bool {
	return strings.Count(c, ":") >= 2 && net.ParseIP(c) != nil
}

// HasPersonalData reports whether s holds an e-mail or IP address (what
// Redact masks).
func HasPersonalData(s string) bool {
	if emailInText.MatchString(s) || ipv4InText.MatchString(s) {
		return true
	}
	for _, c := range ipv6Candidate.FindAllString(s, -1) {
		if isIPv6(c) {
			return true
		}
	}
	return false
}
