package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakestatus"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// startWatching runs one replica with the poller driven by the test.
func startWatching(t *testing.T, fs *fakeslack.Server, env map[string]string) *statuswatch.Poller {
	t.Helper()
	base := map[string]string{"SLACK_CHANNEL_ID": "CINC", "STATUS_POLL_SCHEDULE": "@every 1m"}
	for k, v := range env {
		base[k] = v
	}
	return apptest.Start(t, apptest.Spec{Slack: fs, Env: base, Options: app.Options{Manual: app.Loops{Poll: true, Sweep: true}}}).Poller
}

// poll runs the cron jobs of each replica at once, as their schedules
// would: the status poll, then a probe round.
func poll(pollers ...*statuswatch.Poller) {
	var wg sync.WaitGroup
	for _, p := range pollers {
		wg.Go(func() {
			if p.TryLead(context.Background()) {
				p.Poll(context.Background())
			}
			if p.TryLeadProbes(context.Background()) {
				p.PollProbes(context.Background())
			}
		})
	}
	wg.Wait()
}

func TestStatusPollerOpensOneIncidentAcrossTwoReplicas(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	prefix := redistest.Prefix()
	env := map[string]string{"CLERK_STATUS_URL": st.IncidentIOURL(), "APP_HEALTH_URL": st.HealthURL(), "REDIS_KEY_PREFIX": prefix}
	a := startWatching(t, fs, env)
	b := startWatching(t, fs, env)

	poll(a, b)
	st.StartIncident(fakestatus.Incident{ID: "01KHVBF47Q", Name: "Elevated 500 rates", Status: "investigating", Impact: "full_outage",
		Components: []string{"User and authentication"}, Updates: []string{"We are investigating elevated error rates"}})
	poll(a, b)
	poll(a, b)
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Clerk: Elevated 500 rates", "P1", "status poller")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Auth Outage Response"}})
	alert := fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Clerk: Elevated 500 rates", "Affected:* User and authentication",
		"We are investigating elevated error rates", "status.clerk.com/incidents/01KHVBF47Q", "after 2 consecutive polls"}})
	if !alert.Broadcast {
		t.Fatal("alert not shown in the channel")
	}
	if tick := tickedIn(t, prefix, "INC-1", incident.StepConfirmOutage, true); tick.By.Name != "status poller" {
		t.Fatalf("confirmed by %+v", tick.By)
	}
	for range 5 {
		poll(a, b)
	}
	st.AddUpdate("01KHVBF47Q", "identified", "A fix is rolling out")
	poll(a, b)
	poll(a, b)
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Clerk status update", "A fix is rolling out"}})
	st.Resolve("01KHVBF47Q")
	for range 3 {
		poll(a, b)
	}
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Clerk reports", "*resolved*", "/clerk-incident resolve INC-1"}})

	// status shows the live picture.
	fs.Command(t, "U1", "C1", "status")
	fs.ExpectEphemeral(t, "U1", "Clerk status:", "App health:* 200", "INC-1")

	// The app's own health: 3 failures open one outage; recovery is posted.
	fs.Command(t, "U1", "C1", "resolve INC-1")
	fs.ExpectUpdated(t, card, "Resolved")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"resolved INC-1"}})
	fs.ExpectEphemeral(t, "U1", "INC-1 is resolved")
	st.SetHealth(503, 0)
	for range 5 {
		poll(a, b)
	}
	card2 := fs.ExpectMessage(t, "CINC", "INC-2 · App health check failing")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card2.TS, Contains: []string{"Auth Outage Response"}})
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card2.TS, Contains: []string{"App health check failing", "status 503"}})
	st.SetHealth(200, 0)
	poll(a, b)
	poll(a, b)
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card2.TS, Contains: []string{"app health check recovered: 200"}})
	fs.NoUnexpectedMessages(t)
}

