package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

func TestIncidentLoopEndToEnd(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_RESPONDERS": "U1,U2"}})
	s := h.Slack

	ack := s.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	if ack.Latency > time.Second {
		t.Errorf("ack took %v", ack.Latency)
	}
	card := s.ExpectMessage(t, "C1", "INC-1 · Sign-in failing", "P1", "Investigating", "Check Clerk status")
	if card.ThreadTS != "" {
		t.Fatal("card must be a top-level message")
	}
	checklist := s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Auth Outage Response", "4a.", "Enable emergency bypass"}})
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")

	// The impatient second open is caught, not silently duplicated.
	s.Command(t, "U1", "C1", "open outage")
	s.ExpectEphemeral(t, "U1", "INC-1* is already open", "Continue INC-1")

	s.Click(t, "U2", card, "Acknowledge")
	s.ExpectUpdated(t, card, "<@U2>")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"acknowledged INC-1"}})

	s.Click(t, "U2", checklist, "Tick") // step 1
	s.ExpectUpdated(t, checklist, "~Confirm outage (check status.clerk.com)~")
	s.ExpectUpdated(t, card, "1/11 steps done") // the two branch headers are not steps

	s.Command(t, "U1", "C1", "impact about 1200 users cannot sign in")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Impact"}})
	s.ExpectEphemeral(t, "U1", "Impact recorded")
	s.ExpectUpdated(t, card, "about 1200 users")

	s.Command(t, "U1", "C1", "resolve INC-1 Clerk recovered; no bypass needed")
	s.ExpectUpdated(t, card, "Resolved")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"resolved INC-1 after"}})
	s.ExpectEphemeral(t, "U1", "INC-1 is resolved")

	s.Command(t, "U1", "C1", "postmortem INC-1")
	file := s.ExpectFile(t, "C1", "# Incident Report: Sign-in failing", "- **Severity:** P1",
		"Incident opened: Sign-in failing", "Acknowledged", "Checklist 1 done", "Resolution confirmed: Clerk recovered")
	if file.ThreadTS != card.TS || !strings.HasSuffix(file.Name, ".md") {
		t.Fatalf("report uploaded to %q thread %q as %q", file.Channel, file.ThreadTS, file.Name)
	}
	s.ExpectEphemeral(t, "U1", "Still empty", "root cause", "rootcause INC-1")
	s.NoUnexpectedMessages(t)

	// /healthz is green while Redis and the socket are up.
	resp := healthz(t, h)
	if resp["status"] != "ok" {
		t.Fatalf("healthz = %v", resp)
	}
}

func healthz(t *testing.T, h *apptest.Bot) map[string]string {
	t.Helper()
	r, err := http.Get("http://" + h.HTTPAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		t.Fatalf("healthz body (status %d): %v", r.StatusCode, err)
	}
	if (r.StatusCode == 200) != (body["status"] == "ok") {
		t.Fatalf("status %d with body %v", r.StatusCode, body)
	}
	return body
}

