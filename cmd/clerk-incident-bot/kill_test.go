package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeapp"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakevercel"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// waitDisconnected waits until the killed bot's socket is gone, and fails
// rather than spin if it never goes.
func waitDisconnected(t *testing.T, fs *fakeslack.Server) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); fs.Connections() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d Slack sockets still open 10 s after the kill", fs.Connections())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill -9 of the bot after level 1 of a ladder: a new process on the same
// Redis pages level 2 and level 3, each exactly once, in order.
func TestKill9DuringALadder(t *testing.T) {
	t.Parallel()
	bin := apptest.Build(t, ".")
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	dir := t.TempDir()
	contacts := "contacts:\n  team:\n    - {name: A, slack_id: U1}\n    - {name: B, slack_id: U2}\n    - {name: C, slack_id: U3}\n" +
		"  escalation:\n    - {level: 1, contact: A, time: 0-3s}\n    - {level: 2, contact: B, time: 3-6s}\n    - {level: 3, contact: C, time: 6s+}\n" +
		"policy: {repeat_every: 1h, repeat_times: 0}\n"
	if err := os.WriteFile(dir+"/contacts.yml", []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SLACK_BOT_TOKEN="+fs.BotToken, "SLACK_APP_TOKEN="+fs.AppToken, "SLACK_API_URL="+fs.APIURL(),
		"REDIS_URL="+redistest.URL(t), "REDIS_KEY_PREFIX="+redistest.Prefix(), "HTTP_ADDR=127.0.0.1:0", "CONTACTS_FILE="+dir+"/contacts.yml",
		"SLACK_CHANNEL_ID=CINC", "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn")
	startProc := func() *exec.Cmd { return apptest.StartProcess(t, bin, env) }
	first := startProc()
	if err := fs.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fs.Command(t, "U1", "C1", "open outage Crash test")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Crash test")
	fs.ExpectMessage(t, "DU1", "level 1 (A)")
	fs.ExpectUpdated(t, card, "next: level 2 (B)")
	time.Sleep(200 * time.Millisecond) // let it hand back the ladder's claim: the point is a kill between steps
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	waitDisconnected(t, fs)

	startProc()
	if err := fs.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fs.ExpectMessage(t, "DU2", "level 2 (B)")
	fs.ExpectMessage(t, "DU3", "level 3 (C)")
	// Steps are paged in order, each recorded before the next: once the
	// card says the last one is recorded, no duplicate can come.
	fs.ExpectUpdated(t, card, "every level paged")
	count := map[string]int{}
	var order []string
	for _, m := range fs.Messages() {
		if strings.HasPrefix(m.Channel, "DU") {
			count[m.Channel]++
			order = append(order, m.Channel)
		}
	}
	if count["DU1"] != 1 || count["DU2"] != 1 || count["DU3"] != 1 || strings.Join(order, ",") != "DU1,DU2,DU3" {
		t.Fatalf("pages %v in order %v", count, order)
	}
}