func TestDiagnoseNamesTheSlowComponent(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	fc := fakeclerk.New()
	checkClerkSpec(t, fc)
	defer fc.Close()
	fc.SetLatency(520 * time.Millisecond)
	st.SetHealth(200, 5*time.Millisecond)
	startWatching(t, fs, map[string]string{"CLERK_STATUS_URL": st.StatuspageURL(), "APP_HEALTH_URL": st.HealthURL(), "REDIS_KEY_PREFIX": redistest.Prefix(),
		"CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL()})
	fs.Command(t, "U1", "C1", "diagnose 2")
	m := fs.ExpectEphemeral(t, "U1", "Diagnosis", "2 samples")
	text := m.Render()
	for _, want := range []string{":warning: Clerk Backend API (GET /users?limit=1): 5", "API slow - check Clerk status or network",
		":white_check_mark: App health endpoint (auth check)", ":white_check_mark: Clerk status page"} {
		if !strings.Contains(text, want) {
			t.Errorf("diagnosis lacks %q:\n%s", want, text)
		}
	}
}

func TestCheckReportsEachProblemWithoutSecrets(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	fc := fakeclerk.New()
	checkClerkSpec(t, fc)
	defer fc.Close()
	secretBody := "fakeclerkkey"
	startWatching(t, fs, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_KEY_PREFIX": "x:", "STATUS_POLL_SCHEDULE": "off",
		"CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(), "CLERK_PUBLISHABLE_KEY": "pk_live_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk",
		"APP_WEBHOOK_URL": "https://app.example.com/api/webhooks/clerk", "APP_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	fs.Command(t, "U1", "C1", "check")
	m := fs.ExpectEphemeral(t, "U1", "Configuration check")
	text := m.Render()
	for _, want := range []string{
		":white_check_mark: CLERK_SECRET_KEY sk_test_… (test)",
		"CLERK_PUBLISHABLE_KEY pk_live_… → Frontend API foo-bar-13.clerk.accounts.dev",
		":x: The keys do not match: secret key is test, publishable key is live", "Use both keys of the same instance",
		":white_check_mark: The secret key works (GET /jwks)",
		":x: Redis does not answer", "Check REDIS_URL",
		":white_check_mark: APP_WEBHOOK_SECRET whsec_… is well formed",
		":white_check_mark: Slack tokens work",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("check lacks %q:\n%s", want, text)
		}
	}
	for _, secret := range []string{secretBody, "Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk", "MfKQ9r8GKYqrTwjUPD8ILPZIo2", "kkey", "LaSw"} {
		if strings.Contains(text, secret) {
			t.Errorf("check shows a secret (%s)", secret)
		}
	}
}

// Clerk's Backend API starts answering 503 while its status page still
// says all is well: after 3 rounds (CLERK_PROBE_CONFIRM_POLLS 3) the bot's own probes open one outage;
// when the status page then reports the incident, its alert is attached
// to that incident rather than opening a second. Recovery is said once.
func TestClerkProbesOpenBeforeTheStatusPage(t *testing.T) {
	t.Parallel()
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	fc := fakeclerk.New()
	checkClerkSpec(t, fc)
	defer fc.Close()
	p := startWatching(t, fs, map[string]string{"CLERK_STATUS_URL": st.RootURL(), "CLERK_SECRET_KEY": fc.Key, "CLERK_API_URL": fc.URL(),
		"CLERK_PROBE_CONFIRM_POLLS": "3"})
	poll(p)
	fc.Fail("GET", "/jwks", 503, 1000, 0)
	poll(p)
	poll(p)
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text, "INC-1") {
			t.Fatalf("opened after 2 failed polls: %s", m.Text)
		}
	}
	poll(p)
	card := fs.ExpectMessage(t, "CINC", "INC-1 · Clerk API failing from here", "P1")
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Backend API failing for 3 polls in a row", "GET /jwks: HTTP 503"}})

	st.StartIncident(fakestatus.Incident{ID: "01KAPI", Name: "Backend API errors", Status: "investigating", Impact: "full_outage",
		Components: []string{"User and authentication"}, Updates: []string{"We are investigating"}})
	poll(p)
	poll(p)
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Clerk: Backend API errors", "Attached to INC-1"}})

	fc.Heal()
	poll(p)
	fs.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Backend API answers this bot's probes again"}})
	for range 3 {
		poll(p)
	}
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text, "INC-2") {
			t.Fatalf("a second incident: %s", m.Text)
		}
	}
	if n := strings.Count(dump(fs), "answers this bot's probes again"); n != 1 {
		t.Fatalf("recovery said %d times", n)
	}
}