func TestRefusedAndBadInputChangeNothing(t *testing.T) {
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_RESPONDERS": "U1"}})
	s := h.Slack

	s.Command(t, "U9", "C1", "open outage")
	s.ExpectEphemeral(t, "U9", "Only incident responders may use `open`", "Nothing changed")

	s.Command(t, "U1", "C1", "opne outage")
	s.ExpectEphemeral(t, "U1", "`opne` is not a /clerk-incident subcommand", "Did you mean `open`?")

	s.Command(t, "U1", "C1", "open billing")
	s.ExpectEphemeral(t, "U1", `"billing" is not an incident category`, "Usage: `/clerk-incident open")

	s.Command(t, "U1", "C1", "ack")
	s.ExpectEphemeral(t, "U1", "No incident is open.")

	s.Command(t, "U1", "C1", "status")
	s.ExpectEphemeral(t, "U1", "No open incidents")

	s.Command(t, "U1", "C1", "status INC-42")
	s.ExpectEphemeral(t, "U1", "There is no incident INC-42")

	s.Command(t, "U1", "C1", "ack INC-42")
	s.ExpectEphemeral(t, "U1", "There is no incident INC-42")

	s.Command(t, "U1", "C1", "open security "+strings.Repeat("x", 200))
	s.ExpectEphemeral(t, "U1", "The title is 200 characters")

	s.Command(t, "U1", "C1", "open webhook P2 Users not syncing")
	card := s.ExpectMessage(t, "C1", "INC-1 · Users not syncing")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Data Sync Recovery"}})
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")

	s.Command(t, "U1", "C1", "note INC-1 "+strings.Repeat("y", 3000))
	s.ExpectEphemeral(t, "U1", "That text is 3000 characters")

	s.Command(t, "U1", "C1", "severity INC-1 P7")
	s.ExpectEphemeral(t, "U1", `"P7" is not a severity`)

	s.Command(t, "U1", "C1", "severity P2")
	s.ExpectEphemeral(t, "U1", "severity is already P2; nothing changed")

	// A non-responder's click on the card changes nothing.
	s.Click(t, "U9", card, "Acknowledge")
	s.ExpectEphemeral(t, "U9", "Only incident responders")

	// A tampered button value is refused.
	id, err := s.Press("U1", card, fakeslack.Button{Label: "Acknowledge", ActionID: "inc_ack", BlockID: "card:INC-1", Value: "INC-1; DROP"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitAck(id, fakeslack.Timeout); err != nil {
		t.Fatal(err)
	}
	s.ExpectEphemeral(t, "U1", "does not name a valid incident")

	s.Command(t, "U1", "C1", "resolve")
	s.ExpectUpdated(t, card, "Resolved")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"resolved INC-1"}})
	s.ExpectEphemeral(t, "U1", "INC-1 is resolved")
	s.Command(t, "U1", "C1", "resolve INC-1")
	s.ExpectEphemeral(t, "U1", "INC-1 is already resolved; nothing changed")

	s.Command(t, "U9", "C1", "help")
	s.ExpectEphemeral(t, "U9", "/clerk-incident open &lt;outage|webhook|security|performance&gt;")
	s.NoUnexpectedMessages(t)
	if n := card.Versions; n < 2 {
		t.Fatalf("card versions %d", n)
	}
}

func TestNoEnvironmentListsRequiredVariables(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"clerk-incident-bot"}, func(string) string { return "" }, &out, &errOut)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"SLACK_BOT_TOKEN is required", "SLACK_APP_TOKEN is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	bad := map[string]string{"SLACK_BOT_TOKEN": "xapp-oops-secret", "SLACK_APP_TOKEN": "xoxb-oops-secret", "SLACK_API_URL": "ftp://x",
		"HANDLER_TIMEOUT": "soon", "LOG_FORMAT": "xml", "SLACK_RESPONDERS": "U1,bob", "REDIS_URL": "http://user:pw@host"}
	err = run(context.Background(), []string{"x"}, func(k string) string { return bad[k] }, &out, &errOut)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, want := range []string{"SLACK_BOT_TOKEN must start with xoxb-", "SLACK_APP_TOKEN must start with xapp-", "SLACK_API_URL",
		"HANDLER_TIMEOUT", "LOG_FORMAT", `"bob"`, "REDIS_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "oops-secret") || strings.Contains(msg, "pw@") {
		t.Errorf("error echoes a secret:\n%s", msg)
	}
}

func TestMalformedRunbookFailsStartWithLine(t *testing.T) {
	path := t.TempDir() + "/runbook.yml"
	if err := os.WriteFile(path, []byte("categories:\n  outage:\n    name: x\n    bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := fakeslack.New()
	defer fs.Close()
	env := map[string]string{"SLACK_BOT_TOKEN": fs.BotToken, "SLACK_APP_TOKEN": fs.AppToken, "SLACK_API_URL": fs.APIURL(), "RUNBOOK_FILE": path}
	err := run(context.Background(), []string{"x"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("err = %v", err)
	}
}

// Twenty responders tick twenty steps at the same moment: every tick is
// recorded, the checklist shows 20/20 and the timeline has all twenty.
func TestTwentySimultaneousTicksFromDifferentUsers(t *testing.T) {
	var rb strings.Builder
	rb.WriteString("categories:\n")
	for _, c := range []string{"outage", "webhook", "security", "performance"} {
		rb.WriteString("  " + c + ":\n    name: " + c + "\n    checklist:\n      title: Drill\n      steps:\n")
		for i := 1; i <= 20; i++ {
			fmt.Fprintf(&rb, "        - id: \"%d\"\n          text: step %d\n", i, i)
		}
	}
	path := t.TempDir() + "/runbook.yml"
	if err := os.WriteFile(path, []byte(rb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"RUNBOOK_FILE": path}})
	s := h.Slack
	s.Command(t, "U1", "C1", "open outage Drill")
	card := s.ExpectMessage(t, "C1", "INC-1 · Drill")
	checklist := s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"0/20 steps done"}})
	buttons := checklist.Buttons()
	if len(buttons) != 20 {
		t.Fatalf("%d buttons", len(buttons))
	}
	var ids []string
	for i, b := range buttons {
		id, err := s.Press(fmt.Sprintf("U%d", 100+i), checklist, b)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if _, err := s.WaitAck(id, fakeslack.Timeout); err != nil {
			t.Fatal(err)
		}
	}
	s.ExpectUpdated(t, checklist, "20/20 steps done")
	s.ExpectUpdated(t, card, "Drill: 20/20 steps done")
	for i := range 20 {
		s.ExpectUpdated(t, checklist, fmt.Sprintf("<@U%d>", 100+i))
	}
	// Coalesced: twenty ticks are a handful of refreshes, one a second at
	// most, each showing every tick so far.
	t.Logf("chat.update calls: %d", s.Calls("chat.update"))
	if updates := s.Calls("chat.update"); updates > 12 {
		t.Errorf("%d chat.update calls for 20 ticks: refreshes are not coalesced", updates)
	}
	s.Command(t, "U1", "C1", "postmortem")
	file := s.ExpectFile(t, "C1", "Checklist 20 done")
	for i := 1; i <= 20; i++ {
		if !strings.Contains(file.Content, fmt.Sprintf("Checklist %d done: step %d (U%d)", i, i, 99+i)) {
			t.Errorf("timeline lacks the tick of step %d:\n%s", i, file.Content)
		}
	}
}

