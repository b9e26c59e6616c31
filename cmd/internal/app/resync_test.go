package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeapp"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// replica runs the whole program with its real background loops; stop
// ends it as a deploy would.
func replica(t *testing.T, fs *fakeslack.Server, env map[string]string) (stop func()) {
	t.Helper()
	base := map[string]string{"SLACK_CHANNEL_ID": "CINC"}
	for k, v := range env {
		base[k] = v
	}
	return apptest.Start(t, apptest.Spec{Slack: fs, Prefix: env["REDIS_KEY_PREFIX"], Env: base}).Stop
}

func TestResyncEndToEndSurvivesARestart(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fc := fakeclerk.New()
	defer fc.Close()
	app := fakeapp.New()
	defer app.Close()
	var ids []string
	for i := range 2500 {
		ids = append(ids, fc.AddUser(fmt.Sprintf("User%d", i), fmt.Sprintf("user%d@example.com", i), 0).ID)
	}
	app.SetDelay(time.Millisecond)
	env := map[string]string{"REDIS_KEY_PREFIX": redistest.Prefix(), "CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(),
		"APP_WEBHOOK_URL": app.WebhookURL(), "APP_WEBHOOK_SECRET": app.Secret, "RESYNC_CONCURRENCY": "4"}
	stopFirst := replica(t, fs, env)

	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Users not syncing")
	checklist := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Data Sync Recovery", "/clerk-incident resync"}})
	fs.ExpectEphemeral(t, "U1", "Opened")

	fs.Command(t, "U1", "C1", "resync --no-pause")
	fs.ExpectEphemeral(t, "U1", "Resync rs-", "started")
	progress := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Resync rs-"}})
	for deadline := time.Now().Add(30 * time.Second); app.Users() < 1000; {
		if time.Now().After(deadline) {
			t.Fatalf("resync did not get going: %d users", app.Users())
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopFirst() // a deploy in the middle of the resync
	if app.Users() >= 2500 {
		t.Fatal("finished before the restart; make the app slower")
	}
	replica(t, fs, env)
	fs.Command(t, "U2", "C1", "resync status")
	fs.ExpectEphemeral(t, "U2", "Resync rs-")
	fs.ExpectUpdated(t, progress, "100%", "2500 delivered, 0 failed")
	summary := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"2500 delivered, 0 failed"}})
	fs.ExpectUpdated(t, checklist, "~Run resync script")
	// A 2xx is not proof of integrity: that step is left for a person.
	if !summary.Contains("*Not verified:* that the app stored them correctly") {
		t.Fatalf("the summary does not say what was not verified:\n%s", summary.Render())
	}
	if strings.Contains(checklist.Render(), "~Verify data integrity") {
		t.Fatalf("Verify data integrity ticked by the resync:\n%s", checklist.Render())
	}
	for _, id := range ids {
		if !app.Has(id) {
			t.Fatalf("user %s never reached the app", id)
		}
	}
	// Exactly one request failed the signature check: the deliberately
	// forged one of the endpoint check that resync runs first.
	if _, bad := app.Stats(); bad != 1 {
		t.Fatalf("%d requests failed the signature check", bad)
	}
	fs.Command(t, "U1", "C1", "postmortem")
	file := fs.ExpectFile(t, "CINC", "Resync rs-")
	if !strings.Contains(file.Content, "done: delivered 2500, failed 0") {
		t.Fatalf("timeline lacks the summary:\n%s", file.Content)
	}
	// The resync was work in flight: its end is in the thread and the report.
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Ended after", "resync rs-", "done. delivered 2500, failed 0, skipped 0"}})
	if !strings.Contains(file.Content, "### Long actions") || !regexp.MustCompile(`resync rs-\S+ \(rs-\S+, \S+\): done - delivered 2500, failed 0, skipped 0`).MatchString(file.Content) {
		t.Fatalf("the report does not list the resync with its outcome:\n%s", file.Content)
	}
}

func TestWebhookCheckFlagsAnEndpointThatAcceptsForgeries(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	app := fakeapp.New()
	defer app.Close()
	app.AcceptUnsigned(true)
	prefix := redistest.Prefix()
	replica(t, fs, map[string]string{"REDIS_KEY_PREFIX": prefix, "APP_WEBHOOK_URL": app.WebhookURL(), "APP_WEBHOOK_SECRET": app.Secret})
	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U1", "C1", "webhook check")
	fs.ExpectEphemeral(t, "U1", "Signed test event: 204", "Security finding", "wrong signature was accepted")
	// Accepting forgeries is a security finding, not the sync gap: the
	// signed event went through.
	tickedIn(t, prefix, "INC-1", incident.StepSyncGap, false)
	app.AcceptUnsigned(false)
	fs.Command(t, "U1", "C1", "webhook check")
	fs.ExpectEphemeral(t, "U1", "Wrong signature rejected (401)")
	// A healthy endpoint does not say where the gap is: still not ticked.
	tickedIn(t, prefix, "INC-1", incident.StepSyncGap, false)
}

