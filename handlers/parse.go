package handlers

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Sub describes one subcommand: its usage line and whether it changes state.
type Sub struct {
	Name     string
	Usage    string
	Summary  string
	Mutating bool
}

// Subcommands is the public contract of /clerk-incident, in help order.
var Subcommands = []Sub{
	{"help", "/clerk-incident help", "show this help", false},
	{"open", "/clerk-incident open <outage|webhook|security|performance> [P1|P2|P3] [title…]", "open an incident and post its card", true},
	{"list", "/clerk-incident list", "list open and recent incidents", false},
	{"status", "/clerk-incident status [INC-n]", "show an incident and its latest timeline", false},
	{"ack", "/clerk-incident ack [INC-n]", "acknowledge and lead the response", true},
	{"note", "/clerk-incident note [INC-n] <text…>", "add a note to the timeline", true},
	{"severity", "/clerk-incident severity [INC-n] <P1|P2|P3>", "change the severity", true},
	{"impact", "/clerk-incident impact [INC-n] <text…>", "record the impact (affected users)", true},
	{"checklist", "/clerk-incident checklist [INC-n]", "show the runbook checklist with tick buttons", false},
	{"mitigated", "/clerk-incident mitigated [INC-n] [text…]", "mark mitigation applied", true},
	{"resolve", "/clerk-incident resolve [INC-n] [resolution…]", "resolve the incident", true},
	{"postmortem", "/clerk-incident postmortem [INC-n]", "write the post-incident report into the thread", true},
	{"escalate", "/clerk-incident escalate [INC-n]", "page the next escalation level now", true},
	{"contacts", "/clerk-incident contacts", "show the escalation ladder, on-call phones and Clerk support", false},
	{"revoke", "/clerk-incident revoke [INC-n] <users…>", "revoke every active session of Clerk users (user_… IDs or e-mails, one per line for bulk)", true},
	{"lockout", "/clerk-incident lockout [INC-n] <users…> [-- reason…]", "ban users and revoke their sessions (needs a second person's approval)", true},
	{"unlock", "/clerk-incident unlock [INC-n] <user>", "lift a user's ban and lockout", true},
	{"bypass", "/clerk-incident bypass on [duration] [reason…] | off | status", "emergency auth bypass (on needs approval; off is immediate)", false},
	{"diagnose", "/clerk-incident diagnose [INC-n] [samples]", "time Clerk's API, JWKS, the app health endpoint and the status page", false},
	{"check", "/clerk-incident check", "check keys, webhook secret, Redis, contacts and Slack tokens", false},
	{"webhook", "/clerk-incident webhook check", "send the app's webhook endpoint a signed test event and a forged one", false},
	{"resync", "/clerk-incident resync [INC-n] [--dry-run] [--since <RFC 3339 date>] | status | cancel", "replay every Clerk user into the app's webhook endpoint as signed user.updated events", false},
	{"approve", "/clerk-incident approve <request-id>", "approve a pending request (not your own)", true},
	{"deny", "/clerk-incident deny <request-id>", "deny or withdraw a pending request", true},
	{"audit", "/clerk-incident audit [INC-n]", "show the latest audit log entries", false},
	{"rootcause", "/clerk-incident rootcause [INC-n] <text…>", "record the root cause for the report", true},
	{"prevention", "/clerk-incident prevention [INC-n] <text…>", "add a prevention action item to the report", true},
	{"lessons", "/clerk-incident lessons [INC-n] <text…>", "record lessons learned for the report", true},
}

func lookupSub(name string) (Sub, bool) {
	for _, s := range Subcommands {
		if s.Name == name {
			return s, true
		}
	}
	return Sub{}, false
}

// Parsed is a command line split into its parts.
type Parsed struct {
	Sub  Sub
	ID   string   // INC-n if given
	Args []string // words after the subcommand (and ID)
	Rest string   // the raw text after the subcommand (and ID), spacing kept
}

// UsageError carries the usage line of the subcommand that was misused.
type UsageError struct {
	Problem string
	Usage   string
}

func (e *UsageError) Error() string { return e.Problem }

// UnknownError is an unknown subcommand, with a suggestion.
type UnknownError struct {
	Word    string
	Suggest string
}

func (e *UnknownError) Error() string { return fmt.Sprintf("unknown subcommand %q", e.Word) }

// Parse splits the text after /clerk-incident. An optional INC-n may
// follow the subcommand (for open it is not accepted).
func Parse(text string) (Parsed, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		sub, _ := lookupSub("help")
		return Parsed{Sub: sub}, nil
	}
	word, rest := splitWord(text)
	name := strings.ToLower(word)
	sub, ok := lookupSub(name)
	if !ok {
		return Parsed{}, &UnknownError{Word: word, Suggest: suggest(name)}
	}
	p := Parsed{Sub: sub, Rest: rest}
	if sub.Name != "open" && sub.Name != "help" && sub.Name != "list" && sub.Name != "contacts" && sub.Name != "check" && sub.Name != "approve" && sub.Name != "deny" {
		if first, after := splitWord(rest); first != "" {
			if id, ok := incident.ParseID(first); ok {
				p.ID = id
				p.Rest = after
			} else if strings.HasPrefix(strings.ToUpper(first), "INC-") {
				return Parsed{}, &UsageError{Problem: fmt.Sprintf("%q is not an incident ID (they look like INC-12)", first), Usage: sub.Usage}
			}
		}
	}
	p.Args = strings.Fields(p.Rest)
	return p, nil
}

func splitWord(s string) (string, string) {
	s = strings.TrimLeft(s, " \t\n")
	i := strings.IndexAny(s, " \t\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i+1:])
}

// suggest returns the closest subcommand within edit distance 2, or a
// prefix match.
func suggest(word string) string {
	best, bestD := "", 3
	for _, s := range Subcommands {
		if word != "" && strings.HasPrefix(s.Name, word) {
			return s.Name
		}
		if d := distance(word, s.Name); d < bestD {
			best, bestD = s.Name, d
		}
	}
	return best
}

func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
