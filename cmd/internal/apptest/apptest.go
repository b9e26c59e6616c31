// Package apptest starts the real program for end-to-end tests: one
// in-process replica (Start) over a fake Slack and a real Redis, or the
// built binary as a separate process (Build, StartProcess) for kill -9
// tests. Every end-to-end test starts the bot through it.
package apptest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/secretscan"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// Spec says how to start a replica. The zero Spec is a bot on a new fake
// Slack (alice U1, bob U2), a fresh Redis prefix, no escalation ladder and
// no status polling, with its own background loops.
type Spec struct {
	// Slack is shared by replicas of one test; nil makes a new one.
	Slack *fakeslack.Server
	// Prefix is shared by replicas of one test; "" makes a fresh one.
	Prefix string
	// Env is laid over the base environment.
	Env map[string]string
	// Options swaps the clock and turns loops off for the test to drive
	// (the callbacks are filled in by Start; set the rest).
	Options app.Options
}

// Bot is one running replica.
type Bot struct {
	Slack    *fakeslack.Server
	Prefix   string
	HTTPAddr string
	Logs     *secretscan.Buffer // what it logged, scanned for secrets when it stops
	// Engine, Poller and Sweep are what the test drives when it turned
	// the matching loop off (nil when not configured).
	Engine *escalation.Engine
	Poller *statuswatch.Poller
	Sweep  func(ctx context.Context)
	// PagerDuty reads PagerDuty back (Manual.PagerDuty: the test ticks it).
	PagerDuty *usecase.PagerDutySync

	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	t      testing.TB
}

// Start runs one replica of the whole program and waits until it listens
// on HTTP and holds a Socket Mode connection. It stops with the test, and
// every line it logged is scanned for secrets.
func Start(t testing.TB, s Spec) *Bot {
	t.Helper()
	if s.Slack == nil {
		s.Slack = fakeslack.New()
		s.Slack.AddUser("U1", "alice")
		s.Slack.AddUser("U2", "bob")
		t.Cleanup(s.Slack.Close)
	}
	if s.Prefix == "" {
		s.Prefix = redistest.Prefix()
	}
	env := map[string]string{
		"SLACK_BOT_TOKEN": s.Slack.BotToken, "SLACK_APP_TOKEN": s.Slack.AppToken, "SLACK_API_URL": s.Slack.APIURL(),
		"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": s.Prefix, "HTTP_ADDR": "127.0.0.1:0",
		"LOG_LEVEL": "debug", "STATUS_POLL_SCHEDULE": "off",
	}
	for k, v := range s.Env {
		env[k] = v
	}
	cfg, err := app.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if env["CONTACTS_FILE"] == "" {
		cfg.ContactsFile = filepath.Join(t.TempDir(), "none.yml") // escalation off
	}
	b := &Bot{Slack: s.Slack, Prefix: s.Prefix, Logs: &secretscan.Buffer{}, done: make(chan error, 1), t: t}
	opt := s.Options
	opt.Stderr = b.Logs
	ready := make(chan string, 1)
	opt.Ready = func(addr string) { ready <- addr }
	opt.OnEngine = func(e *escalation.Engine) { b.Engine = e }
	opt.OnPoller = func(p *statuswatch.Poller) { b.Poller = p }
	opt.OnSweep = func(f func(ctx context.Context)) { b.Sweep = f }
	opt.OnPagerDuty = func(p *usecase.PagerDutySync) { b.PagerDuty = p }
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	before := s.Slack.Connections()
	go func() { b.done <- app.Run(ctx, cfg, opt) }()
	select {
	case b.HTTPAddr = <-ready:
	case err := <-b.done:
		cancel()
		t.Fatalf("the bot stopped before listening: %v\nlogs:\n%s", err, b.Logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("the bot never listened\nlogs:\n%s", b.Logs)
	}
	if err := s.Slack.WaitConnections(before+1, 10*time.Second); err != nil {
		cancel()
		t.Fatalf("the bot never connected: %v\nlogs:\n%s", err, b.Logs)
	}
	t.Cleanup(b.Stop)
	return b
}

// Stop ends the replica as a deploy would and checks it stopped cleanly.
func (b *Bot) Stop() {
	b.once.Do(func() {
		b.cancel()
		select {
		case err := <-b.done:
			if err != nil {
				b.t.Errorf("the bot returned %v", err)
			}
		case <-time.After(15 * time.Second):
			b.t.Error("the bot did not stop")
		}
		secretscan.Check(b.t, b.Logs.String())
		// Every reply the bot sent passed Slack's block limits.
		for _, r := range b.Slack.Rejected() {
			b.t.Errorf("fake Slack refused a message for its blocks: %s", r)
		}
		// And Slack showed every message as the bot meant it.
		for _, r := range b.Slack.Misrendered() {
			b.t.Errorf("Slack would read a bare < as a link or mention: %s", r)
		}
	})
}

// Build compiles the bot once for process-level fault tests.
func Build(t testing.TB, pkgDir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clerk-incident-bot")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = pkgDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// StartProcess runs the built binary with env (added to this process's)
// in a fresh directory; it dies with the test.
func StartProcess(t testing.TB, bin string, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir() // no ./contacts.yml unless CONTACTS_FILE says so
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// APPTEST_PROCESS_LOG=file keeps the processes' logs when a kill test
	// needs debugging; by default they are discarded.
	if p := os.Getenv("APPTEST_PROCESS_LOG"); p != "" {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			cmd.Stderr = f
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}
