package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/secretscan"
)

type secHarness struct {
	prefix   string
	slack    *fakeslack.Server
	clerk    *fakeclerk.Server
	clock    *testClock
	sweep    func(ctx context.Context)
	httpAddr string
	logs     *secretscan.Buffer
}

// startSecurity runs the whole program against the fake Slack and fake
// Clerk with an injected clock; the test runs the timed sweep itself.
func startSecurity(t *testing.T, extra map[string]string) *secHarness {
	t.Helper()
	fs := fakeslack.New()
	fc := fakeclerk.New()
	t.Cleanup(fc.Close)
	t.Cleanup(fs.Close)
	for id, name := range map[string]string{"U1": "alice", "U2": "bob", "U3": "carol", "U9": "mallory"} {
		fs.AddUser(id, name)
	}
	env := map[string]string{"SLACK_RESPONDERS": "U1,U2,U3", "SLACK_CHANNEL_ID": "CINC",
		"CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(), "CLERK_RATE_LIMIT": "1000/10s"}
	for k, v := range extra {
		env[k] = v
	}
	h := &secHarness{slack: fs, clerk: fc, clock: &testClock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: env, Options: app.Options{Manual: app.Loops{Sweep: true}, Now: h.clock.Now}})
	h.prefix, h.sweep, h.httpAddr, h.logs = bot.Prefix, bot.Sweep, bot.HTTPAddr, bot.Logs
	t.Cleanup(func() {
		if t.Failed() {
			logs := bot.Logs.String()
			t.Logf("bot logs (last 6000 bytes):\n%s", logs[max(0, len(logs)-6000):])
		}
	})
	return h
}

func (h *secHarness) open(t *testing.T, text string) *fakeslack.Message {
	t.Helper()
	h.slack.Command(t, "U1", "C1", text)
	card := h.slack.ExpectMessage(t, "CINC", "INC-")
	h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"steps done"}})
	h.slack.ExpectEphemeral(t, "U1", "Opened")
	return card
}

// ticked reports who ticked the step of incident id whose text starts
// with step (nil: not ticked), waiting briefly for an action to finish.
func (h *secHarness) ticked(t *testing.T, id, step string, want bool) *incident.Tick {
	t.Helper()
	return tickedIn(t, h.prefix, id, step, want)
}