// kill -9 of the bot half-way through a resync: the next process resumes
// from the Redis checkpoint (once the dead one's lease lapses) and every
// user reaches the app.
func TestKill9DuringAResync(t *testing.T) {
	t.Parallel()
	bin := apptest.Build(t, ".")
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fc := fakeclerk.New()
	t.Cleanup(fc.Close)
	app := fakeapp.New()
	t.Cleanup(app.Close)
	var ids []string
	for i := range 2000 {
		ids = append(ids, fc.AddUser("U", "u"+strconv.Itoa(i)+"@example.com", 0).ID)
	}
	app.SetDelay(8 * time.Millisecond)
	env := append(os.Environ(), "SLACK_BOT_TOKEN="+fs.BotToken, "SLACK_APP_TOKEN="+fs.AppToken, "SLACK_API_URL="+fs.APIURL(),
		"REDIS_URL="+redistest.URL(t), "REDIS_KEY_PREFIX="+redistest.Prefix(), "HTTP_ADDR=127.0.0.1:0", "CONTACTS_FILE=",
		"SLACK_CHANNEL_ID=CINC", "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn", "CLERK_SECRET_KEY="+fc.Key, "CLERK_API_URL="+fc.URL(),
		"APP_WEBHOOK_URL="+app.WebhookURL(), "APP_WEBHOOK_SECRET="+app.Secret, "RESYNC_CONCURRENCY=4")
	startProc := func() *exec.Cmd { return apptest.StartProcess(t, bin, env) }
	first := startProc()
	if err := fs.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fs.Command(t, "U1", "C1", "open webhook Sync broken")
	card := fs.ExpectMessage(t, "CINC", "INC-1")
	fs.ExpectEphemeral(t, "U1", "Opened") // the card's ts is stored by now
	fs.Command(t, "U1", "C1", "resync --no-pause")
	for deadline := time.Now().Add(30 * time.Second); app.Users() < 300; {
		if time.Now().After(deadline) {
			t.Fatalf("resync did not get going (%d users)", app.Users())
		}
		time.Sleep(5 * time.Millisecond)
	}
	atKill := app.Users()
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	if app.Users() >= 2000 {
		t.Fatalf("finished before the kill (%d at the kill)", atKill)
	}
	waitDisconnected(t, fs)
	progress := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Resync rs-"}})
	startProc()
	// The dead process's lease lapses after 10 s; then the new one resumes.
	fs.ExpectUpdatedWithin(t, 60*time.Second, progress, "2000 delivered, 0 failed")
	for _, id := range ids {
		if !app.Has(id) {
			t.Fatalf("user %s missing", id)
		}
	}
}

// kill -9 between the approval click and the Clerk call: the approval is
// in the outbox, the next process carries it out once its claim lapses,
// and the user is banned exactly once.
func TestKill9BetweenApprovalAndClerk(t *testing.T) {
	t.Parallel()
	bin := apptest.Build(t, ".")
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fc := fakeclerk.New()
	t.Cleanup(fc.Close)
	eve := fc.AddUser("Eve", "eve@example.com", 2)
	env := append(os.Environ(), "SLACK_BOT_TOKEN="+fs.BotToken, "SLACK_APP_TOKEN="+fs.AppToken, "SLACK_API_URL="+fs.APIURL(),
		"REDIS_URL="+redistest.URL(t), "REDIS_KEY_PREFIX="+redistest.Prefix(), "HTTP_ADDR=127.0.0.1:0",
		"SLACK_CHANNEL_ID=CINC", "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn", "CLERK_SECRET_KEY="+fc.Key, "CLERK_API_URL="+fc.URL())
	startProc := func() *exec.Cmd { return apptest.StartProcess(t, bin, env) }
	first := startProc()
	if err := fs.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fs.Command(t, "U1", "C1", "open security Takeover")
	card := fs.ExpectMessage(t, "CINC", "INC-1")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U1", "C1", "lockout "+eve.ID)
	req := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout"}})
	fs.ExpectEphemeral(t, "U1", "Approval requested")
	fc.SetLatency(3 * time.Second) // the Clerk calls after the click are slow…
	fs.Click(t, "U2", req, "Approve")
	fs.ExpectUpdated(t, req, "Approved by <@U2>")
	_ = first.Process.Signal(syscall.SIGKILL) // …and the bot dies before any reaches Clerk
	_ = first.Wait()
	fc.SetLatency(0)
	if n := fc.CountCalls("POST", "/ban"); n != 0 {
		t.Fatalf("banned before the kill (%d)", n)
	}
	waitDisconnected(t, fs)
	startProc()
	fs.ExpectUpdatedWithin(t, 60*time.Second, req, "banned, sign-in blocked")
	if n := fc.CountCalls("POST", "/ban"); n != 1 || !fc.User(eve.ID).Banned || fc.ActiveSessions(eve.ID) != 0 {
		t.Fatalf("ban calls %d, banned %v, sessions %d", n, fc.User(eve.ID).Banned, fc.ActiveSessions(eve.ID))
	}
}