func dump(fs *fakeslack.Server) string {
	var b strings.Builder
	for _, m := range fs.Messages() {
		b.WriteString(m.Text + "\n")
	}
	return b.String()
}

// The dead-man's switch: when no replica has finished a status poll for 5
// intervals, /healthz says so (still 200: the bot is up), /metrics shows
// the age of the last poll, and one warning is posted.
func TestStalledPollerIsSaidOnce(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	clock := &testClock{t: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)}
	bot := apptest.Start(t, apptest.Spec{Slack: fs, Env: map[string]string{"SLACK_CHANNEL_ID": "CINC", "STATUS_POLL_SCHEDULE": "@every 1m",
		"CLERK_STATUS_URL": st.RootURL()}, Options: app.Options{Manual: app.Loops{Poll: true, Sweep: true}, Now: clock.Now}})
	health := func() (int, map[string]string) {
		r, err := http.Get("http://" + bot.HTTPAddr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatalf("healthz body (status %d): %v", r.StatusCode, err)
		}
		return r.StatusCode, body
	}
	metric := func() string {
		r, err := http.Get("http://" + bot.HTTPAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "clerk_incident_status_poll_age_seconds ") {
				return l
			}
		}
		return ""
	}
	poll(bot.Poller)
	clock.Add(4 * time.Minute)
	bot.Sweep(context.Background())
	if code, body := health(); code != 200 || body["status_poller"] != "ok" {
		t.Fatalf("after 4 intervals: %d %v", code, body)
	}
	clock.Add(2 * time.Minute)
	bot.Sweep(context.Background())
	bot.Sweep(context.Background())
	if code, body := health(); code != 200 || body["status_poller"] != "stale" {
		t.Fatalf("after 6 intervals: %d %v", code, body)
	}
	if m := metric(); m != "clerk_incident_status_poll_age_seconds 360" {
		t.Fatalf("metric %q", m)
	}
	fs.ExpectMessage(t, "CINC", "No replica has finished a Clerk status poll for 5 intervals")
	poll(bot.Poller)
	if _, body := health(); body["status_poller"] != "ok" {
		t.Fatalf("after a poll: %v", body)
	}
	if n := strings.Count(dump(fs), "No replica has finished"); n != 1 {
		t.Fatalf("warned %d times", n)
	}
}

// `check` and `status` say which format and URL are read; against a root
// that serves none, `check` names each candidate and what it answered.
func TestCheckReportsTheStatusFormat(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	st.Serve(fakestatus.Widget)
	p := startWatching(t, fs, map[string]string{"CLERK_STATUS_URL": st.RootURL()})
	fs.Command(t, "U1", "C1", "check")
	fs.ExpectEphemeral(t, "U1", "Clerk status page read as incident.io widget at "+st.RootURL()+"/api/v1/summary")
	poll(p)
	fs.Command(t, "U1", "C1", "status")
	fs.ExpectEphemeral(t, "U1", "*Read as:* incident.io widget at "+st.RootURL()+"/api/v1/summary")

	none := fakestatus.New()
	defer none.Close()
	none.Serve()
	fs2 := fakeslack.New()
	defer fs2.Close()
	startWatching(t, fs2, map[string]string{"CLERK_STATUS_URL": none.RootURL()})
	fs2.Command(t, "U1", "C1", "check")
	reply := fs2.ExpectEphemeral(t, "U1", "Clerk status page: no status format understood at "+none.RootURL())
	for _, path := range []string{"/api/v2/summary.json", "/api/v1/summary", "/proxy/", "/api/v2/status.json", "/feed.rss", "/history.rss", "/history.atom"} {
		if !strings.Contains(reply.Text, path) {
			t.Errorf("check does not name %s:\n%s", path, reply.Text)
		}
	}
	if strings.Count(reply.Text, "HTTP 404") != 7 {
		t.Errorf("check does not say what each answered:\n%s", reply.Text)
	}
}