// Slack redelivers an envelope (same envelope_id) to another replica: the
// command runs once. Two replicas share one Redis.
func TestRedeliveredEnvelopeIsHandledOnceAcrossReplicas(t *testing.T) {
	h := apptest.Start(t, apptest.Spec{Env: nil})
	s := h.Slack
	apptest.Start(t, apptest.Spec{Slack: s, Prefix: h.Prefix, Env: nil})
	if s.Connections() != 2 {
		t.Fatalf("connections = %d", s.Connections())
	}
	id, err := s.SlashCommand("U1", "C1", "open security Leaked session")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitAck(id, fakeslack.Timeout); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Redeliver(id); err != nil {
			t.Fatal(err)
		}
	}
	card := s.ExpectMessage(t, "C1", "INC-1 · Leaked session")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Security Breach Response"}})
	s.ExpectEphemeral(t, "U1", "Opened *INC-1*")

	// Clicks from either replica act on the same state.
	s.Click(t, "U2", card, "Acknowledge")
	s.ExpectUpdated(t, card, "*Lead* <@U2>")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"acknowledged INC-1"}})
	s.Command(t, "U1", "C1", "status")
	s.ExpectEphemeral(t, "U1", "INC-1 · Leaked session", "Acknowledged")
	s.NoUnexpectedMessages(t)
}

// Slack answers 429 to the first card posts: the bot waits Retry-After
// and the card still arrives.
func TestSlackRateLimitIsRetried(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.Spec{Env: nil})
	s := h.Slack
	s.RateLimit("chat.postMessage", 2)
	s.Command(t, "U1", "C1", "open performance Slow sign-in")
	s.ExpectMessage(t, "C1", "INC-1 · Slow sign-in", "P2")
	if n := s.Calls("chat.postMessage"); n < 3 {
		t.Fatalf("chat.postMessage called %d times", n)
	}
}

// Responders given as a user group: members may act, others may not, and
// the membership is fetched once and cached.
func TestRespondersByUserGroup(t *testing.T) {
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.SetGroup("SONCALL", "U2")
	fs.SetGroupHandle("SONCALL", "oncall")
	h := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: redistest.Prefix(), Env: map[string]string{"SLACK_RESPONDERS": "SONCALL"}})
	s := h.Slack
	s.Command(t, "U3", "C1", "open outage")
	// The group is named by its handle, not its raw ID (#20.3).
	s.ExpectEphemeral(t, "U3", "Only incident responders", "(responders: @oncall)")
	s.Command(t, "U2", "C1", "open outage")
	s.ExpectMessage(t, "C1", "INC-1")
	s.Expect(t, fakeslack.Match{Channel: "C1", Contains: []string{"Auth Outage Response"}})
	s.ExpectEphemeral(t, "U2", "Opened *INC-1*")
	s.Command(t, "U2", "C1", "note still failing")
	s.Expect(t, fakeslack.Match{Channel: "C1", Contains: []string{"still failing"}})
	s.ExpectEphemeral(t, "U2", "Note added")
	if n := fs.Calls("usergroups.users.list"); n != 1 {
		t.Fatalf("usergroups.users.list called %d times; want 1 (cached)", n)
	}
}