func tickedIn(t *testing.T, prefix, id, step string, want bool) *incident.Tick {
	t.Helper()
	rdb, _ := redistest.Client(t)
	store := incident.NewStore(rdb, prefix, nil)
	rb, _ := incident.LoadRunbook("runbook.yml", incident.DefaultRunbook())
	for deadline := time.Now().Add(5 * time.Second); ; {
		inc, err := store.Current(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var tick *incident.Tick
		for _, st := range rb.Spec(inc.Category).Checklist.Flat() {
			if tk, ok := inc.Checklist[st.ID]; ok && strings.HasPrefix(st.Text, step) {
				tick = &tk
			}
		}
		if (tick != nil) == want || time.Now().After(deadline) {
			if (tick != nil) != want {
				t.Fatalf("%s: step %q ticked %v, want %v", id, step, tick != nil, want)
			}
			return tick
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *secHarness) bypassJSON(t *testing.T, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+h.httpAddr+"/v1/bypass", nil)
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
		t.Fatalf("/v1/bypass body (status %d): %v", resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

func TestLockoutNeedsASecondPersonAndBansOnce(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	eve := fc.AddUser("Eve", "eve@example.com", 2)
	card := h.open(t, "open security Account takeover")

	s.Command(t, "U1", "C1", "lockout eve@example.com -- credential stuffing from 203.0.113.7")
	// The thread names the account by ID and initials, the reason masked;
	// the requester's reply has it all.
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout", "Ban 1 user(s)", eve.ID + " (E.)", "credential stuffing from [IP]", "Requested by <@U1>", "[Show targets]"}})
	s.ExpectEphemeral(t, "U1", "Approval requested", eve.ID+" · Eve · eve@example.com", "203.0.113.7")
	if strings.Contains(req.Render(), "eve@example.com") || strings.Contains(req.Render(), "203.0.113.7") {
		t.Fatalf("the request in the thread names personal data:\n%s", req.Render())
	}
	if n := fc.CountCalls("POST", ""); n != 0 {
		t.Fatalf("Clerk was changed %d times before approval", n)
	}

	h.ticked(t, "INC-1", incident.StepLockAccounts, false)
	// The requester cannot approve their own request.
	s.Click(t, "U1", req, "Approve")
	s.ExpectEphemeral(t, "U1", "You made this request; someone else must approve it.")
	if fc.User(eve.ID).Banned || fc.CountCalls("POST", "") != 0 {
		t.Fatal("self-approval reached Clerk")
	}
	// A non-responder is refused too.
	s.Click(t, "U9", req, "Approve")
	s.ExpectEphemeral(t, "U9", "Only approvers may approve")

	// Two approvers click at the same moment: exactly one decision wins.
	var wg sync.WaitGroup
	for _, u := range []string{"U2", "U3"} {
		wg.Go(func() { s.Click(t, u, req, "Approve") })
	}
	wg.Wait()
	loser := s.Expect(t, fakeslack.Match{Ephemeral: true, Contains: []string{"already approved by"}})
	if loser.User != "U2" && loser.User != "U3" {
		t.Fatalf("loser %s", loser.User)
	}
	s.ExpectUpdated(t, req, "Approved by <@", "banned, sign-in blocked, no active session left", "credential stuffing from [IP]", eve.ID+" (E.)")
	h.ticked(t, "INC-1", incident.StepLockAccounts, true)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Lockout*", eve.ID + " (E.): banned"}})
	if got := fc.CountCalls("POST", "/ban"); got != 1 {
		t.Fatalf("ban called %d times", got)
	}
	if !fc.User(eve.ID).Banned || fc.ActiveSessions(eve.ID) != 0 {
		t.Fatal("eve not locked out")
	}
	if strings.Contains(req.Render(), "[Approve]") {
		t.Fatal("buttons still on the decided request")
	}
	// The outcome is stored as data, and the timeline keeps its plain summary.
	rdb, _ := redistest.Client(t)
	keys, _ := rdb.Keys(context.Background(), h.prefix+"approval:apr-*").Result()
	checked := 0
	for _, k := range keys {
		if strings.HasSuffix(k, ":exec") {
			continue
		}
		checked++
		raw := rdb.Get(context.Background(), k).Val()
		if !strings.Contains(raw, `"outcome":{"status":"done"`) || strings.Contains(raw, ":lock:") || strings.Contains(raw, "*Lockout*") {
			t.Fatalf("stored outcome is not data: %s", raw)
		}
	}
	if checked != 1 {
		t.Fatalf("%d approval requests stored, want 1", checked)
	}
	if tl := strings.Join(timelineOf(t, h.prefix, "INC-1"), "\n"); !strings.Contains(tl, "result: 1 of 1 users banned, 0 with a failure.") || strings.Contains(tl, ":lock:") {
		t.Fatalf("timeline:\n%s", tl)
	}

	// An expired request does nothing, and keeps what it was for.
	nob := fc.AddUser("Nob", "nob@example.com", 1)
	s.Command(t, "U1", "C1", "lockout "+nob.ID)
	req2 := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed", nob.ID}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	stale := req2.Buttons()[0] // a stale copy of the message still has the button
	h.clock.Add(16 * time.Minute)
	h.sweep(context.Background())
	s.ExpectUpdated(t, req2, "Expired at", nob.ID+" (N.)", "Ban 1 user(s)")
	calls := len(fc.Calls())
	id0, err := s.Press("U2", req2, stale)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.WaitAck(id0, fakeslack.Timeout)
	s.ExpectEphemeral(t, "U2", "already expired")
	if len(fc.Calls()) != calls {
		t.Fatal("expired request reached Clerk")
	}

	// A tampered request ID does nothing.
	id, _ := s.Press("U2", req2, fakeslack.Button{ActionID: "approval_approve", BlockID: "approval:x", Value: "apr-../../etc"})
	_, _ = s.WaitAck(id, fakeslack.Timeout)
	s.ExpectEphemeral(t, "U2", "does not exist")

	// Unlock lifts the ban, at once and on the record.
	s.Command(t, "U2", "C1", "unlock "+eve.ID)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"unbanned and unlocked " + eve.ID + " (E.)"}})
	s.ExpectEphemeral(t, "U2", "unbanned and unlocked eve@example.com")
	if fc.User(eve.ID).Banned {
		t.Fatal("still banned")
	}
	s.NoUnexpectedMessages(t)
}

func TestRevokeIsForRespondersAndSurvives429(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	a := fc.AddUser("Ann", "ann@example.com", 3)
	b := fc.AddUser("Ben", "ben@example.com", 2)
	card := h.open(t, "open security Suspicious sessions")

	s.Command(t, "U9", "C1", "revoke ann@example.com")
	s.ExpectEphemeral(t, "U9", "Only incident responders may use `revoke`")
	if len(fc.Calls()) != 0 {
		t.Fatal("a refused revoke reached Clerk")
	}

	h.ticked(t, "INC-1", incident.StepRevokeSessions, false)
	fc.Fail("POST", "/sessions/", 429, 3, 1)
	s.Command(t, "U1", "C1", "revoke "+a.ID+"\nben@example.com\nghost@example.com\nnot-an-id")
	progress := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Revoking the sessions of 2 users"}})
	s.ExpectUpdated(t, progress, "2/2 done, 0 failed")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Sessions revoked", a.ID + " (A.): 3 revoked, none active",
		b.ID + " (B.): 2 revoked", "2 of the targets given were not found in Clerk or not a user ID or e-mail; <@U1> has the list"}})
	s.ExpectEphemeral(t, "U1", "Sessions revoked", "ann@example.com ("+a.ID+"): 3 revoked", "Not found in Clerk: ghost@example.com", "skipped: not-an-id")
	if fc.ActiveSessions("") != 0 {
		t.Fatal("sessions left active")
	}
	if tick := h.ticked(t, "INC-1", incident.StepRevokeSessions, true); tick.By.ID != "U1" {
		t.Fatalf("ticked by %+v", tick.By)
	}
	s.NoUnexpectedMessages(t)
}