// kill -9 of a replica while thread lines wait in Redis (Slack is
// answering its posts with 429): another replica posts them, in order,
// each once.
func TestKill9WithQueuedThreadLines(t *testing.T) {
	t.Parallel()
	bin := apptest.Build(t, ".")
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	env := append(os.Environ(), "SLACK_BOT_TOKEN="+fs.BotToken, "SLACK_APP_TOKEN="+fs.AppToken, "SLACK_API_URL="+fs.APIURL(),
		"REDIS_URL="+redistest.URL(t), "REDIS_KEY_PREFIX="+redistest.Prefix(), "HTTP_ADDR=127.0.0.1:0",
		"SLACK_CHANNEL_ID=CINC", "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn")
	first := apptest.StartProcess(t, bin, env)
	if err := fs.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fs.Command(t, "U1", "C1", "open outage Queued lines")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Queued lines")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	fs.Throttle("CINC", 30*time.Second)
	for i := 1; i <= 5; i++ {
		fs.Command(t, "U1", "C1", fmt.Sprintf("note INC-1 queued note %d", i))
		fs.ExpectEphemeral(t, "U1", "Note added")
	}
	deadline := time.Now().Add(10 * time.Second)
	for fs.Throttled() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // until the first replica is stuck posting
	}
	if fs.Throttled() == 0 {
		t.Fatal("the first replica never tried to post the lines")
	}
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	waitDisconnected(t, fs)
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text, "queued note") {
			t.Fatalf("a line was posted before the kill: %s", m.Text)
		}
	}
	fs.Unthrottle("CINC")

	apptest.StartProcess(t, bin, env)
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"queued note 5"}})
	// Lines leave the queue oldest first, and only once Slack took them: a
	// line queued now is posted after any duplicate of the earlier ones.
	fs.Command(t, "U1", "C1", "note INC-1 the queue is drained")
	fs.ExpectEphemeral(t, "U1", "Note added")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"the queue is drained"}})
	var thread strings.Builder
	for _, m := range fs.Messages() {
		if m.Channel == "CINC" && m.ThreadTS == card.TS {
			thread.WriteString(m.Text + "\n")
		}
	}
	got := thread.String()
	last := -1
	for i := 1; i <= 5; i++ {
		line := fmt.Sprintf("queued note %d", i)
		if n := strings.Count(got, line); n != 1 {
			t.Fatalf("%q posted %d times; the thread reads:\n%s", line, n, got)
		}
		at := strings.Index(got, line)
		if at < last {
			t.Fatalf("%q out of order; the thread reads:\n%s", line, got)
		}
		last = at
	}
}

