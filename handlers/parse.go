package handlers

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// IDRule is where an INC-n is read, for help and usage replies.
const IDRule = "`INC-n` goes right after the command name or right after its first word (`webhook INC-2 check` = `webhook check INC-2`, `bypass on INC-2 30m why`); " +
	"in free text (notes, reasons, titles) a later `INC-n` is just text, and elsewhere an `INC-n` anywhere is the incident. A word like `INC-x` is an error, never ignored."

// Parse splits the text after /clerk-incident. The incident ID may come
// right after the name or right after the verb words (`webhook check`,
// `bypass on`). In a command whose arguments are words (users, a
// severity, flags) an INC-n anywhere among them is the ID; where they are
// free text (note, resolve, bypass reason, the part after `--`) a later
// INC-n is text. A word that looks like an ID and is not one, a second
// ID, and an ID given to a command (or verb) that is about no one
// incident are errors: an ID is never silently ignored.
func Parse(text string) (commands.Parsed, error) { return unwired().parse(text) }

func (t table) parse(text string) (commands.Parsed, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		sub, _ := t.lookup("help")
		return commands.Parsed{Sub: sub}, nil
	}
	word, rest := commands.SplitWord(text)
	name := strings.ToLower(word)
	sub, ok := t.lookup(name)
	if !ok {
		return commands.Parsed{}, &commands.UnknownError{Word: word, Suggest: t.suggest(name)}
	}
	p := commands.Parsed{Sub: sub}
	ws := words(rest)
	var cut []span
	given := "" // the ID as typed, for the error
	take := func(w span) error {
		id, ok := incident.ParseID(w.text)
		if !ok {
			return &commands.UsageError{Problem: fmt.Sprintf("%q is not an incident ID (they look like INC-12).", render.Esc(w.text)), Usage: sub.Usage}
		}
		if p.ID != "" && p.ID != id {
			return &commands.UsageError{Problem: fmt.Sprintf("Two incidents named, %s and %s: give one.", p.ID, id), Usage: sub.Usage}
		}
		p.ID, given = id, w.text
		cut = append(cut, w)
		return nil
	}
	i := 0
	// Right after the name.
	if i < len(ws) && looksLikeID(ws[i].text) {
		if err := take(ws[i]); err != nil {
			return commands.Parsed{}, err
		}
		i++
	}
	// The verb, then right after it.
	if i < len(ws) && slices.Contains(sub.Verbs, strings.ToLower(ws[i].text)) {
		p.Verb = strings.ToLower(ws[i].text)
		i++
		if i < len(ws) && looksLikeID(ws[i].text) {
			if err := take(ws[i]); err != nil {
				return commands.Parsed{}, err
			}
			i++
		}
	}
	// Word arguments: an ID anywhere among them, up to where text begins.
	if !sub.Text {
		limit := len(rest)
		if sub.TextAfter != "" {
			if j := strings.Index(rest, sub.TextAfter); j >= 0 {
				limit = j
			}
		}
		for ; i < len(ws) && ws[i].end <= limit; i++ {
			if looksLikeID(ws[i].text) {
				if err := take(ws[i]); err != nil {
					return commands.Parsed{}, err
				}
			}
		}
	}
	p.Rest = strings.TrimSpace(without(rest, cut))
	p.Args = strings.Fields(p.Rest)
	if p.ID != "" {
		if sub.NoID {
			return commands.Parsed{}, &commands.UsageError{Problem: fmt.Sprintf("`%s` is not about one incident: leave out %s.", sub.Name, given), Usage: sub.Usage}
		}
		if slices.Contains(sub.NoIDVerbs, p.Verb) && (p.Verb != "" || len(p.Args) == 0) {
			return commands.Parsed{}, &commands.UsageError{Problem: fmt.Sprintf("`%s` is not about one incident: leave out %s.", strings.TrimSpace(sub.Name+" "+p.Verb), given), Usage: sub.Usage}
		}
	}
	return p, nil
}

// looksLikeID: INC- and anything but an e-mail address (inc-3@x.com is a
// user, not an incident).
func looksLikeID(w string) bool {
	return len(w) >= 4 && strings.EqualFold(w[:4], "INC-") && !strings.Contains(w, "@")
}

// span is a word of the text and where it is.
type span struct {
	text       string
	start, end int
}

func words(s string) []span {
	var out []span
	start := -1
	for i, r := range s {
		switch {
		case unicode.IsSpace(r) && start >= 0:
			out = append(out, span{s[start:i], start, i})
			start = -1
		case !unicode.IsSpace(r) && start < 0:
			start = i
		}
	}
	if start >= 0 {
		out = append(out, span{s[start:], start, len(s)})
	}
	return out
}

// without cuts the words (in order) and the space after each out of s.
func without(s string, cut []span) string {
	var b strings.Builder
	at := 0
	for _, w := range cut {
		b.WriteString(s[at:w.start])
		at = w.end
		for at < len(s) && strings.IndexByte(" \t\r\n", s[at]) >= 0 {
			at++
		}
	}
	b.WriteString(s[at:])
	return b.String()
}

// suggest returns the closest subcommand within edit distance 2, or a
// prefix match.
func (t table) suggest(word string) string {
	best, bestD := "", 3
	for _, s := range t.subs {
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
