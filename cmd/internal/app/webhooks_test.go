package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeapp"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

func webhooksJSON(t *testing.T, addr, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/webhooks", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("/v1/webhooks body (status %d): %v", resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

// Two replicas on one Redis serve the same pause at GET /v1/webhooks,
// whichever took the command; the card says so, the steps are ticked,
// the audit log has it, and a reminder comes once per half hour.
func TestWebhooksPauseFollowedAcrossReplicas(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U1", "alice")
	fs.AddUser("U2", "bob")
	clock := &testClock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
	prefix := redistest.Prefix()
	env := map[string]string{"SLACK_RESPONDERS": "U1,U2", "SLACK_CHANNEL_ID": "CINC", "BYPASS_READ_TOKEN": "read-token-123456"}
	spec := apptest.Spec{Slack: fs, Prefix: prefix, Env: env, Options: app.Options{Manual: app.Loops{Sweep: true}, Now: clock.Now}}
	a, b := apptest.Start(t, spec), apptest.Start(t, spec)
	ctx := context.Background()

	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Users not syncing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	for _, r := range []*apptest.Bot{a, b} {
		if code, _ := webhooksJSON(t, r.HTTPAddr, ""); code != http.StatusUnauthorized {
			t.Fatalf("without the token: %d", code)
		}
		code, st := webhooksJSON(t, r.HTTPAddr, "read-token-123456")
		if code != 200 || st["paused"] != false || st["resync_id_prefix"] != resync.IDPrefix {
			t.Fatalf("before the pause: %d %v", code, st)
		}
	}

	fs.Command(t, "U2", "C1", "webhooks pause INC-1 resync after the outage")
	fs.ExpectEphemeral(t, "U2", "Webhook processing is paused")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"paused webhook processing", "resync after the outage"}})
	fs.ExpectUpdated(t, card, "Webhook processing paused", "by <@U2>", "resync after the outage")
	for _, r := range []*apptest.Bot{a, b} {
		_, st := webhooksJSON(t, r.HTTPAddr, "read-token-123456")
		if st["paused"] != true || st["by"] != "U2" || st["reason"] != "resync after the outage" || st["incident"] != "INC-1" ||
			st["since"] != "2026-11-25T03:00:00Z" || st["resync_id_prefix"] != resync.IDPrefix {
			t.Fatalf("replica %s while paused: %v", r.HTTPAddr, st)
		}
	}
	tickedIn(t, prefix, "INC-1", incident.StepPauseWebhooks, true)
	fs.Command(t, "U1", "C1", "webhooks pause again")
	fs.ExpectEphemeral(t, "U1", "already paused; nothing changed")
	fs.Command(t, "U1", "C1", "webhooks pause INC-x1 why")
	fs.ExpectEphemeral(t, "U1", "is not an incident ID")
	fs.Command(t, "U1", "C1", "webhooks pause")
	fs.ExpectEphemeral(t, "U1", "Say why")
	fs.Command(t, "U1", "C1", "webhooks status")
	fs.ExpectEphemeral(t, "U1", "Webhook processing paused* since")

	// The reminder: once at 30 minutes, whichever replica sweeps.
	clock.Add(29 * time.Minute)
	a.Sweep(ctx)
	clock.Add(time.Minute)
	a.Sweep(ctx)
	b.Sweep(ctx)
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"paused for 30 min", "about a day"}})

	fs.Command(t, "U1", "C1", "help")
	fs.ExpectEphemeral(t, "U1", "/clerk-incident webhooks pause [INC-n] &lt;reason…&gt; | resume [INC-n] | status", "--no-pause")
	fs.Command(t, "U1", "C1", "audit INC-1")
	fs.ExpectEphemeral(t, "U1", "webhooks paused")

	fs.Command(t, "U1", "C1", "webhooks resume")
	fs.ExpectEphemeral(t, "U1", "Webhook processing resumed")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"resumed webhook processing"}})
	tickedIn(t, prefix, "INC-1", incident.StepResumeWebhooks, true)
	fs.ExpectUpdated(t, card, "2/7 steps done")
	for deadline := time.Now().Add(5 * time.Second); strings.Contains(card.Render(), "Webhook processing paused"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the card still says paused:\n%s", card.Render())
		}
	}
	for _, r := range []*apptest.Bot{a, b} {
		if _, st := webhooksJSON(t, r.HTTPAddr, "read-token-123456"); st["paused"] != false {
			t.Fatalf("replica %s after resume: %v", r.HTTPAddr, st)
		}
	}
	clock.Add(time.Hour)
	a.Sweep(ctx)
	fs.Command(t, "U1", "C1", "webhooks resume")
	fs.ExpectEphemeral(t, "U1", "not paused; nothing changed")
	for _, m := range fs.Messages() {
		if strings.Contains(m.Render(), "paused for 1 h") {
			t.Fatal("reminded after the resume")
		}
	}
}