func TestBypassOnApprovalPublishesAndEndsByItself(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, map[string]string{"BYPASS_READ_TOKEN": "bypass-read-secret", "SLACK_APPROVERS": "U3"})
	s := h.slack
	card := h.open(t, "open outage Clerk down")

	if code, _ := h.bypassJSON(t, ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if _, body := h.bypassJSON(t, "bypass-read-secret"); body["enabled"] != false || len(body) != 1 {
		t.Fatalf("before: %v", body)
	}
	s.Command(t, "U1", "C1", "bypass on 45m Clerk sessions API down")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: emergency bypass", "45 min", "Clerk sessions API down"}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	if _, body := h.bypassJSON(t, "bypass-read-secret"); body["enabled"] != false {
		t.Fatal("bypass on before approval")
	}
	// U2 is a responder but not an approver here.
	s.Click(t, "U2", req, "Approve")
	s.ExpectEphemeral(t, "U2", "Only approvers may approve")
	h.ticked(t, "INC-1", incident.StepEnableBypass, false)
	s.Click(t, "U3", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U3>")
	h.ticked(t, "INC-1", incident.StepEnableBypass, true)
	on := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Emergency auth bypass is ON"}})
	_ = on
	_, body := h.bypassJSON(t, "bypass-read-secret")
	want := h.clock.Now().Add(45 * time.Minute).UTC().Format(time.RFC3339)
	if body["enabled"] != true || body["expires_at"] != want || body["incident"] != "INC-1" || body["requested_by"] != "U1" ||
		body["approved_by"] != "U3" || body["reason"] != "Clerk sessions API down" {
		t.Fatalf("during: %v (want expiry %s)", body, want)
	}

	h.clock.Add(41 * time.Minute)
	h.sweep(context.Background())
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"bypass ends at"}})
	h.sweep(context.Background()) // the reminder is sent once
	h.clock.Add(4 * time.Minute)
	h.sweep(context.Background())
	ended := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"ended by itself"}})
	if !ended.Broadcast {
		t.Fatal("the channel was not told")
	}
	if _, body := h.bypassJSON(t, "bypass-read-secret"); body["enabled"] != false {
		t.Fatalf("after expiry: %v", body)
	}
	h.sweep(context.Background())
	// 41 minutes without an update on a P1: the commander is reminded.
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{":bell: <@U1>, no update on INC-1"}})

	// On again, then resolving the incident turns it off.
	s.Command(t, "U1", "C1", "bypass on")
	req2 := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: emergency bypass", "30 min"}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U3", req2, "Approve")
	s.ExpectUpdated(t, req2, "Approved by <@U3>")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Emergency auth bypass is ON"}})
	s.Command(t, "U2", "C1", "bypass status")
	s.ExpectEphemeral(t, "U2", "bypass is *ON* for INC-1")
	s.Command(t, "U1", "C1", "bypass on 5h")
	s.ExpectEphemeral(t, "U1", "from 1m to 2 h")
	s.Command(t, "U1", "C1", "resolve Clerk recovered")
	s.ExpectUpdated(t, card, "Resolved")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"resolved INC-1"}})
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Resolving INC-1 turned the emergency auth bypass *OFF*"}})
	s.ExpectEphemeral(t, "U1", "INC-1 is resolved")
	if _, body := h.bypassJSON(t, "bypass-read-secret"); body["enabled"] != false {
		t.Fatalf("after resolve: %v", body)
	}
	s.NoUnexpectedMessages(t)
}

