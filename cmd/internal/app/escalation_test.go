package app

import (
	"context"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const ladderContacts = `contacts:
  on_call:
    - name: On-Call Engineer
      phone: "+1-555-0100"
      slack_id: SONCALL
  leads:
    - name: Engineering Lead
      email: bob@example.com
  executives:
    - name: CTO
      slack: "@carol"
  escalation:
    - level: 1
      contact: "On-call engineer"
      time: "0-15 min"
    - level: 2
      contact: "Engineering lead"
      time: "15-30 min"
    - level: 3
      contact: "CTO"
      time: "30+ min"
policy:
  repeat_every: 15 min
  repeat_times: 1
`

// The whole program with an injected clock: open → level 1 by DM; +15 min
// → level 2; +30 → level 3; +45 → one re-page; acknowledged from the DM →
// nothing more, ever.
func TestLadderEndToEnd(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	fs.AddUser("U3", "carol")
	fs.SetGroup("SONCALL", "U1")
	fs.SetEmail("U2", "bob@example.com")
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/contacts.yml", []byte(ladderContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SLACK_BOT_TOKEN": fs.BotToken, "SLACK_APP_TOKEN": fs.AppToken, "SLACK_API_URL": fs.APIURL(),
		"REDIS_URL": redistest.URL(t), "REDIS_KEY_PREFIX": redistest.Prefix(), "HTTP_ADDR": "127.0.0.1:0",
		"CONTACTS_FILE": dir + "/contacts.yml", "SLACK_CHANNEL_ID": "CINC",
	}
	cfg, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
	engines := make(chan *escalation.Engine, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Stderr: io.Discard, Now: clock.Now, NoEngineLoop: true,
			OnEngine: func(e *escalation.Engine) { engines <- e }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	engine := <-engines
	if err := fs.WaitConnected(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	tick := func() {
		t.Helper()
		if _, err := engine.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in failing")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")

	tick()
	fs.ExpectMessage(t, "DU1", "INC-1 · Sign-in failing", "level 1 (On-call engineer)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 1 (On-call engineer, 0-15 min): <@U1>"}})
	fs.ExpectUpdated(t, card, "level 1 (On-call engineer) paged", "next: level 2 (Engineering lead)")

	clock.Add(14 * time.Minute)
	tick()
	fs.NoUnexpectedMessages(t)

	clock.Add(time.Minute)
	tick()
	fs.ExpectMessage(t, "DU2", "level 2 (Engineering lead)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 2", "<@U2>"}})

	clock.Add(15 * time.Minute)
	tick()
	fs.ExpectMessage(t, "DU3", "level 3 (CTO)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Paged level 3", "<@U3>"}})

	clock.Add(15 * time.Minute)
	tick()
	dm := fs.ExpectMessage(t, "DU3", "Still unacknowledged: re-page 1 of level 3")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Re-paged (1) level 3"}})

	fs.Click(t, "U3", dm, "Acknowledge")
	fs.ExpectUpdated(t, dm, "You acknowledged *INC-1*")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"<@U3> acknowledged INC-1"}})
	fs.ExpectUpdated(t, card, "stopped: acknowledged by <@U3>")

	clock.Add(2 * time.Hour)
	tick()
	fs.NoUnexpectedMessages(t)

	fs.Command(t, "U1", "C1", "contacts")
	fs.ExpectEphemeral(t, "U1", "1. On-call engineer · 0-15 min · <!subteam^SONCALL>", "2. Engineering lead · 15-30 min · <@U2>",
		"3. CTO · 30+ min · <@U3>", "+1-555-0100")

	// Someone asks for more help after the ack: the next level is paged once.
	fs.Command(t, "U1", "C1", "escalate")
	fs.ExpectEphemeral(t, "U1", "Paging level 3 (CTO) of INC-1 now")
	tick()
	fs.ExpectMessage(t, "DU3", "A responder escalated to level 3 (CTO)")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Escalated: paged level 3"}})
	clock.Add(time.Hour)
	tick()
	fs.NoUnexpectedMessages(t)
}
