package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// BenchmarkSMSAckStopsLadder runs three replicas of the real program on
// one Redis, with their own 1 s sweeps and TWILIO_REPLY_POLL=1s, against
// the fake Slack and the fake Twilio. Each of b.N incidents pages Alice by
// SMS; at a random moment her "ack" reaches Twilio, and the time until the
// incident's ladder is stopped in Redis is measured (target: p99 within
// one poll interval and a second).
func BenchmarkSMSAckStopsLadder(b *testing.B) {
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	path := b.TempDir() + "/contacts.yml"
	contacts := `contacts:
  on_call:
    - {name: Alice, slack_id: U1, phone: "+15550000001"}
  leads:
    - {name: Bob, slack_id: U2}
  escalation:
    - {level: 1, contact: on_call, time: 0-15 min, via: [slack, sms]}
    - {level: 2, contact: Bob, time: 15+ min}
`
	if err := os.WriteFile(path, []byte(contacts), 0o600); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"LOG_LEVEL": "warn", "CONTACTS_FILE": path, "SLACK_CHANNEL_ID": "CINC", "UPDATE_REMINDER": "off",
		"TWILIO_ACCOUNT_SID": tw.SID, "TWILIO_AUTH_TOKEN": tw.Token, "TWILIO_FROM": tw.From, "TWILIO_API_URL": tw.URL(), "TWILIO_REPLY_POLL": "1s"}
	slack := fakeslack.New()
	defer slack.Close()
	slack.AddUser("U1", "alice")
	slack.AddUser("U2", "bob")
	first := apptest.Start(b, apptest.Spec{Slack: slack, Env: env})
	apptest.Start(b, apptest.Spec{Slack: slack, Prefix: first.Prefix, Env: env})
	apptest.Start(b, apptest.Spec{Slack: slack, Prefix: first.Prefix, Env: env})
	var took []time.Duration
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("INC-%d", i+1)
		slack.Command(b, "U2", "C1", "open outage P1 Benchmark "+id)
		slack.ExpectMessage(b, "CINC", id+" · Benchmark")
		waitUntil(b, func() bool {
			for _, s := range tw.Sent() {
				if s.Kind == "sms" && strings.HasPrefix(s.Body, id+" ") {
					return true
				}
			}
			return false
		})
		time.Sleep(rand.N(time.Second)) // any moment of the poll interval
		start := time.Now()
		tw.Reply("+15550000001", tw.From, "ack "+id)
		waitUntil(b, func() bool {
			st, err := first.Engine.Get(context.Background(), id)
			return err == nil && st.Stopped == "acknowledged"
		})
		took = append(took, time.Since(start))
		slack.Command(b, "U2", "C1", "resolve "+id+" benchmark done")
		slack.ExpectEphemeral(b, "U2", id+" is resolved")
	}
	b.StopTimer()
	slices.Sort(took)
	n := len(took)
	p50, p99, mx := took[n/2], took[min(n*99/100, n-1)], took[n-1]
	fmt.Printf("sms ack to ladder stopped: %d incidents, 3 replicas, poll 1 s: p50 %s p99 %s max %s\n", n,
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), mx.Round(time.Millisecond))
}

func waitUntil(b *testing.B, ok func() bool) {
	b.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("condition never held")
		}
	}
}
