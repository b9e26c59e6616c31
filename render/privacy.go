package render

import (
	"net"
	"regexp"
	"strings"
	"unicode"
)

// Channel and thread posts are read by every member, guests included:
// they name accounts by Clerk user ID and name initials at most, never
// by e-mail, IP or city. The asker and the approvers get the full form
// ephemerally or in a DM.

// Initials are a name's initials ("Eve Smith" → "E.S."); "" for no name.
func Initials(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) {
				b.WriteRune(unicode.ToUpper(r))
				b.WriteByte('.')
				break
			}
		}
	}
	return b.String()
}

// Account names a Clerk account where the channel reads it: its user ID
// and, when known, its name's initials ("user_2x (E.S.)").
func Account(id, name string) string {
	if in := Initials(name); in != "" {
		return Esc(id) + " (" + in + ")"
	}
	return Esc(id)
}

var (
	emailInText = regexp.MustCompile(`[^\s@<>|(),;:"'` + "`" + `]+@[^\s@<>|(),;:"'` + "`" + `]+\.[A-Za-z]{2,}`)
	ipv4InText  = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	// ipv6Candidate finds hex-and-colon runs; net.ParseIP decides (a
	// time such as 03:15:00 is not one).
	ipv6Candidate = regexp.MustCompile(`(?i)[0-9a-f]*:[0-9a-f:.]*[0-9a-f:]`)
)

// Redact masks e-mail addresses and IP addresses in free text a person
// typed (a request's reason) before it is posted where the channel reads
// it; the full text stays with the asker and the approvers.
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
