package render

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
)

// maxResult keeps a result inside one Slack section.
const maxResult = 2800

// ResultList is per-target results (a lockout's, a revoke's) as one
// message: failures first, then successes, then the tail. When that does
// not fit, the message keeps the failures that fit and names the file
// that holds every result as plain text.
type ResultList struct {
	Head    string // Slack text, the first line
	Title   string // the file's first line, plain
	Results []approval.TargetResult
	// Label names a target in Slack text; nil: its ID and the initials of
	// its name, what the channel reads.
	Label     func(approval.TargetResult) string
	Tail      string // Slack text after the list
	PlainTail string // the file's last lines, plain
	File      string // the attached file's name
}

// Text is the message, and the file's content when the message does not
// hold every result (else "").
func (re ResultList) Text() (msg, full string) {
	var failures, successes []approval.TargetResult
	for _, r := range re.Results {
		if r.OK {
			successes = append(successes, r)
		} else {
			failures = append(failures, r)
		}
	}
	ordered := append(append([]approval.TargetResult(nil), failures...), successes...)
	var all strings.Builder
	all.WriteString(re.Head)
	for _, r := range ordered {
		all.WriteString("\n• " + re.line(r))
	}
	all.WriteString(re.Tail)
	if all.Len() <= maxResult {
		return all.String(), ""
	}
	var b strings.Builder
	b.WriteString(re.Head)
	shown := 0
	for _, r := range failures {
		s := re.line(r)
		if b.Len()+len(s)+len(re.Tail)+200 > maxResult {
			break
		}
		b.WriteString("\n• " + s)
		shown++
	}
	if left := len(failures) - shown; left > 0 {
		fmt.Fprintf(&b, "\n… and %d more failures", left)
	}
	if len(successes) > 0 {
		fmt.Fprintf(&b, "\n%d succeeded.", len(successes))
	}
	fmt.Fprintf(&b, "\nThe full result is in the attached file `%s`.", re.File)
	b.WriteString(re.Tail)
	return b.String(), re.file(ordered)
}

// line is one target's result in Slack text.
func (re ResultList) line(r approval.TargetResult) string {
	who := Account(Redact(r.Target), r.Name)
	if re.Label != nil {
		who = re.Label(r)
	}
	switch {
	case r.OK:
		return who + ": " + Esc(r.Done)
	case r.Done != "":
		return who + ": " + Esc(r.Done) + "; :warning: " + Esc(Redact(r.Error))
	}
	return who + ": :x: " + Esc(Redact(r.Error))
}

// file is every result as plain text: IDs and initials, no e-mail.
func (re ResultList) file(ordered []approval.TargetResult) string {
	var f strings.Builder
	f.WriteString(re.Title + "\n")
	for _, r := range ordered {
		who := Redact(r.Target)
		if in := Initials(r.Name); in != "" {
			who += " (" + in + ")"
		}
		switch {
		case r.OK:
			fmt.Fprintf(&f, "- %s: %s\n", who, r.Done)
		case r.Done != "":
			fmt.Fprintf(&f, "- %s: %s; WARNING %s\n", who, r.Done, Redact(r.Error))
		default:
			fmt.Fprintf(&f, "- %s: FAILED %s\n", who, Redact(r.Error))
		}
	}
	f.WriteString(re.PlainTail)
	return f.String()
}