// The replica that recorded an approval dies before carrying it out: the
// next sweep (any replica) does it, once.
func TestApprovedRequestSurvivesACrash(t *testing.T) {
	h := startSecurity(t, nil)
	s := h.slack
	card := h.open(t, "open outage Clerk down")
	s.Command(t, "U1", "C1", "bypass on 30m")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: emergency bypass"}})
	reply := s.ExpectEphemeral(t, "U1", "Approval requested")
	id := regexp.MustCompile("apr-[a-z0-9]{12}").FindString(reply.Render())
	rdb, _ := redistest.Client(t)
	store := approval.NewStore(rdb, h.prefix, 15*time.Minute, h.clock.Now)
	if _, err := store.Decide(context.Background(), id, incident.Person{ID: "U2"}, true); err != nil {
		t.Fatal(err) // recorded, then the replica "died" before the bypass went on
	}
	if _, body := h.bypassJSON(t, ""); body["enabled"] != false {
		t.Fatal("on before anyone carried it out")
	}
	h.sweep(context.Background())
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Emergency auth bypass is ON"}})
	if _, body := h.bypassJSON(t, ""); body["enabled"] != true || body["approved_by"] != "U2" {
		t.Fatalf("after the sweep: %v", body)
	}
	h.sweep(context.Background())
	h.sweep(context.Background())
	s.NoUnexpectedMessages(t)
}

// The bot is not in SLACK_CHANNEL_ID: start-up says so once, opening an
// incident tells the responder how to fix it, and the card is retried with
// backoff capped at 5 minutes, not every sweep; it appears once fixed.
func TestChannelProblemsBecomeInstructions(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fs.AddUser("U1", "alice")
	fs.SetChannel("CINC", "not_in_channel")
	clock := &testClock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "SLACK_RESPONDERS": "U1"},
		Options: app.Options{Manual: app.Loops{Sweep: true}, Now: clock.Now}})
	if logs := bot.Logs.String(); strings.Count(logs, "SLACK_CHANNEL_ID cannot be posted in") != 1 || !strings.Contains(logs, "invite it there") {
		t.Fatalf("start-up did not say once that the bot is not in the channel:\n%s", logs)
	}
	fs.Command(t, "U1", "C1", "open outage Sign-in down")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*, but its card could not be posted", "not a member of the channel: invite it there")
	posts := func() int { return fs.Calls("chat.postMessage") }
	before := posts()
	var tries []time.Time
	for range 240 { // 40 minutes, a sweep every 10 s
		clock.Add(10 * time.Second)
		bot.Sweep(context.Background())
		if n := posts(); n > before {
			tries = append(tries, clock.Now())
			before = n
		}
	}
	if len(tries) < 5 || len(tries) > 20 {
		t.Fatalf("%d retries in 40 minutes: want backoff, neither every sweep nor never", len(tries))
	}
	for i := 1; i < len(tries); i++ {
		if gap := tries[i].Sub(tries[i-1]); gap > 5*time.Minute+10*time.Second {
			t.Fatalf("retry %d came %v after the previous one: the backoff is capped at 5 minutes", i, gap)
		}
	}
	if last := tries[len(tries)-1].Sub(tries[len(tries)-2]); last < 4*time.Minute {
		t.Fatalf("still retrying every %v after 40 minutes", last)
	}
	fs.SetChannel("CINC", "")
	clock.Add(6 * time.Minute)
	bot.Sweep(context.Background())
	fs.ExpectMessage(t, "CINC", "INC-1 · Sign-in down")
}

// A revoke whose result does not fit in a Slack section lists the
// failures first and attaches the full result as a file.
func TestLongRevokeResultListsFailuresFirstAndAttachesTheRest(t *testing.T) {
	h := startSecurity(t, map[string]string{"CLERK_RATE_LIMIT": "100000/10s"})
	s, fc := h.slack, h.clerk
	var emails []string
	for i := range 120 {
		e := fmt.Sprintf("user-%03d@example.com", i)
		fc.AddUser("U", e, 1)
		emails = append(emails, e)
	}
	card := h.open(t, "open security Credential stuffing")
	fc.Fail("POST", "/sessions/", 403, 5, 0) // five revokes refused
	s.Command(t, "U1", "C1", "revoke "+strings.Join(emails, "\n"))
	progress := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Revoking the sessions of 120 users"}})
	s.ExpectUpdated(t, progress, "120/120 done")
	res := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Sessions revoked", "115 succeeded", "full result is in the attached file"}})
	s.ExpectEphemeral(t, "U1", "Sessions revoked")
	lines := strings.Split(res.Render(), "\n")
	if len(lines) < 7 || strings.Count(res.Render(), ":x:") != 5 || !strings.Contains(lines[1], ":x:") {
		t.Fatalf("failures are not listed first:\n%s", res.Render())
	}
	var file string
	for _, f := range s.Files() {
		if f.Name == "revoke-result.txt" {
			file = f.Content
		}
	}
	// The file is in the thread: user IDs, no e-mail.
	if strings.Count(file, "user_") != 120 || strings.Contains(file, "@example.com") {
		t.Fatalf("the attached result is not the 120 accounts by ID:\n%s", file)
	}
}

