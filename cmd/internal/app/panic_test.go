package app_test

import (
	"context"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeapp"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
)

// panicOnce panics the first time each job runs.
type panicOnce struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (p *panicOnce) hook(job string) {
	p.mu.Lock()
	first := !p.seen[job]
	p.seen[job] = true
	p.mu.Unlock()
	if first {
		panic("injected failure in " + job)
	}
}

func (p *panicOnce) saw(job string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[job]
}

// Every background loop panics once: the sweep, the escalation engine, the
// status poller, the socket listener and Socket Mode client, a command's
// handler, HTTP handlers and the resync workers.
// The process carries on: it still answers commands, pages, serves HTTP,
// finishes the resync, and says once in Slack that a job failed.
func TestEveryLoopSurvivesAPanic(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	// Some 25 posts share the main channel: at Slack's pace of one a
	// second they took most of this test's time and, on a loaded machine,
	// its bounds. Pacing is not what this test is about (the alarm never
	// waiting on the pace is TestAlarmDoesNotHoldACrashedLoopOnSlack's), so
	// the fake Slack has no limits and the bot posts unpaced.
	fs.Unlimited()
	fs.AddUser("U1", "alice")
	fc := fakeclerk.New()
	t.Cleanup(fc.Close)
	for range 30 {
		fc.AddUser("U", "", 0)
	}
	fapp := fakeapp.New()
	t.Cleanup(fapp.Close)
	st := fakestatus.New()
	t.Cleanup(st.Close)
	dir := t.TempDir()
	contacts := "contacts:\n  team:\n    - {name: Alice, slack_id: U1}\n  escalation:\n    - {level: 1, contact: Alice, time: 0-15 min}\n"
	if err := os.WriteFile(dir+"/contacts.yml", []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &panicOnce{seen: map[string]bool{}}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{
		"SLACK_CHANNEL_ID": "CINC", "CONTACTS_FILE": dir + "/contacts.yml",
		"STATUS_POLL_SCHEDULE": "@every 1s", "CLERK_STATUS_URL": st.StatuspageURL(), "APP_HEALTH_URL": st.HealthURL(),
		"CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(), "APP_WEBHOOK_URL": fapp.WebhookURL(), "APP_WEBHOOK_SECRET": fapp.Secret,
	}, Options: app.Options{PanicHook: p.hook, Unpaced: true}})

	// HTTP: the first request hits the injected panic and gets a 500; the
	// server carries on.
	// (/metrics: /healthz may still say the socket is connecting.)
	for i, want := range []int{http.StatusInternalServerError, http.StatusOK} {
		resp, err := http.Get("http://" + bot.HTTPAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, job := range []string{"sweep", "escalation engine", "status poller", "socket listener", "socket mode client"} {
		for !p.saw(job) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never ran", job)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// A Socket Mode handler panics (the first command): the user is told,
	// and the next command is answered.
	fs.Command(t, "U1", "C1", "list")
	fs.ExpectEphemeral(t, "U1", "Something went wrong while handling that")

	// Still answering, paging and resyncing.
	fs.Command(t, "U1", "C1", "open webhook Sync broken")
	card := fs.ExpectMessage(t, "CINC", "INC-1")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Expect(t, fakeslack.Match{Channel: "DU1", Contains: []string{"INC-1"}})
	fs.Command(t, "U1", "C1", "resync --no-pause")
	fs.ExpectEphemeral(t, "U1", "Resync")
	// 90 s is a bound for a loaded machine, not a wait (unloaded: 5 s, most
	// of it the resync picking up after its panicked worker).
	fs.ExpectWithin(t, 90*time.Second, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"100%: 30 delivered"}})
	if fapp.Users() != 30 {
		t.Fatalf("app holds %d users", fapp.Users())
	}
	for _, job := range []string{"sweep", "approval expiry", "bypass tick", "approval outbox", "card catch-up", "escalation engine", "status poller", "socket listener", "socket mode client", "slack handler", "http", "resync worker"} {
		if !p.saw(job) {
			t.Errorf("%s never ran under the guard", job)
		}
		fs.ExpectWithin(t, 30*time.Second, fakeslack.Match{Contains: []string{"The bot's " + job + " hit an internal error and carried on"}})
	}
	_ = context.Background()
}
