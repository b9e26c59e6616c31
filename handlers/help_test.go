package handlers

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// sections is the text of each block of m, checked against Slack's
// limits: 50 blocks a message, 3,000 characters a section.
func sections(t *testing.T, m bot.Msg) []string {
	t.Helper()
	raw, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []struct {
		Type     string `json:"type"`
		Text     struct{ Text string }
		Elements []struct{ Text string }
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	if len(blocks) > 50 {
		t.Fatalf("%d blocks; Slack takes 50 a message", len(blocks))
	}
	var out []string
	for _, b := range blocks {
		if n := len([]rune(b.Text.Text)); n > 3000 {
			t.Fatalf("a %s block of %d characters; Slack takes 3,000", b.Type, n)
		}
		if b.Text.Text != "" {
			out = append(out, b.Text.Text)
		}
		for _, e := range b.Elements {
			out = append(out, e.Text)
		}
	}
	return out
}

// help lists every command under its family title, in full: nothing is
// cut at Slack's 3,000-character section limit (the last families and
// the closing line included).
func TestHelpListsEveryCommandByFamilyWithinSlackLimits(t *testing.T) {
	text := strings.Join(sections(t, HelpMsg()), "\n")
	for _, f := range commands.Unwired() {
		if !strings.Contains(text, "*"+f.Title()+"*") {
			t.Errorf("help has no %q title", f.Title())
		}
	}
	for _, s := range Subcommands() {
		// Usage lines reach Slack escaped (the client shows <…> again).
		if !strings.Contains(text, "`"+render.Esc(s.Usage)+"`\n\u2003"+s.Summary) {
			t.Errorf("help lacks %s in full", s.Name)
		}
		if s.Family == "" {
			t.Errorf("%s has no family", s.Name)
		}
	}
	for _, want := range []string{"applies to the only open incident", "`/clerk-incident help &lt;command&gt;`"} {
		if !strings.Contains(text, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	// The break-glass CLI prints the text: it has all of help too.
	if got := HelpMsg().Text; got != strings.Join(sections(t, HelpMsg()), "\n\n") {
		t.Errorf("help's text is not its blocks:\n%s", got)
	}
}

// Slack reads any <…> in mrkdwn as a link, mention or command, even in
// code spans: `open <outage|webhook|…>` showed as a link to "outage".
// Help, help for each command and every usage reply hold no < or > but
// Slack's own sequences.
func TestHelpHoldsNoBareAngleBrackets(t *testing.T) {
	texts := map[string]string{"help": HelpMsg().Text}
	for _, s := range Subcommands() {
		texts["help "+s.Name] = HelpFor(s.Name).Text
		msg, _ := commands.Sentence(&commands.UsageError{Problem: "Bad.", Usage: s.Usage})
		texts["usage of "+s.Name] = msg
	}
	sequence := regexp.MustCompile(`<([@#!]|https?://)[^<>]*>`)
	for name, text := range texts {
		if clean := sequence.ReplaceAllString(text, ""); strings.ContainsAny(clean, "<>") {
			t.Errorf("%s holds a bare angle bracket:\n%s", name, text)
		}
	}
}

// A family too long for one section goes on in another, under its title,
// every line whole.
func TestHelpSplitsAFamilyThatOutgrowsASection(t *testing.T) {
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf("%02d", i)+strings.Repeat("x", 97))
	}
	out := packLines("*Big*", lines)
	if len(out) < 2 {
		t.Fatalf("one section of %d characters", len([]rune(out[0])))
	}
	joined := strings.Join(out, "\n")
	for i, s := range out {
		if n := len([]rune(s)); n > sectionLimit {
			t.Errorf("section %d has %d characters", i, n)
		}
		if want := map[bool]string{true: "*Big*\n", false: "*Big (continued)*\n"}[i == 0]; !strings.HasPrefix(s, want) {
			t.Errorf("section %d starts %q", i, s[:12])
		}
	}
	for _, l := range lines {
		if strings.Count(joined, l) != 1 {
			t.Errorf("line %q not there once", l[:5])
		}
	}
}

// `help <command>` shows that command in full: usage, summary, who may run
// it and its examples.
func TestHelpForShowsOneCommandInFull(t *testing.T) {
	for _, s := range Subcommands() {
		m := HelpFor(strings.ToUpper(s.Name))
		text := strings.Join(sections(t, m), "\n")
		if m.Text != strings.Join(sections(t, m), "\n\n") {
			t.Errorf("help %s: the text is not the blocks: %q", s.Name, m.Text)
		}
		for _, want := range append([]string{s.Usage, s.Summary, "*Who:*", s.Detail}, s.Examples...) {
			if !strings.Contains(text, render.Esc(want)) {
				t.Errorf("help %s lacks %q:\n%s", s.Name, want, text)
			}
		}
	}
	text := strings.Join(sections(t, HelpFor("bypass")), "\n")
	if !strings.Contains(text, "Anyone may run `/clerk-incident bypass` and `/clerk-incident bypass status`") {
		t.Errorf("help bypass does not say who may read it:\n%s", text)
	}
	p, err := Parse("help bypass")
	if err != nil || p.Sub.Name != "help" || p.Form() != "bypass" {
		t.Fatalf("help bypass parsed as %+v, %v", p, err)
	}
}

// Every command has examples, each one a whole command that parses as
// that command (with its INC-n taken as the incident), and every entry
// of the help table names a command.
func TestEveryCommandHasExamples(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Subcommands() {
		names[s.Name] = true
		if len(s.Examples) == 0 {
			t.Errorf("%s has no examples", s.Name)
		}
		for _, e := range s.Examples {
			rest, ok := strings.CutPrefix(e, "/clerk-incident ")
			if !ok {
				t.Errorf("example %q is not a whole command", e)
				continue
			}
			p, err := Parse(rest)
			if err != nil || p.Sub.Name != s.Name {
				t.Errorf("example %q parses as %q, %v", e, p.Sub.Name, err)
			}
			if strings.Contains(rest, "INC-") && p.ID == "" {
				t.Errorf("example %q: its INC-n is not taken as the incident", e)
			}
		}
	}
	for name := range commandHelp {
		if !names[name] {
			t.Errorf("help has examples for %q, which is not a command", name)
		}
	}
}

// An unknown word after help is named, plainly, with the closest command.
func TestHelpForAnUnknownWordSuggests(t *testing.T) {
	for word, want := range map[string]string{
		"bypas":      "There is no command `bypas`. Did you mean `bypass`? `/clerk-incident help` lists all commands.",
		"zzzzzzzz":   "There is no command `zzzzzzzz`. `/clerk-incident help` lists all commands.",
		"<!channel>": "There is no command `&lt;!channel&gt;`.",
	} {
		if got := HelpFor(word).Text; !strings.HasPrefix(got, want) {
			t.Errorf("help %s: %q, want %q", word, got, want)
		}
	}
}

// The reply to an unknown subcommand is a sentence with a suggestion and
// a pointer to help, not the whole help cut short.
func TestUnknownSubcommandReplyIsShort(t *testing.T) {
	_, err := Parse("opne outage")
	msg, internal := Sentence(err)
	want := "`opne` is not a /clerk-incident subcommand. Did you mean `open`? `/clerk-incident help` lists all commands."
	if msg != want || internal {
		t.Fatalf("%q, want %q", msg, want)
	}
}

// Everyone reading `help <command>` learns who may run it: no row leaves
// "Who:" blank, incident-scoped ones included.
func TestHelpSaysWhoForEveryCommand(t *testing.T) {
	for _, s := range Subcommands() {
		text := HelpFor(s.Name).Text
		_, who, ok := strings.Cut(text, "*Who:* ")
		if !ok || strings.HasPrefix(strings.TrimSpace(who), "*") || strings.TrimSpace(who) == "" || strings.HasPrefix(who, "\n") {
			t.Errorf("help %s leaves Who blank:\n%s", s.Name, text)
		}
		if s.Who == commands.OnIncident && !strings.Contains(who, "escalation ladder pages") {
			t.Errorf("help %s does not say who on an incident may run it:\n%s", s.Name, text)
		}
	}
}
