// Package account is Clerk's accounts and the references to them as data:
// users, their sessions and trusted devices, the instance's protection
// switches and blocklist entries, and the checks of the IDs people paste.
// It calls nothing: clerkops fills these types from Clerk's answers, and
// usecase, render and commands read them.
package account

import (
	"regexp"
	"strings"
)

// User is what the bot shows about a Clerk user.
type User struct {
	ID    string
	Email string // the primary address
	// Emails are all its addresses (a ref may name a secondary one).
	Emails []string
	Name   string
	Banned bool
	Locked bool
}

// Label names the user for messages.
func (u User) Label() string {
	if u.Email != "" {
		return u.Email + " (" + u.ID + ")"
	}
	return u.ID
}

var (
	userIDRe = regexp.MustCompile(`^user_[A-Za-z0-9]+$`)
	emailRe  = regexp.MustCompile(`^[^\s@<>|]+@[^\s@<>|]+\.[^\s@<>|]+$`)
)

// ParseRefs splits pasted text (spaces, commas, new lines, Slack mailto
// links) into user IDs and e-mail addresses, and names what is neither.
func ParseRefs(text string) (refs []string, invalid []string) {
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' || r == ';' }) {
		f = strings.Trim(f, "<>\"'`")
		if i := strings.Index(f, "|"); strings.HasPrefix(f, "mailto:") && i > 0 {
			f = f[i+1:] // Slack renders e-mails as <mailto:a@b.c|a@b.c>
		}
		f = strings.TrimPrefix(f, "mailto:")
		switch {
		case f == "":
		case userIDRe.MatchString(f), emailRe.MatchString(f):
			key := strings.ToLower(f)
			if !seen[key] {
				seen[key] = true
				refs = append(refs, f)
			}
		default:
			invalid = append(invalid, f)
		}
	}
	return refs, invalid
}

// IsUserID reports whether ref is a Clerk user ID.
func IsUserID(ref string) bool { return userIDRe.MatchString(ref) }

// RevokeResult is what revoking one user's sessions did.
type RevokeResult struct {
	User    string
	Revoked int
	Left    int // sessions still active afterwards (should be 0)
	Err     error
}

var tokenRe = regexp.MustCompile(`^(sit|act)_[A-Za-z0-9]+$`)

// IsTokenID reports whether s is a sign-in token (sit_…) or actor token
// (act_…) ID.
func IsTokenID(s string) bool { return tokenRe.MatchString(s) }

// TokenResult is what revoking one outstanding token did.
type TokenResult struct {
	ID, User, Status string
}