// Slack is down: operators run the same commands from a shell against the
// same Redis; the actor is on the timeline; approvals still need two
// people; the card catches up once a bot reaches Slack.
func TestBreakGlassCLI(t *testing.T) {
	prefix := redistest.Prefix()
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-unused", "SLACK_APP_TOKEN": "xapp-unused", "SLACK_API_URL": "http://127.0.0.1:1/api/",
		"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": prefix, "SLACK_CHANNEL_ID": "CINC", "STATUS_POLL_SCHEDULE": "off"}
	do := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"clerk-incident-bot", "do"}, args...), func(k string) string { return env[k] }, &out, &errOut); err != nil {
			t.Fatalf("do %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	if got := do("open", "outage", "Slack", "is", "down", "too", "--as", "alice"); !strings.Contains(got, "Opened INC-1") || !strings.Contains(got, "card is posted") {
		t.Fatalf("open: %s", got)
	}
	if got := do("ack", "--as", "bob"); !strings.Contains(got, "You are leading INC-1") {
		t.Fatalf("ack: %s", got)
	}
	got := do("bypass", "on", "20m", "Clerk", "and", "Slack", "down", "--as=alice")
	m := regexp.MustCompile("apr-[a-z0-9]{12}").FindString(got)
	if m == "" {
		t.Fatalf("bypass on: %s", got)
	}
	var self bytes.Buffer
	if err := run(context.Background(), []string{"x", "do", "approve", m, "--as", "alice"}, func(k string) string { return env[k] }, &self, io.Discard); err == nil ||
		!strings.Contains(self.String(), "You made this request") {
		t.Fatalf("self-approve (refused, exit 1): %v %s", err, self.String())
	}
	if got := do("approve", m, "--as", "bob"); !strings.Contains(got, "Approved emergency bypass") || !strings.Contains(got, "Emergency auth bypass is ON") {
		t.Fatalf("approve: %s", got)
	}
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"x", "do", "list"}, func(k string) string { return env[k] }, io.Discard, &errOut); err == nil || !strings.Contains(err.Error(), "--as") {
		t.Fatalf("no --as: %v", err)
	}

	// Slack is back: a bot starts and the card catches up.
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	h := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC"}})
	s := h.Slack
	card := s.ExpectMessage(t, "CINC", "INC-1 · Slack is down too", "*Lead* bob")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"caught up"}})
	s.Command(t, "U1", "C1", "status INC-1")
	s.ExpectEphemeral(t, "U1", "Acknowledged; now leading the response · bob", "Approved emergency bypass")
}