// The app honours the pause as the README shows: Clerk's deliveries get
// 503 (Svix retries them), the resync's own get through, so a resync
// while paused still delivers every user; a resync while not paused asks
// first.
func TestResyncWhilePausedDeliversEveryUser(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fc := fakeclerk.New()
	defer fc.Close()
	fapp := fakeapp.New()
	defer fapp.Close()
	var ids []string
	for i := range 300 {
		ids = append(ids, fc.AddUser(fmt.Sprintf("User%d", i), fmt.Sprintf("user%d@example.com", i), 0).ID)
	}
	prefix := redistest.Prefix()
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Prefix: prefix, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(),
		"APP_WEBHOOK_URL": fapp.WebhookURL(), "APP_WEBHOOK_SECRET": fapp.Secret, "RESYNC_CONCURRENCY": "4", "BYPASS_READ_TOKEN": "read-token-123456"}})
	fapp.HonourPause("http://"+bot.HTTPAddr+"/v1/webhooks", "read-token-123456")

	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Users not syncing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	clerkEvent := []byte(`{"type":"user.updated","object":"event","data":{"id":"user_live"}}`)
	if code, err := fapp.Deliver("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", clerkEvent); err != nil || code != http.StatusNoContent {
		t.Fatalf("a Clerk delivery before the pause: %d %v", code, err)
	}

	fs.Command(t, "U1", "C1", "resync")
	fs.ExpectEphemeral(t, "U1", "not paused", "Pause first?", "resync --no-pause", "Nothing was started")
	if fapp.Users() != 1 {
		t.Fatalf("the question started a resync: %d users", fapp.Users())
	}

	fs.Command(t, "U1", "C1", "webhooks pause resync after the outage")
	fs.ExpectEphemeral(t, "U1", "Webhook processing is paused")
	if code, _ := fapp.Deliver("msg_2KWPBgLlAfxdpx2AI54pPJ85f4X", clerkEvent); code != http.StatusServiceUnavailable {
		t.Fatalf("a Clerk delivery while paused: %d, want 503", code)
	}
	// The prefix alone is not enough: a forged resync id fails the signature.
	fs.Command(t, "U1", "C1", "resync")
	fs.ExpectEphemeral(t, "U1", "Resync rs-", "started", "paused since")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"300 delivered, 0 failed"}})
	for _, id := range ids {
		if !fapp.Has(id) {
			t.Fatalf("user %s never reached the app", id)
		}
	}
	if _, bad := fapp.Stats(); bad != 1 {
		t.Fatalf("%d signature failures, want the check's one forged delivery", bad)
	}
	if fapp.Held() != 1 {
		t.Fatalf("%d deliveries held, want the one from Clerk", fapp.Held())
	}
	fs.Command(t, "U1", "C1", "webhooks resume")
	fs.ExpectEphemeral(t, "U1", "Webhook processing resumed")
	if code, _ := fapp.Deliver("msg_2KWPBgLlAfxdpx2AI54pPJ85f4X", clerkEvent); code != http.StatusNoContent {
		t.Fatalf("Svix's retry after the resume: %d", code)
	}
}