// Ticks tell the commander the truth: "Identify sync gap" is ticked by a
// webhook check that finds the endpoint refusing Clerk's signed events
// (where the missing updates went), and by nothing healthier.
func TestWebhookCheckTicksTheSyncGapOnlyWhenItFindsIt(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	app := fakeapp.New()
	defer app.Close()
	prefix := redistest.Prefix()
	replica(t, fs, map[string]string{"REDIS_KEY_PREFIX": prefix, "APP_WEBHOOK_URL": app.WebhookURL(), "APP_WEBHOOK_SECRET": app.Secret})
	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	fs.ExpectEphemeral(t, "U1", "Opened")
	fs.Command(t, "U1", "C1", "webhook check")
	fs.ExpectEphemeral(t, "U1", "Wrong signature rejected (401)")
	tickedIn(t, prefix, "INC-1", incident.StepSyncGap, false)
	app.RejectSignatures(true) // e.g. a rotated signing secret the app does not have
	fs.Command(t, "U1", "C1", "webhook check")
	fs.ExpectEphemeral(t, "U1", "Signed test event: 401")
	if tick := tickedIn(t, prefix, "INC-1", incident.StepSyncGap, true); tick.By.ID != "U1" {
		t.Fatalf("ticked by %+v", tick.By)
	}
}

// With two incidents open, `webhook check` without an ID asks which one
// with a whole command to copy, and neither runs the check nor records
// it; the ID then works before or after the verb.
func TestWebhookCheckWithTwoIncidentsAsksWhichOne(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	app := fakeapp.New()
	defer app.Close()
	prefix := redistest.Prefix()
	replica(t, fs, map[string]string{"REDIS_KEY_PREFIX": prefix, "APP_WEBHOOK_URL": app.WebhookURL(), "APP_WEBHOOK_SECRET": app.Secret})
	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-1*")
	fs.Command(t, "U1", "C1", "open outage Sign-in slow")
	fs.ExpectEphemeral(t, "U1", "Opened *INC-2*")

	fs.Command(t, "U1", "C1", "webhook check")
	fs.ExpectEphemeral(t, "U1", "2 incidents are open", "Say which one, e.g. `/clerk-incident webhook check INC-2`")
	if n, _ := app.Stats(); n != 0 {
		t.Fatalf("the check ran (%d deliveries) though no incident was chosen", n)
	}
	rdb, _ := redistest.Client(t)
	store := incident.NewStore(rdb, prefix, nil)
	recorded := func(id string) bool {
		inc, err := store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range inc.Timeline {
			if strings.Contains(e.Text, "Webhook check") {
				return true
			}
		}
		return false
	}
	if recorded("INC-1") || recorded("INC-2") {
		t.Fatal("a check nobody aimed at an incident was recorded")
	}

	fs.Command(t, "U1", "C1", "webhook check INC-1")
	fs.ExpectEphemeral(t, "U1", "Signed test event: 204")
	if !recorded("INC-1") || recorded("INC-2") {
		t.Fatal("`webhook check INC-1` was not recorded on INC-1 alone")
	}
	fs.Command(t, "U1", "C1", "webhook INC-2 check")
	fs.ExpectEphemeral(t, "U1", "Signed test event: 204")
	if !recorded("INC-2") {
		t.Fatal("`webhook INC-2 check` was not recorded on INC-2")
	}
}

// A step an action ticks is credited to the person who ran the action:
// a clean resync started by U2 ticks "Run resync script" for U2, on the
// checklist and on the timeline, not for a "resync" nobody.
func TestResyncTickIsCreditedToWhoeverStartedIt(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.AddUser("U2", "bob")
	fc := fakeclerk.New()
	defer fc.Close()
	app := fakeapp.New()
	defer app.Close()
	for i := range 3 {
		fc.AddUser(fmt.Sprintf("User%d", i), fmt.Sprintf("user%d@example.com", i), 0)
	}
	prefix := redistest.Prefix()
	replica(t, fs, map[string]string{"REDIS_KEY_PREFIX": prefix, "CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(),
		"APP_WEBHOOK_URL": app.WebhookURL(), "APP_WEBHOOK_SECRET": app.Secret})
	fs.Command(t, "U1", "C1", "open webhook Users not syncing")
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Users not syncing")
	checklist := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Data Sync Recovery"}})
	fs.Command(t, "U2", "C1", "resync --no-pause")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"3 delivered, 0 failed"}})
	fs.ExpectUpdated(t, checklist, "~Run resync script", "<@U2>")
	if tick := tickedIn(t, prefix, "INC-1", incident.StepRunResync, true); tick.By.ID != "U2" {
		t.Fatalf("ticked by %+v", tick.By)
	}
	rdb, _ := redistest.Client(t)
	inc, err := incident.NewStore(rdb, prefix, nil).Get(t.Context(), "INC-1")
	if err != nil {
		t.Fatal(err)
	}
	credited := false
	for _, e := range inc.Timeline {
		if strings.Contains(e.Text, "Run resync script") {
			if e.Actor.ID != "U2" {
				t.Fatalf("timeline credits %+v: %s", e.Actor, e.Text)
			}
			credited = true
		}
	}
	if !credited {
		t.Fatal("the tick is not on the timeline")
	}
}