// Clerk misbehaving as it really does reaches the responder as what to do:
// a revoked secret key (401) and a plan without banning (402 on ban).
func TestClerkRefusalsReachTheUserAsTheirOwnSentence(t *testing.T) {
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U3"})
	s, fc := h.slack, h.clerk
	eve := fc.AddUser("Eve", "eve@example.com", 1)
	card := h.open(t, "open security Account takeover")

	fc.BanStatus(402)
	s.Command(t, "U1", "C1", "lockout eve@example.com")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout"}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U3", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U3>", eve.ID+" (E.)", "plan does not include banning users (402", "nothing was changed", "use `revoke`")
	if fc.User(eve.ID).Banned {
		t.Fatal("banned despite the 402")
	}

	fc.RevokeKey()
	s.Command(t, "U1", "C1", "revoke eve@example.com")
	s.ExpectEphemeral(t, "U1", "Clerk rejected the secret key (401)", "CLERK_SECRET_KEY")
}

// `user` shows the account's sessions with where they were used from and
// flags the outlier country; its buttons revoke and ask for a lockout;
// `affected export` then uploads a CSV naming each user and what was done;
// `webhook dashboard`'s one-time link reaches the requester alone.
func TestInvestigateExportAndDashboard(t *testing.T) {
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	eve := fc.AddUser("Eve", "eve@example.com", 0)
	for range 3 {
		fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Macintosh", Browser: "Chrome", Version: "131", IP: "198.51.100.7", City: "Berlin", Country: "DE"})
	}
	odd := fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Windows", Browser: "Firefox", Version: "128", IP: "203.0.113.9", City: "Lagos", Country: "NG"})
	ann := fc.AddUser("Ann", "ann@example.com", 2)
	card := h.open(t, "open security Account takeover")

	h.ticked(t, "INC-1", incident.StepAffected, false)
	s.Command(t, "U1", "C1", "user eve@example.com")
	// The investigation names IPs and cities: only the asker sees it.
	inv := s.Expect(t, fakeslack.Match{Ephemeral: true, User: "U1", Contains: []string{"eve@example.com", "4 active session(s)", "Chrome 131",
		"Berlin, DE", "by country: DE 3, NG 1", "country NG differs from the usual DE", odd, "[Share in thread]"}})
	// Finding the account identifies it as affected; its sessions are not
	// a review of the access logs.
	h.ticked(t, "INC-1", incident.StepAffected, true)
	h.ticked(t, "INC-1", incident.StepAccessLogs, false)
	rdb, _ := redistest.Client(t)
	full, err := incident.NewStore(rdb, h.prefix, nil).Get(context.Background(), "INC-1")
	if err != nil {
		t.Fatal(err)
	}
	last := full.Timeline[len(full.Timeline)-1].Text
	for _, e := range full.Timeline {
		if strings.Contains(e.Text, "Investigated") {
			last = e.Text
		}
	}
	if last != "Investigated "+eve.ID+": 4 active session(s), 1 flagged" {
		t.Fatalf("timeline entry %q", last)
	}

	s.Click(t, "U1", inv, "Revoke all sessions")
	s.ExpectEphemeral(t, "U1", "Sessions revoked", eve.ID)
	if fc.ActiveSessions(eve.ID) != 0 {
		t.Fatal("the button did not revoke")
	}
	s.Command(t, "U1", "C1", "lockout ann@example.com")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout", ann.ID}})
	s.Click(t, "U2", req, "Approve")
	// Many card, checklist and progress updates share chat.update's Tier 3 pace.
	s.ExpectUpdatedWithin(t, 30*time.Second, req, "Approved by <@U2>", "banned")

	s.Command(t, "U1", "C1", "affected")
	s.ExpectEphemeral(t, "U1", "2 account(s) affected by INC-1", "eve@example.com", "investigated, sessions revoked", "ann@example.com", "locked out")
	s.Command(t, "U1", "C1", "affected export")
	s.ExpectEphemeral(t, "U1", "inc-1-affected-accounts.csv", "personal data")
	f := s.ExpectFile(t, "DU1", "user_id,primary_email,name,what_was_done", eve.ID+",eve@example.com,Eve,investigated at", "sessions revoked at",
		ann.ID+",ann@example.com,Ann,locked out (banned) by apr-")

	s.Command(t, "U1", "C1", "affected remove eve@example.com")
	s.ExpectEphemeral(t, "U1", "1 account(s) removed")
	s.Command(t, "U1", "C1", "affected")
	s.ExpectEphemeral(t, "U1", "1 account(s) affected by INC-1")
	_ = f

	// An account Clerk does not know is said, and nothing is recorded.
	s.Command(t, "U1", "C1", "user nobody@example.com")
	s.ExpectEphemeral(t, "U1", "No Clerk user matches nobody@example.com; nothing was looked up.")
	// Clerk refusing the dashboard link (403) is its own sentence.
	fc.Fail("POST", "/webhooks/svix_url", 403, 1, 0)
	s.Command(t, "U1", "C1", "webhook dashboard")
	s.ExpectEphemeral(t, "U1", "Clerk refused this operation")
	s.Command(t, "U1", "C1", "webhook dashboard")
	s.ExpectEphemeral(t, "U1", "Open the webhook dashboard", "only you can see it")
	for _, m := range s.Messages() {
		if !m.Ephemeral && strings.Contains(m.Text+string(m.Blocks), fakeclerk.SvixSecret) {
			t.Fatalf("the dashboard link reached a channel: %s", m.Text)
		}
	}
}

// personal is the personal data the privacy tests plant: IPs, cities,
// e-mail addresses and phones that no one but the asker may see.
var personal = []string{"198.51.100.7", "203.0.113.9", "Berlin", "Lagos", "eve@example.com", "+15550000001", "alice@corp.example"}

func leaks(view string) []string {
	var out []string
	for _, p := range personal {
		if strings.Contains(view, p) {
			out = append(out, p)
		}
	}
	return out
}

// timelineOf reads an incident's timeline texts.
func timelineOf(t *testing.T, prefix, id string) []string {
	t.Helper()
	rdb, _ := redistest.Client(t)
	full, err := incident.NewStore(rdb, prefix, nil).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range full.Timeline {
		out = append(out, e.Text)
	}
	return out
}

// `user` and `affected export` answer the responder who asked, alone: the
// session IPs and cities in an ephemeral message, the e-mail addresses in
// a file in their DM with the bot. Another responder, an outsider (U9, no
// responder) and a guest in the channel (UG) see none of it. *Share in
// thread* first says who reads the thread, the guest counted, and shares
// with the responders only: a group DM of them, never the guest; the
// thread says it was shared, with the user ID and counts only.
func TestInvestigationAndExportStayWithTheResponders(t *testing.T) {
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	s.AddGuest("UG", "gary-guest", false)
	eve := fc.AddUser("Eve", "eve@example.com", 0)
	for range 3 {
		fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Macintosh", Browser: "Chrome", Version: "131", IP: "198.51.100.7", City: "Berlin", Country: "DE"})
	}
	fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Windows", Browser: "Firefox", Version: "128", IP: "203.0.113.9", City: "Lagos", Country: "NG"})
	card := h.open(t, "open security Account takeover")

	s.Command(t, "U1", "C1", "user eve@example.com")
	inv := s.ExpectEphemeral(t, "U1", "eve@example.com", "198.51.100.7", "Berlin, DE", "Lagos, NG", "Only you can see this", "[Share in thread]")
	s.Command(t, "U1", "C1", "affected export")
	exp := s.ExpectEphemeral(t, "U1", "inc-1-affected-accounts.csv is in your direct messages", "1 account(s)", "personal data", "[Share in thread]")
	s.ExpectFile(t, "DU1", eve.ID+",eve@example.com,Eve,investigated at")
	// The outsider may ask, and is refused without a glimpse.
	s.Command(t, "U9", "C1", "user eve@example.com")
	s.ExpectEphemeral(t, "U9", "Only incident responders may use `user`")

	if got := leaks(s.SeenBy("U1")); len(got) != 5 {
		t.Fatalf("the asker sees %v of the personal data; want the IPs, cities and e-mail", got)
	}
	for _, who := range []string{"U2", "U9", "UG"} {
		if got := leaks(s.SeenBy(who)); len(got) > 0 {
			t.Fatalf("%s can read %v:\n%s", who, got, s.SeenBy(who))
		}
	}
	// Slack shows an ephemeral message to its recipient only: nobody else
	// can press its buttons.
	if _, err := s.Press("U2", inv, inv.Buttons()[0]); err == nil {
		t.Fatal("another user pressed the asker's ephemeral button")
	}

	// *Share in thread* warns who reads the thread, the guest named, and
	// posts nothing.
	s.Click(t, "U1", inv, "Share in thread")
	warn := s.ExpectEphemeral(t, "U1", "Who reads the thread", "<#CINC> is a public channel with 5 people", "1 of them guests* (<@UG>)", "not posted", "[Share with the responders only]")
	// The responders-only share: a group DM of the asker and the other
	// responders in the channel, fresh from Clerk, with its buttons.
	s.Click(t, "U1", warn, "Share with the responders only")
	dm := s.Expect(t, fakeslack.Match{Channel: "GU1U2U3", Contains: []string{"eve@example.com", "4 active session(s)", "198.51.100.7", "Lagos, NG", "[Lock out]"}})
	if users := s.GroupDM(dm.Channel); strings.Join(users, ",") != "U1,U2,U3" {
		t.Fatalf("the group DM is %v", users)
	}
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"shared the investigation of " + eve.ID + " (E.) (4 active session(s), 1 flagged) with the responders only", "<@U2>", "<@U3>"}})
	s.ExpectEphemeral(t, "U1", "Shared the investigation of "+eve.ID)
	s.Click(t, "U1", warn, "Share with the responders only")
	s.ExpectEphemeral(t, "U1", "already shared")
	if got := leaks(s.SeenBy("U2")); len(got) == 0 {
		t.Fatal("the shared investigation is not in the other responder's view")
	}

	// The export: the same warning, then the CSV into the group DM.
	s.Click(t, "U1", exp, "Share in thread")
	warn2 := s.ExpectEphemeral(t, "U1", "Who reads the thread", "The export (e-mail addresses and names)", "1 of them guests")
	s.Click(t, "U1", warn2, "Share with the responders only")
	s.ExpectEphemeral(t, "U1", "Shared the affected-accounts export of INC-1")
	if f := s.ExpectFile(t, "GU1U2U3", eve.ID+",eve@example.com,Eve,investigated at"); f.ThreadTS != "" {
		t.Fatalf("the shared export went to %s/%s", f.Channel, f.ThreadTS)
	}
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"shared the affected-accounts export of INC-1 (1 account(s)) with the responders only"}})
	for _, who := range []string{"U9", "UG"} {
		if got := leaks(s.SeenBy(who)); len(got) > 0 {
			t.Fatalf("%s can read %v after the shares:\n%s", who, got, s.SeenBy(who))
		}
	}
	tl := timelineOf(t, h.prefix, "INC-1")
	joined := strings.Join(tl, "\n")
	if !strings.Contains(joined, "Shared with the responders the investigation of "+eve.ID+": 4 active session(s), 1 flagged") ||
		!strings.Contains(joined, "Affected accounts export shared with the responders: 1") ||
		!strings.Contains(joined, "Affected accounts exported privately: 1") {
		t.Fatalf("timeline:\n%s", joined)
	}
	if got := leaks(joined); len(got) > 0 {
		t.Fatalf("the timeline holds %v:\n%s", got, joined)
	}
}