// `check` shows the configuration's weak points: only responders may run it.
func TestCheckIsForRespondersOnly(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	startWatching(t, fs, map[string]string{"SLACK_RESPONDERS": "U1", "STATUS_POLL_SCHEDULE": "off"})
	fs.Command(t, "U9", "C1", "check")
	reply := fs.ExpectEphemeral(t, "U9", "Only incident responders")
	if strings.Contains(reply.Render(), "Configuration check") {
		t.Fatalf("a non-responder got the check:\n%s", reply.Render())
	}
	fs.Command(t, "U1", "C1", "check")
	fs.ExpectEphemeral(t, "U1", "Configuration check")
}

// `status` answers from the last poll's snapshot (status:last in Redis),
// saying how old it is; it never fetches the status page itself.
func TestStatusAnswersFromTheLastPoll(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	st.SetComponent("Dashboard", "degraded_performance")
	p := startWatching(t, fs, map[string]string{"CLERK_STATUS_URL": st.StatuspageURL()})
	poll(p)
	before, _ := st.Requests()
	for range 3 {
		fs.Command(t, "U1", "C1", "status")
		fs.ExpectEphemeral(t, "U1", "Dashboard (degraded performance)", "Clerk status as of the last poll, ", " ago")
	}
	if after, _ := st.Requests(); after != before {
		t.Fatalf("status fetched the status page %d times; it should answer from the last poll", after-before)
	}
}

// A Frontend API that answers 401 is Clerk refusing this bot's key, not
// "ok": status marks it red and says what to check; timings read "… ms",
// never Go's "0s" or "230ms".
func TestStatusShowsAFrontendAPIRefusalInRed(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	st := fakestatus.New()
	defer st.Close()
	fc := fakeclerk.New()
	checkClerkSpec(t, fc)
	defer fc.Close()
	p := startWatching(t, fs, map[string]string{"CLERK_STATUS_URL": st.RootURL(), "CLERK_PROBE": "on",
		"CLERK_PUBLISHABLE_KEY": "pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk", "CLERK_FRONTEND_API_URL": fc.URL()})
	goTimings := regexp.MustCompile(`\d(ms|s|µs)\b`)
	// A status code, not the fake's random port (127.0.0.1:38401).
	refused := regexp.MustCompile(`\b401\b`)
	poll(p)
	fs.Command(t, "U1", "C1", "status")
	ok := fs.ExpectEphemeral(t, "U1", ":white_check_mark: *Clerk from here:* Frontend API GET /.well-known/jwks.json: 200 in ", " ms", "GET /v1/environment: 200 in ")
	if goTimings.MatchString(ok.Render()) || refused.MatchString(ok.Render()) {
		t.Fatalf("status:\n%s", ok.Render())
	}

	fc.SetFrontendStatus(401)
	poll(p)
	fs.Command(t, "U1", "C1", "status")
	bad := fs.ExpectEphemeral(t, "U1", ":x: *Clerk from here:*", "GET /v1/environment: 401 in ",
		":x: 401 from the Frontend API: the publishable key's instance refuses us — check CLERK_PUBLISHABLE_KEY")
	if goTimings.MatchString(bad.Render()) {
		t.Fatalf("Go duration in status:\n%s", bad.Render())
	}
	// A refusal is a configuration problem, not an outage: nothing opens.
	poll(p)
	poll(p)
	for _, m := range fs.Messages() {
		if strings.Contains(m.Text, "INC-1") {
			t.Fatalf("a refusal opened an incident: %s", m.Text)
		}
	}
}
