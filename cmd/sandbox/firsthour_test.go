package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// session runs the sandbox with these lines typed and returns what it printed.
func session(t *testing.T, lines ...string) string {
	t.Helper()
	in := strings.NewReader(strings.Join(append(lines, "quit"), "\n") + "\n")
	out := &lockedBuffer{}
	if err := run(context.Background(), []string{"sandbox"}, func(string) string { return "" }, in, out, io.Discard); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func expectIn(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("sandbox output lacks %q", w)
		}
	}
}

// click considers only what the current user sees: the channel, threads,
// their own DMs and ephemeral messages, never someone else's.
func TestSandboxClickFindsOnlyVisibleButtons(t *testing.T) {
	blocks := func(label string) json.RawMessage {
		return json.RawMessage(`[{"type":"actions","block_id":"b","elements":[{"type":"button","action_id":"a_` + label +
			`","text":{"type":"plain_text","text":"` + label + `"}}]}]`)
	}
	sb := &sandbox{user: "U3", byTS: map[string]*fakeslack.Message{}, touched: map[string]int{},
		names: map[string]string{"U1": "alice", "U2": "bob", "U3": "carol"}}
	for i, m := range []*fakeslack.Message{
		{Channel: channel, TS: "1", Blocks: blocks("Checklist")},
		{Channel: channel, TS: "2", ThreadTS: "1", Blocks: blocks("Tick")},
		{Channel: "DU2", TS: "3", Blocks: blocks("Acknowledge")},
		{Channel: channel, TS: "4", User: "U1", Ephemeral: true, Blocks: blocks("Open anyway")},
		{Channel: "DU3", TS: "5", Blocks: blocks("Snooze")},
	} {
		sb.byTS[m.TS] = m
		sb.order = append(sb.order, m.TS)
		sb.touched[m.TS] = i + 1
	}
	cases := []struct{ user, arg, ts, problem string }{
		{"U3", "1", "5", ""},         // carol's own DM is the newest she sees
		{"U1", "1", "4", ""},         // alice sees her ephemeral message
		{"U2", "1", "3", ""},         // bob his DM
		{"U3", "Tick", "2", ""},      // thread replies are for everyone
		{"U3", "Checklist", "1", ""}, // and the channel
		{"U3", "Acknowledge", "", "only bob sees; say as bob"},
		{"U3", "Open anyway", "", "only alice sees; say as alice"},
		{"U2", "acknowledge", "3", ""},
		{"U1", "Snooze", "", "only carol sees"},
	}
	for _, c := range cases {
		sb.user = c.user
		m, b, problem := sb.findButton(c.arg)
		switch {
		case c.problem != "" && !strings.Contains(problem, c.problem):
			t.Errorf("%s: click %s: problem %q, want it to say %q", c.user, c.arg, problem, c.problem)
		case c.problem == "" && (problem != "" || m.TS != c.ts):
			t.Errorf("%s: click %s: pressed %v of %v (problem %q), want message %s", c.user, c.arg, b, m, problem, c.ts)
		}
	}
	sb.byTS, sb.order = map[string]*fakeslack.Message{"3": {Channel: "DU2", TS: "3", Blocks: blocks("Acknowledge")}}, []string{"3"}
	sb.user = "U3"
	if _, _, problem := sb.findButton("1"); !strings.Contains(problem, "no message with buttons that carol can see") {
		t.Errorf("carol with only bob's DM around: %q", problem)
	}
}

// The same through the whole sandbox: bob cannot press alice's ephemeral
// "Open a new incident anyway"; his click 1 presses the checklist he sees.
func TestSandboxClickIgnoresOthersEphemeral(t *testing.T) {
	got := session(t,
		"/clerk-incident open outage P1 Sign-in failing",
		"click Acknowledge",
		"/clerk-incident open outage",
		"as bob",
		"click Open a new incident anyway",
		"click 1",
		"/clerk-incident list",
	)
	expectIn(t, got, `bob cannot see a "Open a new incident anyway" button: it is in a message only alice sees; say as alice`)
	if strings.Contains(got, "INC-2") {
		t.Errorf("bob opened INC-2 through alice's ephemeral message:\n%s", got)
	}
}

// as takes the sandbox's people by name or ID and refuses anyone else;
// @bob typed in a command is a mention, as Slack makes it.
func TestSandboxPeopleByNameAndMentions(t *testing.T) {
	got := session(t,
		"/clerk-incident open outage P1 Sign-in failing",
		"as Bob",
		"click Acknowledge",
		"as erin",
		"/clerk-incident role comms @alice",
		"as U1",
		"/clerk-incident note see eve@example.com",
	)
	expectIn(t, got,
		"you are now bob (U2)",
		"U2 (bob)> ",
		"@bob acknowledged INC-1",
		`nobody called "erin" here: say as alice, as bob, as carol or as dan`,
		"@bob named @alice comms.",
		"*Comms* @alice",
		"you are now alice (U1)",
		"*Note* from @alice: see eve@example.com",
	)
	if strings.Contains(got, "(erin)>") || strings.Contains(got, "is not a Slack mention") {
		t.Errorf("erin became a user or @alice was not a mention:\n%s", got)
	}
}