// kill -9 of the bot between the SMS and the call of one level: after a
// restart the call goes out once and the SMS is not repeated.
func TestKill9BetweenTheSMSAndTheCall(t *testing.T) {
	t.Parallel()
	bin := apptest.Build(t, ".")
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	tw := fakepaging.NewTwilio()
	t.Cleanup(tw.Close)
	tw.CallLatency(time.Hour) // the call hangs until the bot dies
	dir := t.TempDir()
	contacts := "contacts:\n  team:\n    - {name: A, slack_id: U1, phone: \"+15550000001\"}\n" +
		"  escalation:\n    - {level: 1, contact: A, time: 0+ min, via: [slack, sms, call]}\n" +
		"policy: {repeat_every: 1h, repeat_times: 0}\n"
	if err := os.WriteFile(dir+"/contacts.yml", []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SLACK_BOT_TOKEN="+fs.BotToken, "SLACK_APP_TOKEN="+fs.AppToken, "SLACK_API_URL="+fs.APIURL(),
		"REDIS_URL="+redistest.URL(t), "REDIS_KEY_PREFIX="+redistest.Prefix(), "HTTP_ADDR=127.0.0.1:0", "CONTACTS_FILE="+dir+"/contacts.yml",
		"SLACK_CHANNEL_ID=CINC", "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn",
		"TWILIO_ACCOUNT_SID="+tw.SID, "TWILIO_AUTH_TOKEN="+tw.Token, "TWILIO_FROM="+tw.From, "TWILIO_API_URL="+tw.URL())
	first := apptest.StartProcess(t, bin, env)
	if err := fs.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fs.Command(t, "U1", "C1", "open outage Phones")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Phones")
	fs.ExpectMessage(t, "DU1", "INC-1")
	count := func(kind string) int {
		n := 0
		for _, s := range tw.Sent() {
			if s.Kind == kind {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); count("sms") == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the SMS never went")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the call is in flight
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	waitDisconnected(t, fs)
	if count("call") != 0 {
		t.Fatal("the call went out before the kill")
	}
	tw.CallLatency(0)
	apptest.StartProcess(t, bin, env)
	for deadline := time.Now().Add(30 * time.Second); count("call") == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the call never went out after the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The step is recorded once its SMS and call are out: after that,
	// nothing of it is sent again.
	fs.ExpectUpdated(t, card, "every level paged")
	if sms, call := count("sms"), count("call"); sms != 1 || call != 1 {
		t.Fatalf("%d SMS and %d calls, want 1 each", sms, call)
	}
	dms := 0
	for _, m := range fs.Messages() {
		if m.Channel == "DU1" {
			dms++
		}
	}
	if dms != 1 {
		t.Fatalf("%d Slack DMs, want 1", dms)
	}
}

// kill -9 between the approval of a rollback and the call to Vercel: the
// next process carries it out once its claim lapses, and Vercel is asked
// to roll back exactly once.
func TestKill9BetweenApprovalAndVercelRollback(t *testing.T) {
	t.Parallel()
	bin := apptest.Build(t, ".")
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fv := fakevercel.New()
	t.Cleanup(fv.Close)
	now := time.Now()
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_good", Created: now.Add(-3 * time.Hour), SHA: "aaaaaaa1", Message: "Good", Author: "alice"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_bad", Created: now.Add(-10 * time.Minute), SHA: "bbbbbbb2", Message: "Bad matcher", Author: "bob"})
	rdb, prefix := redistest.Client(t)
	env := append(os.Environ(), "SLACK_BOT_TOKEN="+fs.BotToken, "SLACK_APP_TOKEN="+fs.AppToken, "SLACK_API_URL="+fs.APIURL(),
		"REDIS_URL="+redistest.URL(t), "REDIS_KEY_PREFIX="+prefix, "HTTP_ADDR=127.0.0.1:0", "CONTACTS_FILE=",
		"SLACK_CHANNEL_ID=CINC", "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn",
		"VERCEL_TOKEN="+fv.Token, "VERCEL_PROJECT_ID="+fv.ProjectID, "VERCEL_API_URL="+fv.URL())
	startProc := func() *exec.Cmd { return apptest.StartProcess(t, bin, env) }
	first := startProc()
	if err := fs.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fs.Command(t, "U1", "C1", "open outage Sign-in broken")
	card := fs.ExpectMessage(t, "CINC", "INC-1")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U1", "C1", "rollback previous")
	req := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: rollback", "to `dpl_good`"}})
	fs.ExpectEphemeral(t, "U1", "Approval requested")
	fv.SetLatency(3 * time.Second) // Vercel is slow after the click…
	fs.Click(t, "U2", req, "Approve")
	fs.ExpectUpdated(t, req, "Approved by <@U2>")
	_ = first.Process.Signal(syscall.SIGKILL) // …and the bot dies before the rollback reaches it
	_ = first.Wait()
	fv.SetLatency(0)
	if n := fv.Calls("POST", "/rollback/"); n != 0 {
		t.Fatalf("rolled back before the kill (%d)", n)
	}
	if n := rdb.ZCard(context.Background(), prefix+"approvals:approved").Val(); n != 1 {
		t.Fatalf("%d approved requests wait in the outbox, want 1", n)
	}
	waitDisconnected(t, fs)
	startProc()
	fs.ExpectUpdatedWithin(t, 60*time.Second, req, "succeeded; `dpl_good` serves production again")
	// Its outcome is recorded: the outbox holds nothing more to carry out.
	for deadline := time.Now().Add(10 * time.Second); rdb.ZCard(context.Background(), prefix+"approvals:approved").Val() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the rollback is still waiting to be carried out")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := fv.Calls("POST", "/rollback/"); n != 1 || fv.Production() != "dpl_good" {
		t.Fatalf("rollback calls %d, production %s", n, fv.Production())
	}
}

