package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/handlers"
)

// The README is a newcomer's first hour: its sandbox examples must run as
// written, its first commands must exist, and its command list be whole.

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section is the README from its heading (or the top) to the next "## ".
func section(t *testing.T, text, heading string) string {
	t.Helper()
	if heading != "" {
		i := strings.Index(text, "\n"+heading+"\n")
		if i < 0 {
			t.Fatalf("README has no %q section", heading)
		}
		text = text[i+1+len(heading):]
	}
	if j := strings.Index(text, "\n## "); j >= 0 {
		text = text[:j]
	}
	return text
}

var fence = regexp.MustCompile("(?ms)^ *```([a-z]*)\n(.*?)^ *```")

// blocks returns the lines of the fenced blocks with this info string.
func blocks(text, info string) [][]string {
	var out [][]string
	for _, m := range fence.FindAllStringSubmatch(text, -1) {
		if m[1] != info {
			continue
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(m[2], "\n"), "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
		out = append(out, lines)
	}
	return out
}

var backticked = regexp.MustCompile("`([^`\n]+)`")

// proseCommands are the sandbox commands named in backticks outside the
// blocks, as written, skipping the ones with a placeholder (<…>, …).
func proseCommands(text string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
		c := m[1]
		if strings.ContainsAny(c, "<…") {
			continue
		}
		for _, verb := range []string{"/clerk-incident ", "click ", "as ", "clerk ", "app ", "poll", "help"} {
			if strings.HasPrefix(c, verb) || c == strings.TrimSpace(verb) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// misunderstood are what the sandbox prints when it did not understand a
// line or could not do it.
var misunderstood = []string{
	"unknown: type help", "is not a /clerk-incident subcommand", "\nUsage: `", "nobody called", "say click N",
	"cannot see a", "no message with buttons", "the last message has buttons", "only /clerk-incident exists here",
	"\n  ! ", "say clerk outage",
}

// refused are the bot's refusals and failures: where the README says a
// line works, none may appear.
var refused = append([]string{"Only incident responders", "Nowhere to post", "nothing changed", "Nothing changed",
	"❌", "⛔", "⚠️ That"}, misunderstood...)

func checkOutput(t *testing.T, got string, bad []string) {
	t.Helper()
	for _, b := range bad {
		if i := strings.Index(got, b); i >= 0 {
			from, to := max(0, i-600), min(len(got), i+300)
			t.Errorf("the sandbox printed %q where the README says it works:\n…%s…", b, got[from:to])
		}
	}
}

// Every line of the README's sandbox blocks, typed in order, works.
func TestReadmeSandboxExamplesRun(t *testing.T) {
	top := section(t, readme(t), "")
	var lines []string
	for _, b := range blocks(top, "sandbox") {
		lines = append(lines, b...)
	}
	if len(lines) < 10 {
		t.Fatalf("the README's sandbox section has %d example lines; the test expects its ```sandbox blocks", len(lines))
	}
	got := session(t, lines...)
	checkOutput(t, got, refused)
	// What the README promises of them.
	expectIn(t, got,
		"@alice acknowledged INC-1",
		"@alice named @bob comms.",
		`[modal "Customer update" opened for alice]`,
		"[#status-updates] clerk-incident bot:",
		"differs from the usual",
		"*Note* from @bob",
		"@alice resolved INC-1",
		"Acknowledged by Engineering Lead by SMS",
		"[Twilio sms to +15550100002]",
		"inc-1-postmortem.md",
		"Signed test event: 204",
		"Resync rs-",
		"Clerk: Elevated error rates",
		"New secret for the secret key of machine mch_billingworker",
		"*Rotated*",
		"*Blocked*",
		"-access-review.txt",
		"The notice is final",
	)
	if t.Failed() {
		t.Log(got)
	}
}

// Every sandbox command the README's prose names is understood, after the
// blocks have set the scene.
func TestReadmeSandboxCommandsAreUnderstood(t *testing.T) {
	top := section(t, readme(t), "")
	var lines []string
	for _, b := range blocks(top, "sandbox") {
		lines = append(lines, b...)
	}
	prose := proseCommands(top)
	for _, want := range []string{"click 2", "as U2", "clerk degraded", "help"} {
		if !strings.Contains(strings.Join(prose, "\n"), want) {
			t.Errorf("proseCommands did not find %q in the README (found %q)", want, prose)
		}
	}
	got := session(t, append(lines, prose...)...)
	checkOutput(t, got, misunderstood)
}

// The first two commands exist, and the Go version needed is stated.
func TestReadmeStartsWithWorkingCommandsAndGoVersion(t *testing.T) {
	top := section(t, readme(t), "")
	sh := blocks(top, "sh")
	if len(sh) == 0 || len(sh[0]) != 2 {
		t.Fatalf("the README should start with a block of two commands, got %q", sh)
	}
	for _, l := range sh[0] {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "bash" {
			t.Errorf("%q: expected bash <script>", l)
			continue
		}
		if _, err := os.Stat("../../" + f[1]); err != nil {
			t.Errorf("%q: %v", l, err)
		}
	}
	if !strings.HasPrefix(sh[0][0], "bash cmd/sandbox/run.sh") {
		t.Errorf("the first command should start the sandbox through run.sh, which says it is building: %q", sh[0][0])
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)(\.\d+)?$`).FindStringSubmatch(string(mod))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if want := "Go " + m[1] + " or newer"; !strings.Contains(top, want) {
		t.Errorf("the README's top should say %q (go.mod: go %s%s)", want, m[1], m[2])
	}
}

// The Commands block lists every subcommand of the command table.
func TestReadmeListsEveryCommand(t *testing.T) {
	cmds := section(t, readme(t), "## Commands")
	m := fence.FindStringSubmatch(cmds)
	if m == nil {
		t.Fatal("the Commands section has no block")
	}
	listed := map[string]bool{}
	for _, l := range strings.Split(m[2], "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "/clerk-incident" {
			listed[f[1]] = true
		}
	}
	for _, s := range handlers.Subcommands() {
		if !listed[s.Name] {
			t.Errorf("README's Commands block lacks `%s` (%s)", s.Name, s.Usage)
		}
	}
}
