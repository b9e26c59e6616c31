package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// syncBuffer collects the bot's log lines from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	slack  *fakeslack.Server
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// start runs the real program (run) against the fake Slack and real Redis.
func start(t testing.TB, env map[string]string) *harness {
	t.Helper()
	fs := fakeslack.New()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	base := map[string]string{
		"SLACK_BOT_TOKEN": fs.BotToken, "SLACK_APP_TOKEN": fs.AppToken, "SLACK_API_URL": fs.APIURL(),
		"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": redistest.Prefix(), "HTTP_ADDR": "127.0.0.1:0",
		"LOG_LEVEL": "debug",
	}
	for k, v := range env {
		base[k] = v
	}
	h := &harness{slack: fs, logs: &syncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		h.done <- run(ctx, []string{"clerk-incident-bot"}, func(k string) string { return base[k] }, io.Discard, h.logs)
	}()
	if err := fs.WaitConnected(10 * time.Second); err != nil {
		cancel()
		t.Fatalf("bot never connected: %v\nlogs:\n%s", err, h.logs)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("run did not stop")
		}
		fs.Close()
		for _, secret := range []string{fs.BotToken, fs.AppToken, "/response/"} {
			if strings.Contains(h.logs.String(), secret) {
				t.Errorf("logs contain a secret (%s)", secret)
			}
		}
	})
	return h
}

func TestIncidentLoopEndToEnd(t *testing.T) {
	h := start(t, map[string]string{"SLACK_RESPONDERS": "U1,U2"})
	s := h.slack

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
	s.ExpectUpdated(t, card, "1/13 steps done")

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

func healthz(t *testing.T, h *harness) map[string]string {
	t.Helper()
	addr := ""
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, "http listening") {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) == nil {
				addr, _ = e["addr"].(string)
			}
		}
	}
	if addr == "" {
		t.Fatal("no http address in logs")
	}
	r, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(r.Body).Decode(&body)
	if (r.StatusCode == 200) != (body["status"] == "ok") {
		t.Fatalf("status %d with body %v", r.StatusCode, body)
	}
	return body
}

func TestRefusedAndBadInputChangeNothing(t *testing.T) {
	h := start(t, map[string]string{"SLACK_RESPONDERS": "U1"})
	s := h.slack

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
	s.ExpectEphemeral(t, "U9", "/clerk-incident open <outage|webhook|security|performance>")
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