// In the incident's own private channel with no guest, the responders-only
// share goes to the thread: only the incident's people read it.
func TestShareGoesToTheThreadOfAPrivateIncidentChannelWithoutGuests(t *testing.T) {
	h := startSecurity(t, map[string]string{"INCIDENT_CHANNELS": "on", "INCIDENT_CHANNELS_PRIVATE": "on", "INCIDENT_CHANNEL_INVITE": "U2"})
	s, fc := h.slack, h.clerk
	s.AddGuest("UG", "gary-guest", false)
	eve := fc.AddUser("Eve", "eve@example.com", 0)
	fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Windows", Browser: "Firefox", Version: "128", IP: "203.0.113.9", City: "Lagos", Country: "NG"})
	s.Command(t, "U1", "C1", "open security Account takeover")
	s.ExpectEphemeral(t, "U1", "Opened")
	chans := s.Channels()
	if len(chans) != 1 || !chans[0].Private {
		t.Fatalf("channels %+v", chans)
	}
	room := chans[0].ID
	card := s.ExpectMessage(t, room, "INC-1")
	s.Command(t, "U1", room, "user eve@example.com")
	inv := s.ExpectEphemeral(t, "U1", "203.0.113.9", "[Share in thread]")
	s.Click(t, "U1", inv, "Share in thread")
	warn := s.ExpectEphemeral(t, "U1", "is a private channel with", "none of them a guest", "posts it in the thread")
	s.Click(t, "U1", warn, "Share with the responders only")
	s.Expect(t, fakeslack.Match{Channel: room, Thread: card.TS, Contains: []string{"203.0.113.9", "Lagos, NG"}})
	s.ExpectEphemeral(t, "U1", "a private channel without guests")
	if got := leaks(s.SeenBy("UG")); len(got) > 0 {
		t.Fatalf("the guest outside the room reads %v", got)
	}
}