// Every state-changing command, click and refusal is in the audit log,
// shown by /clerk-incident audit and exported as JSON lines by the CLI.
func TestAuditLog(t *testing.T) {
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_RESPONDERS": "U1,U2"}})
	s := h.Slack
	s.Command(t, "U1", "C1", "open security Token leak")
	card := s.ExpectMessage(t, "C1", "INC-1")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Security Breach Response"}})
	s.ExpectEphemeral(t, "U1", "Opened")
	s.Command(t, "U9", "C1", "ack INC-1")
	s.ExpectEphemeral(t, "U9", "Only incident responders")
	s.Click(t, "U2", card, "Acknowledge")
	s.ExpectUpdated(t, card, "*Lead* <@U2>")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"acknowledged"}})
	// The click's entry is written as its handler returns: ask until it is there.
	var text string
	for range 50 {
		s.Command(t, "U1", "C1", "audit INC-1")
		text = s.ExpectEphemeral(t, "U1", "Audit log of INC-1").Render()
		if strings.Contains(text, "button inc_ack") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"<@U2> · button inc_ack · INC-1 · ok", "<@U9> · ack · INC-1 · refused: not a responder"} {
		if !strings.Contains(text, want) {
			t.Errorf("audit lacks %q:\n%s", want, text)
		}
	}
	var out, errOut bytes.Buffer
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_APP_TOKEN": "xapp-x", "REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": h.Prefix}
	if err := run(context.Background(), []string{"x", "audit"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 3 || !strings.Contains(out.String(), `"action":"open"`) || !strings.Contains(out.String(), `"outcome":"refused: not a responder"`) {
		t.Fatalf("export:\n%s", out.String())
	}
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not JSON lines: %q", l)
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_RESPONDERS": "U1"}})
	s := h.Slack
	s.Command(t, "U1", "C1", "open performance Slow sign-in")
	card := s.ExpectMessage(t, "C1", "INC-1")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Performance Degradation Response"}})
	s.ExpectEphemeral(t, "U1", "Opened")
	s.Command(t, "U9", "C1", "resolve")
	s.ExpectEphemeral(t, "U9", "Only incident responders")
	addr := h.HTTPAddr
	var body string
	for range 50 { // the refused command is counted as its handler returns
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if strings.Contains(body, `clerk_incident_commands_total{outcome="refused",subcommand="resolve"} 1`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		`clerk_incident_commands_total{outcome="ok",subcommand="open"} 1`,
		`clerk_incident_commands_total{outcome="refused",subcommand="resolve"} 1`,
		`clerk_incident_ack_latency_seconds_count{kind="slash_command"} 2`,
		"clerk_incident_open_incidents 1", "clerk_incident_bypass_active 0", "go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Redis goes away with an incident, a running ladder and an active bypass
// in flight (and the Slack socket drops too): the bot stays up, says so on
// /healthz and to users, recovers by itself, and append-only persistence
// loses nothing: the next level is paged once, the bypass is still on.
func TestRedisRestartLosesNothing(t *testing.T) {
	// Not parallel: it frees ports and takes them again, which another
	// test's listener could take in between.
	rs := redistest.StartServer(t)
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	dir := t.TempDir()
	contacts := "contacts:\n  team:\n    - {name: A, slack_id: U1}\n    - {name: B, slack_id: U2}\n" +
		"  escalation:\n    - {level: 1, contact: A, time: 0-4s}\n    - {level: 2, contact: B, time: 4s+}\n" +
		"policy: {repeat_every: 1h, repeat_times: 0}\n"
	if err := os.WriteFile(dir+"/contacts.yml", []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	h := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: "fault:", Env: map[string]string{"REDIS_URL": rs.URL(), "SLACK_RESPONDERS": "U1,U2", "CONTACTS_FILE": dir + "/contacts.yml"}})
	s := h.Slack
	s.Command(t, "U1", "C1", "open outage Before the crash")
	card := s.ExpectMessage(t, "C1", "INC-1")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	s.ExpectEphemeral(t, "U1", "Opened")
	s.ExpectMessage(t, "DU1", "level 1 (A)")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Paged level 1"}})
	s.Command(t, "U1", "C1", "note INC-1 written just before Redis dies")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"written just before"}})
	s.ExpectEphemeral(t, "U1", "Note added")
	s.Command(t, "U1", "C1", "bypass on 30m Clerk down")
	req := s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Approval needed: emergency bypass"}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U2", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U2>")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Emergency auth bypass is ON"}})

	rs.Stop()
	opens := s.Calls("apps.connections.open")
	s.DropConnections()
	for deadline := time.Now().Add(20 * time.Second); s.Calls("apps.connections.open") == opens || s.Connections() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the bot did not reconnect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Command(t, "U1", "C1", "note INC-1 while Redis is down")
	s.ExpectEphemeral(t, "U1", "incident store is unavailable, retrying")
	if body := healthz(t, h); body["redis"] != "down" || body["status"] == "ok" {
		t.Fatalf("healthz with Redis down: %v", body)
	}

	rs.Start()
	deadline := time.Now().Add(10 * time.Second)
	for healthz(t, h)["redis"] != "up" {
		if time.Now().After(deadline) {
			t.Fatal("did not recover")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.ExpectMessage(t, "DU2", "level 2 (B)")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Paged level 2"}})
	resp, err := http.Get("http://" + h.HTTPAddr + "/v1/bypass")
	if err != nil {
		t.Fatal(err)
	}
	var bp map[string]any
	err = json.NewDecoder(resp.Body).Decode(&bp)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("bypass body (status %d): %v", resp.StatusCode, err)
	}
	if bp["enabled"] != true || bp["incident"] != "INC-1" {
		t.Fatalf("bypass after the Redis restart: %v", bp)
	}
	s.ExpectUpdated(t, card, "level 2 (B) paged") // recorded after the page went out
	s.Command(t, "U1", "C1", "status INC-1")
	s.ExpectEphemeral(t, "U1", "INC-1 · Before the crash", "written just before Redis dies", "level 2 (B) paged")
	count := 0
	for _, m := range s.Messages() {
		if strings.HasPrefix(m.Channel, "DU") {
			count++
		}
	}
	if count != 2 {
		t.Fatalf("%d pages, want 2 (one per level)", count)
	}
	s.Command(t, "U1", "C1", "resolve INC-1")
	s.ExpectUpdated(t, card, "Resolved")
}

