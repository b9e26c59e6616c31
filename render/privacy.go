package render

import (
	"strings"
	"unicode"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
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

// Redact masks e-mail addresses and IP addresses in free text a person
// typed (a request's reason) before it is posted where the channel reads
// it; the full text stays with the asker and the approvers.
func Redact(s string) string { return incident.Redact(s) }

// HasPersonalData reports whether s holds an e-mail or IP address (what
// Redact masks).
func HasPersonalData(s string) bool { return incident.HasPersonalData(s) }