// An export taken while an approved lockout is still being carried out
// (the Approve click is acked before Clerk is called) waits for it, so
// the locked-out account is in the file.
func TestExportRightAfterApprovedLockoutHasTheAccount(t *testing.T) {
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	ann := fc.AddUser("Ann", "ann@example.com", 1)
	card := h.open(t, "open security Account takeover")
	s.Command(t, "U1", "C1", "lockout ann@example.com -- phished")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout", ann.ID}})
	s.ExpectEphemeral(t, "U1", "Approval requested")

	arrived, release := fc.Hold("POST", "/ban")
	defer release()
	s.Click(t, "U2", req, "Approve")
	select {
	case <-arrived: // approved; the ban is under way
	case <-time.After(fakeslack.Timeout):
		t.Fatal("the approved lockout never called ban")
	}
	s.Command(t, "U1", "C1", "affected export")
	s.ExpectEphemeral(t, "U1", "Waiting for apr-", "being carried out")
	release()
	s.ExpectFile(t, "DU1", ann.ID+",ann@example.com,Ann,locked out (banned) by apr-")
	s.ExpectEphemeral(t, "U1", "inc-1-affected-accounts.csv is in your direct messages", "1 account(s)")
}

// `contacts` is an ephemeral answer; the phones and e-mail addresses of
// the people on the ladder are for responders: an outsider sees the
// ladder and names without them.
func TestContactsPhonesForRespondersOnly(t *testing.T) {
	path := t.TempDir() + "/contacts.yml"
	contacts := "contacts:\n  on_call:\n    - {name: Alice, slack_id: U1, phone: \"+15550000001\", email: alice@corp.example}\n" +
		"  escalation:\n    - {level: 1, contact: on_call, time: 0-15 min, via: [slack]}\n"
	if err := os.WriteFile(path, []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startSecurity(t, map[string]string{"CONTACTS_FILE": path})
	s := h.slack
	s.Command(t, "U9", "C1", "contacts")
	s.ExpectEphemeral(t, "U9", "1. on_call · 0-15 min · <@U1>", "• Alice <@U1>", "shown to incident responders only")
	s.Command(t, "U2", "C1", "contacts")
	s.ExpectEphemeral(t, "U2", "• Alice <@U1> · :telephone_receiver: +15550000001 · alice@corp.example")
	if got := leaks(s.SeenBy("U9")); len(got) > 0 {
		t.Fatalf("the outsider can read %v:\n%s", got, s.SeenBy("U9"))
	}
	for _, m := range s.Messages() {
		if !m.Ephemeral {
			t.Fatalf("contacts posted to the channel: %s", m.String())
		}
	}
}

// On an instance with user lockout turned off, Clerk's unlock answers 403:
// the ban is lifted all the same, and unlock says so instead of failing.
func TestUnlockWithLockoutOffSaysTheBanWasLifted(t *testing.T) {
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	eve := fc.AddUser("Eve", "eve@example.com", 1)
	card := h.open(t, "open security Account takeover")
	fc.DisableLockout()
	fc.SetBanned(eve.ID, true)
	s.Command(t, "U2", "C1", "unlock "+eve.ID)
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"unbanned " + eve.ID + " (E.)", "user lockout is off"}})
	s.ExpectEphemeral(t, "U2", "unbanned eve@example.com", "they can sign in again")
	if fc.User(eve.ID).Banned {
		t.Fatal("still banned")
	}
}