// Every state-changing subcommand is refused to a non-responder, and the
// incident is unchanged afterwards.
func TestEveryStateChangingSubcommandRefusesNonResponders(t *testing.T) {
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_RESPONDERS": "U1"}})
	s := h.Slack
	s.Command(t, "U1", "C1", "open outage Guarded")
	card := s.ExpectMessage(t, "C1", "INC-1")
	checklist := s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	s.ExpectEphemeral(t, "U1", "Opened")
	for _, click := range []struct {
		m     *fakeslack.Message
		label string
	}{{card, "Acknowledge"}, {card, "Resolve"}, {checklist, "Tick"}} {
		s.Click(t, "U9", click.m, click.label)
		s.ExpectEphemeral(t, "U9", "Only incident responders")
	}
	args := map[string]string{"open": "outage", "note": "INC-1 x", "severity": "INC-1 P3", "impact": "INC-1 x", "mitigated": "INC-1",
		"resolve": "INC-1", "postmortem": "INC-1", "rootcause": "INC-1 x", "prevention": "INC-1 x", "lessons": "INC-1 x", "ack": "INC-1",
		"escalate": "INC-1", "revoke": "user_abc", "lockout": "user_abc", "unlock": "user_abc", "approve": "apr-aaaaaaaaaaaa",
		"deny": "apr-aaaaaaaaaaaa", "audit": "INC-1"}
	for _, sub := range []string{"open", "ack", "note", "severity", "impact", "mitigated", "resolve", "postmortem", "rootcause",
		"prevention", "lessons", "escalate", "revoke", "lockout", "unlock", "approve", "deny", "audit"} {
		s.Command(t, "U9", "C1", sub+" "+args[sub])
		s.ExpectEphemeral(t, "U9", "Only incident responders may use `"+sub+"`")
	}
	for _, text := range []string{"bypass on 10m", "bypass off", "resync", "resync cancel"} {
		s.Command(t, "U9", "C1", text)
		s.Expect(t, fakeslack.Match{Ephemeral: true, User: "U9", Contains: []string{}})
	}
	s.Command(t, "U1", "C1", "status INC-1")
	st := s.ExpectEphemeral(t, "U1", "INC-1 · Guarded", "Investigating", "_unacknowledged_", "P1")
	if strings.Count(st.Render(), "\n`") != 1 { // the timeline holds only the opening
		t.Fatalf("timeline changed:\n%s", st.Render())
	}
	s.NoUnexpectedMessages(t)
}

// A command typed the moment the card appears (before its ts is stored)
// still posts under the card, not at the top of the channel.
func TestCommandRightAfterOpenGoesInTheThread(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.Spec{Env: nil})
	s := h.Slack
	for i := 1; i <= 5; i++ {
		s.Command(t, "U1", "C1", fmt.Sprintf("open %s Race %d", []string{"outage", "webhook", "security", "performance", "outage"}[i-1], i))
		card := s.ExpectMessage(t, "C1", fmt.Sprintf("INC-%d · Race %d", i, i))
		s.Command(t, "U1", "C1", fmt.Sprintf("note INC-%d typed at once %d", i, i))
		s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{fmt.Sprintf("typed at once %d", i)}})
		if i == 4 {
			break // the fifth open would be a duplicate outage
		}
	}
}

// Text reaches the report exactly as typed (Slack sends &, < and > escaped),
// and typed markup never becomes a ping or a disguised link in a message.
func TestTextAsTyped(t *testing.T) {
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_RESPONDERS": "U1"}})
	s := h.Slack
	note := "p95 > 2s & rising <!channel>"
	impact := "<https://example.com|Clerk> & 5% of users > 1 min"
	s.Command(t, "U1", "C1", "open performance Slow auth & <!here>")
	card := s.ExpectMessage(t, "C1", "INC-1")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"steps done"}})
	s.ExpectEphemeral(t, "U1", "Opened")
	s.Command(t, "U1", "C1", "note "+note)
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"p95 &gt; 2s &amp; rising &lt;!channel&gt;"}})
	s.ExpectEphemeral(t, "U1", "Note added")
	s.Command(t, "U1", "C1", "impact "+impact)
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"&lt;https://example.com|Clerk&gt;"}})
	s.ExpectEphemeral(t, "U1", "Impact recorded")
	s.Command(t, "U1", "C1", "resolve fixed")
	s.ExpectEphemeral(t, "U1", "resolved")
	s.Command(t, "U1", "C1", "postmortem")
	s.ExpectEphemeral(t, "U1", "report for INC-1")
	var report string
	for _, f := range s.Files() {
		if strings.HasSuffix(f.Name, "-postmortem.md") {
			report = f.Content
		}
	}
	for _, want := range []string{note, impact, "Slow auth & <!here>"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q as typed:\n%s", want, report)
		}
	}
	for _, m := range s.Messages() {
		// Headers are plain_text, which Slack never parses for mentions.
		var lines []string
		for _, l := range strings.Split(m.Render(), "\n") {
			if !strings.HasPrefix(l, "== ") {
				lines = append(lines, l)
			}
		}
		raw := m.Text + "\n" + strings.Join(lines, "\n")
		for _, bad := range []string{"<!channel>", "<!here>", "<https://example.com|Clerk>", "&amp;gt;", "&amp;amp;"} {
			if strings.Contains(raw, bad) {
				t.Errorf("message %s carries %q:\n%s", m.TS, bad, raw)
			}
		}
	}
}

