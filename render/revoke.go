package render

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// RevokeFile names the file of a revoke's every result.
const RevokeFile = "revoke-result.txt"

// Revoke is a revoke of sessions as render reads it: one result per user
// found (as a lockout's: Target the user ID, Name theirs), the refs that
// matched no user (Outcome.Unknown), and the sessions revoked in all.
type Revoke struct {
	By       incident.Person
	Outcome  *approval.Outcome
	Sessions int
	Failed   int
	// Emails are the users' labels for the asker (e-mail and ID), by
	// user ID; the thread reads IDs and initials.
	Emails map[string]string
	// Invalid are the words given that are no user ID or e-mail.
	Invalid []string
}

// RevokeNoneFound is the asker's answer when no ref matched a user:
// nothing was sent to Clerk.
func RevokeNoneFound(unknown, invalid []string) string {
	var b strings.Builder
	b.WriteString(":grey_question: *No sessions revoked:* no Clerk user matched, so nothing was sent to Clerk.")
	b.WriteString(refProblems(unknown, invalid))
	return b.String()
}

// RevokeReply is the result for the asker: each user by e-mail and ID,
// and every ref not found, by name.
func RevokeReply(v Revoke) string {
	l := v.list()
	l.Label = func(r approval.TargetResult) string {
		if label, ok := v.Emails[r.Target]; ok {
			return Esc(label)
		}
		return Esc(r.Target)
	}
	l.Tail = v.counts() + refProblems(v.Outcome.Unknown, v.Invalid)
	msg, _ := l.Text()
	return msg
}

// RevokeThread is the result as the thread reads it (guests included):
// user IDs and initials, only a count of the refs not found; full is the
// attached file's content when the message does not hold every result.
func RevokeThread(v Revoke) (msg, full string) {
	l := v.list()
	l.Tail = v.counts()
	if c := v.counts(); c != "" {
		l.PlainTail = strings.TrimPrefix(c, "\n") + "\n"
	}
	if n := len(v.Outcome.Unknown) + len(v.Invalid); n > 0 {
		l.Tail += fmt.Sprintf("\n:grey_question: %d of the targets given were not found in Clerk or not a user ID or e-mail; %s has the list.", n, Who(v.By))
		l.PlainTail += fmt.Sprintf("%d of the targets given were not found in Clerk or not a user ID or e-mail.\n", n)
	}
	return l.Text()
}

// list is the results under the head that says what happened: "Sessions
// revoked" only when some were.
func (r Revoke) list() ResultList {
	head := fmt.Sprintf(":lock: *Sessions revoked* by %s", Who(r.By))
	by := r.By.Name
	if by == "" {
		by = r.By.ID
	}
	title := "Sessions revoked by " + PlainName(by)
	if r.Sessions == 0 {
		head = fmt.Sprintf(":information_source: *No sessions revoked* (revoke by %s)", Who(r.By))
		title = "No sessions revoked (revoke by " + PlainName(by) + ")"
	}
	return ResultList{Head: head, Title: title, Results: r.Outcome.Results, File: RevokeFile}
}

// counts sums up a long revoke.
func (r Revoke) counts() string {
	if len(r.Outcome.Results) <= 50 {
		return ""
	}
	return fmt.Sprintf("\n%d users done, %d sessions revoked, %d failed.", len(r.Outcome.Results), r.Sessions, r.Failed)
}

// refProblems names, for the asker alone, the refs not found and the
// words that are no ref (Slack's control characters escaped).
func refProblems(unknown, invalid []string) string {
	var b strings.Builder
	if len(unknown) > 0 {
		fmt.Fprintf(&b, "\n:grey_question: Not found in Clerk: %s", Esc(approval.Describe(unknown)))
	}
	if len(invalid) > 0 {
		fmt.Fprintf(&b, "\n:grey_question: Not a user ID or e-mail, skipped: %s", Esc(approval.Describe(invalid)))
	}
	return b.String()
}

// UnlockedLine says a user's ban and lockout were lifted; name is the
// user as the reader may see them (the asker: e-mail; the thread: ID and
// initials), already Slack text.
func UnlockedLine(by incident.Person, name string, lockoutOff bool) string {
	if lockoutOff {
		return fmt.Sprintf(":unlock: %s unbanned %s; they can sign in again (user lockout is off on this Clerk instance, so no lockout was in place).", Who(by), name)
	}
	return fmt.Sprintf(":unlock: %s unbanned and unlocked %s; they can sign in again.", Who(by), name)
}