// `revoke` of an unknown user or of one without sessions does not claim
// "Sessions revoked": it says per target what happened.
func TestRevokeSaysWhenNothingWasRevoked(t *testing.T) {
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	zoe := fc.AddUser("Zoe", "zoe@example.com", 0)
	card := h.open(t, "open security Suspicious sessions")

	s.Command(t, "U2", "C1", "revoke user_nope")
	reply := s.ExpectEphemeral(t, "U2", "No sessions revoked", "Not found in Clerk: user_nope")
	if strings.Contains(reply.Render(), "Sessions revoked") {
		t.Fatalf("claims sessions were revoked:\n%s", reply.Render())
	}
	s.NoUnexpectedMessages(t) // nothing in the thread: nothing happened
	h.ticked(t, "INC-1", incident.StepRevokeSessions, false)

	s.Command(t, "U2", "C1", "revoke zoe@example.com")
	res := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"No sessions revoked", zoe.ID + " (Z.): no active sessions, nothing to revoke"}})
	if strings.Contains(res.Render(), "Sessions revoked") {
		t.Fatalf("claims sessions were revoked:\n%s", res.Render())
	}
	s.ExpectEphemeral(t, "U2", "No sessions revoked")
	// None is active afterwards, which is the step's aim: ticked, for U2.
	if tick := h.ticked(t, "INC-1", incident.StepRevokeSessions, true); tick.By.ID != "U2" {
		t.Fatalf("ticked by %+v", tick.By)
	}
}