// A name given with --as is plain text with a visible (CLI) tag, never a
// mention, link or formatting; the audit entry records who really ran it.
func TestBreakGlassNameIsPlainTextAndAudited(t *testing.T) {
	prefix := redistest.Prefix()
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-unused", "SLACK_APP_TOKEN": "xapp-unused", "SLACK_API_URL": "http://127.0.0.1:1/api/",
		"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": prefix, "SLACK_CHANNEL_ID": "CINC", "STATUS_POLL_SCHEDULE": "off"}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"x", "do", "open", "outage", "Down", "--as", "<!channel> *boss* <https://evil.example|Alice>"},
		func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"x", "audit"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if !strings.Contains(out.String(), `"origin":"cli os_user=`) || !strings.Contains(out.String(), "host="+host) ||
		!strings.Contains(out.String(), fmt.Sprintf("pid=%d", os.Getpid())) {
		t.Fatalf("audit export lacks the CLI's origin:\n%s", out.String())
	}
	h := apptest.Start(t, apptest.Spec{Prefix: prefix, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC"}})
	s := h.Slack
	card := s.ExpectMessage(t, "CINC", "INC-1 · Down", "opened by &lt;!channel&gt; boss &lt;https://evil.example|Alice&gt; (CLI)")
	for _, bad := range []string{"<!channel>", "*boss*", "<https://evil.example|Alice>"} {
		if strings.Contains(card.Render(), bad) {
			t.Fatalf("the card carries %q:\n%s", bad, card.Render())
		}
	}
}

// Commands that spend Clerk's budget (shared with the production app) need
// a responder; reading commands stay open to everyone.
func TestClerkBudgetIsForResponders(t *testing.T) {
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_RESPONDERS": "U1"}})
	s := h.Slack
	for _, text := range []string{"diagnose", "webhook check"} {
		s.Command(t, "U9", "C1", text)
		s.ExpectEphemeral(t, "U9", "Only incident responders may use `"+strings.Fields(text)[0]+"`")
	}
	for text, want := range map[string]string{"help": "runs the Clerk incident runbook", "list": "No open incidents", "contacts": "contacts file",
		"status": "No open incidents", "bypass status": "bypass", "resync status": "webhook endpoint is not configured"} {
		s.Command(t, "U9", "C1", text)
		s.ExpectEphemeral(t, "U9", want)
	}
}

// The person who typed hears first: the reply comes before the thread
// line and the card refresh.
func TestReplyComesBeforeTheThreadLine(t *testing.T) {
	h := apptest.Start(t, apptest.Spec{Env: map[string]string{"SLACK_RESPONDERS": "U1"}})
	s := h.Slack
	s.Command(t, "U1", "C1", "open outage Down")
	card := s.ExpectMessage(t, "C1", "INC-1")
	s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"steps done"}})
	s.ExpectEphemeral(t, "U1", "Opened")
	s.Command(t, "U1", "C1", "note first look: 502s from /v1/client")
	line := s.Expect(t, fakeslack.Match{Channel: "C1", Thread: card.TS, Contains: []string{"first look"}})
	reply := s.ExpectEphemeral(t, "U1", "Note added")
	if reply.TS >= line.TS {
		t.Fatalf("the reply (ts %s) came after the thread line (ts %s)", reply.TS, line.TS)
	}
}

