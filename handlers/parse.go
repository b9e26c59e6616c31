package handlers

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Parsed is a command line split into its parts.
type Parsed struct {
	Sub  Sub
	ID   string   // INC-n if given
	Args []string // words after the subcommand (and ID)
	Rest string   // the raw text after the subcommand (and ID), spacing kept
}

// Form is the first word after the subcommand (and ID), lower-cased:
// `bypass on`, `resync status`; "" when there is none.
func (p Parsed) Form() string {
	if len(p.Args) == 0 {
		return ""
	}
	return strings.ToLower(p.Args[0])
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
	if !sub.NoID {
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
	for _, s := range Subcommands() {
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