// kill -9 after Vercel took the rollback, while its job runs: the next
// process finds its own rollback on the project and follows it instead of
// asking again (a second POST would meet 409, "already in progress").
func TestKill9AfterTheVercelRollbackPost(t *testing.T) {
	t.Parallel()
	bin := apptest.Build(t, ".")
	fs := fakeslack.New()
	t.Cleanup(fs.Close)
	fv := fakevercel.New()
	t.Cleanup(fv.Close)
	now := time.Now()
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_good", Created: now.Add(-3 * time.Hour), SHA: "aaaaaaa1", Message: "Good", Author: "alice"})
	fv.AddDeployment(fakevercel.Deployment{UID: "dpl_bad", Created: now.Add(-10 * time.Minute), SHA: "bbbbbbb2", Message: "Bad matcher", Author: "bob"})
	env := append(os.Environ(), "SLACK_BOT_TOKEN="+fs.BotToken, "SLACK_APP_TOKEN="+fs.AppToken, "SLACK_API_URL="+fs.APIURL(),
		"REDIS_URL="+redistest.URL(t), "REDIS_KEY_PREFIX="+redistest.Prefix(), "HTTP_ADDR=127.0.0.1:0", "CONTACTS_FILE=",
		"SLACK_CHANNEL_ID=CINC", "STATUS_POLL_SCHEDULE=off", "LOG_LEVEL=warn",
		"VERCEL_TOKEN="+fv.Token, "VERCEL_PROJECT_ID="+fv.ProjectID, "VERCEL_API_URL="+fv.URL())
	first := apptest.StartProcess(t, bin, env)
	if err := fs.WaitConnections(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fs.Command(t, "U1", "C1", "open outage Sign-in broken")
	card := fs.ExpectMessage(t, "CINC", "INC-1")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U1", "C1", "rollback previous")
	req := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: rollback", "to `dpl_good`"}})
	fs.ExpectEphemeral(t, "U1", "Approval requested")
	// Once the POST is in, every later call hangs: the first call after it
	// (the bot following the job) shows the bot has Vercel's answer.
	following := make(chan struct{})
	var mu sync.Mutex
	var posted, closed bool
	fv.OnCall(func(method, path string) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case method == "POST" && strings.Contains(path, "/rollback/"):
			posted = true
			fv.SetLatency(time.Hour)
		case posted && !closed:
			closed = true
			close(following)
		}
	})
	fs.Click(t, "U2", req, "Approve")
	select {
	case <-following:
	case <-time.After(30 * time.Second):
		t.Fatal("the bot never followed its rollback")
	}
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	fv.OnCall(nil)
	fv.SetLatency(0)
	if n, p := fv.Calls("POST", "/rollback/"), fv.Production(); n != 1 || p != "dpl_bad" {
		t.Fatalf("before the restart: rollback calls %d, production %s (the job should still run)", n, p)
	}
	waitDisconnected(t, fs)
	apptest.StartProcess(t, bin, env)
	fs.ExpectUpdatedWithin(t, 60*time.Second, req, "succeeded; `dpl_good` serves production again")
	if n := fv.Calls("POST", "/rollback/"); n != 1 || fv.Production() != "dpl_good" {
		t.Fatalf("rollback calls %d, production %s", n, fv.Production())
	}
}