// Slack is down and the operator has only the shell: the CLI shows what
// Slack would (the card's fields, the timeline, the lead, the checklist
// with its buttons as commands, the audit log), ticks a step, writes the
// report to a file or prints it, and exits non-zero when a command is
// refused or unknown.
func TestBreakGlassCLIShowsEverythingSlackWould(t *testing.T) {
	prefix := redistest.Prefix()
	contacts := t.TempDir() + "/contacts.yml"
	if err := os.WriteFile(contacts, []byte(`contacts:
  on_call:
    - name: On-Call Engineer
      slack_id: U1
  executives:
    - name: CTO
      slack_id: U3
  escalation:
    - level: 1
      contact: "On-call engineer"
      time: "0-15 min"
    - level: 2
      contact: "CTO"
      time: "15+ min"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-unused", "SLACK_APP_TOKEN": "xapp-unused", "SLACK_API_URL": "http://127.0.0.1:1/api/",
		"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": prefix, "SLACK_CHANNEL_ID": "CINC", "STATUS_POLL_SCHEDULE": "off", "CONTACTS_FILE": contacts}
	run1 := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"clerk-incident-bot", "do"}, args...), func(k string) string { return env[k] }, &out, &errOut)
		return out.String(), err
	}
	do := func(args ...string) string {
		t.Helper()
		out, err := run1(args...)
		if err != nil {
			t.Fatalf("do %v: %v\n%s", args, err, out)
		}
		return out
	}
	wants := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, got)
			}
		}
	}
	do("open", "outage", "P1", "Sign-in", "down", "--as", "alice")
	do("ack", "INC-1", "--as", "bob")
	do("note", "INC-1", "restarted", "the", "pods", "--as", "bob")

	status := do("status", "INC-1", "--as", "carol")
	wants("status", status, "INC-1 · Sign-in down", "Lead: bob (CLI)", "Severity: P1", "Status: 🔴 Investigating",
		"Timeline (latest 3 of 3, UTC)", "restarted the pods · bob (CLI)", "Auth Outage Response: 0/11 steps done",
		"Escalation: nobody paged yet · stopped: acknowledged by bob (CLI)")

	list := do("checklist", "INC-1", "--as", "carol")
	wants("checklist", list, "Auth Outage Response · INC-1", "⬜ 1. Confirm outage", "run: clerk-incident-bot do tick INC-1 1 --as <you>",
		"4. If Clerk outage\n", "0/11 steps done")
	if strings.Contains(list, "do tick INC-1 4 ") {
		t.Errorf("a branch header has a tick command:\n%s", list)
	}

	got := do("tick", "INC-1", "2", "--as", "carol")
	wants("tick", got, "Step 2 of INC-1 ticked: Check application logs for errors (1/11 done)")
	wants("checklist after tick", do("checklist", "--as", "carol"), "✅ 2. Check application logs for errors · carol (CLI)", "do untick INC-1 2")
	if out, err := run1("tick", "INC-1", "4", "--as", "carol"); err == nil || !strings.Contains(out, "is a branch, not a step") {
		t.Errorf("ticking a branch header: %v\n%s", err, out)
	}

	wants("audit", do("audit", "INC-1", "--as", "carol"), "Audit log of INC-1", "tick INC-1 2", "carol (CLI)")

	do("resolve", "INC-1", "Clerk", "recovered", "--as", "bob")
	// After resolve, steps may still be ticked until the report is final.
	wants("tick after resolve", do("tick", "INC-1", "3", "--as", "bob"), "Step 3 of INC-1 ticked")

	report := do("postmortem", "INC-1", "--as", "bob")
	wants("postmortem on stdout", report, "----- Incident Report: Sign-in down (inc-1-postmortem.md) -----", "# Incident Report: Sign-in down",
		"Checklist 2 done", "The report for INC-1 is written (above, or where --out said)")
	dir := t.TempDir()
	path := dir + "/INC-1.md"
	wants("postmortem to a file", do("postmortem", "INC-1", "--as", "bob", "--out", path), "written to "+path)
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "# Incident Report: Sign-in down") {
		t.Errorf("report file: %v\n%s", err, b)
	}

	for _, bad := range [][]string{{"frob", "--as", "bob"}, {"ack", "INC-42", "--as", "bob"}, {"tick", "INC-1", "99", "--as", "bob"}} {
		out, err := run1(bad...)
		if err == nil {
			t.Errorf("do %v exited 0:\n%s", bad, out)
		}
	}
	if out, err := run1("frob", "--as", "bob"); err == nil || !strings.Contains(out, "`frob` is not a /clerk-incident subcommand") {
		t.Errorf("unknown subcommand: %v\n%s", err, out)
	}
}
