// Package rooms gives each incident its own Slack channel (INCIDENT_CHANNELS):
// created on open with the people who need it, linked from the main
// channel by a one-line announcement kept up to date, and archived a while
// after the incident is resolved.
package rooms

import (
	"strconv"
	"strings"
	"unicode"
)

// MaxName is Slack's limit on a channel name.
const MaxName = 80

// Name is the channel name of incident n: inc-<n>-<slug of the title>,
// within Slack's rules (lower case letters, digits, - and _, at most 80
// characters). Accented letters lose their accents; other scripts and
// symbols are dropped; runs of dashes collapse.
func Name(n int, title string) string {
	head := "inc-" + strconv.Itoa(n)
	slug := Slug(title)
	if slug == "" {
		return head
	}
	return clip(head+"-"+slug, MaxName)
}

// WithSuffix is the name tried after name_taken: name-2, name-3…, still
// within 80 characters.
func WithSuffix(name string, k int) string {
	suffix := "-" + strconv.Itoa(k)
	return clip(name, MaxName-len(suffix)) + suffix
}

// Slug is the title in channel-name characters.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if t, ok := latin(r); ok {
			b.WriteString(t)
			dash = false
			continue
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			dash = false
		case r > 0x7f && r != ' ' && !isSpaceOrPunct(r):
			// another script or a symbol: dropped
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// clip cuts s to at most n bytes (ASCII here) without a trailing dash.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.TrimRight(s, "-")
}

// latin transliterates the accented Latin letters titles use.
func latin(r rune) (string, bool) {
	switch r {
	case 'ß':
		return "ss", true
	case 'æ':
		return "ae", true
	case 'œ':
		return "oe", true
	case 'ø':
		return "o", true
	case 'đ':
		return "d", true
	case 'ł':
		return "l", true
	case 'þ':
		return "th", true
	case 'ı':
		return "i", true
	}
	for _, p := range [...]struct{ base, accented string }{
		{"a", "àáâãäåāăą"}, {"c", "çćĉċč"}, {"e", "èéêëēĕėęě"}, {"g", "ĝğġģ"}, {"h", "ĥħ"}, {"i", "ìíîïĩīĭįİ"},
		{"j", "ĵ"}, {"k", "ķ"}, {"l", "ĺļľŀ"}, {"n", "ñńņňŉ"}, {"o", "òóôõöōŏő"}, {"r", "ŕŗř"}, {"s", "śŝşšș"},
		{"t", "ţťŧț"}, {"u", "ùúûüũūŭůűų"}, {"w", "ŵ"}, {"y", "ýÿŷ"}, {"z", "źżž"},
	} {
		if strings.ContainsRune(p.accented, r) {
			return p.base, true
		}
	}
	return "", false
}

// isSpaceOrPunct reports non-ASCII separators (a no-break space, dashes,
// quotes) that part words like a space does.
func isSpaceOrPunct(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r)
}