// Edit opens the modal as text to fill in at the prompt, its submission
// goes back through Slack, and Post sends the update to #status-updates.
func TestSandboxEditAndPostAnUpdate(t *testing.T) {
	got := session(t,
		"/clerk-incident open outage P1 Sign-in failing",
		"click Acknowledge",
		"/clerk-incident update draft",
		"click Edit",
		"Sign-in fails for some users.",
		"We are working with Clerk.",
		".",
		"click Post",
	)
	expectIn(t, got,
		`[modal "Customer update" opened for alice]`,
		"Update for INC-1 (The update customers will read), now:",
		"    Investigating: Problems signing in.", // the public title, not the responders' one
		`then a line with a single . to press "Save draft"`,
		"  modal> ",
		"[#incidents (thread), message updated] clerk-incident bot:\n  📝 *Draft customer update for INC-1* (not sent yet):\n  >Sign-in fails for some users.\n  We are working with Clerk.",
		"[#status-updates] clerk-incident bot:\n  Sign-in fails for some users.\n  We are working with Clerk.",
		"Posted to #status-updates",
		"✅ *4b.* ~Notify users via status page~",
	)
	if strings.Contains(got, "Nowhere to post") || strings.Contains(got, "unknown: type help") {
		t.Errorf("Post or the modal's lines failed:\n%s", got)
	}
}

// A "." alone keeps the draft; cancel closes the modal with nothing sent.
func TestSandboxModalKeepAndCancel(t *testing.T) {
	got := session(t,
		"/clerk-incident open outage P1 Sign-in failing",
		"/clerk-incident update draft",
		"click Edit",
		".",
		"click Edit",
		"cancel",
		"/clerk-incident list",
	)
	expectIn(t, got, "modal closed; nothing saved", "INC-1")
	if n := strings.Count(got, `[modal "Customer update" opened for alice]`); n != 2 {
		t.Errorf("the modal opened %d times, want 2:\n%s", n, got)
	}
	if !strings.Contains(got, "message updated] clerk-incident bot:\n  📝 *Draft customer update for INC-1* (not sent yet):\n  >Investigating: Problems signing in.") {
		t.Errorf("a . alone did not save the draft as it was:\n%s", got)
	}
}

// Dave's sessions show what `user` is for: an IP and a country that
// differ from the rest are flagged.
func TestSandboxHasAnAccountWithOutlierSessions(t *testing.T) {
	got := session(t, "/clerk-incident user dave@example.com")
	expectIn(t, got,
		"dave@example.com",
		"*IP 198.51.100.77 differs from the usual 198.51.100.23*",
		"*country NG differs from the usual PT*",
	)
}

// The README's first command prints that it is building before Go
// compiles silently, and names the Go version when Go is missing or old.
func TestSandboxScriptSaysItIsBuilding(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	tools := t.TempDir()
	for _, tool := range []string{"dirname"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(tools, tool)); err != nil {
			t.Fatal(err)
		}
	}
	script, err := filepath.Abs("run.sh")
	if err != nil {
		t.Fatal(err)
	}
	// fakeGo says which Go it is and what it was asked to run.
	fakeGo := func(version string) string {
		dir := t.TempDir()
		body := "#!" + bash + "\nif [ \"$1\" = env ]; then echo " + version + "; exit 0; fi\necho \"go was run: $*\"\n"
		if err := os.WriteFile(filepath.Join(dir, "go"), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	runScript := func(path string) (string, error) {
		cmd := exec.Command(bash, script, "--flag")
		cmd.Dir = t.TempDir() // the script finds the repository itself
		cmd.Env = []string{"PATH=" + path}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := runScript(fakeGo("go1.26.8") + ":" + tools)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	building := strings.Index(out, "Building the sandbox (the first time takes a minute or two")
	ran := strings.Index(out, "go was run: run ./cmd/sandbox --flag")
	if building < 0 || ran < 0 || building > ran {
		t.Errorf("the script should say it is building, then go run the sandbox:\n%s", out)
	}

	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	need := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(string(mod))[1]
	out, err = runScript(fakeGo("go1.19.2") + ":" + tools)
	if err == nil || !strings.Contains(out, "The sandbox needs Go "+need+" or newer (https://go.dev/dl/); this is go1.19.2.") || strings.Contains(out, "go was run") {
		t.Errorf("an old Go should be named, not run (err %v):\n%s", err, out)
	}

	out, err = runScript(tools)
	if err == nil || !strings.Contains(out, "The sandbox needs Go "+need+" or newer (https://go.dev/dl/), and go is not on PATH.") {
		t.Errorf("a missing Go should be named (err %v):\n%s", err, out)
	}
}
