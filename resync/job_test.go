package resync_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeapp"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

type reports struct {
	mu       sync.Mutex
	progress []float64
	finished []*resync.Job
	failed   []string
}

func (r *reports) Progress(ctx context.Context, j *resync.Job, rate float64) {
	r.mu.Lock()
	r.progress = append(r.progress, float64(j.Done)/float64(max(j.Total, 1)))
	r.mu.Unlock()
}

func (r *reports) Finished(ctx context.Context, j *resync.Job, failed []string) {
	r.mu.Lock()
	r.finished = append(r.finished, j)
	r.failed = failed
	r.mu.Unlock()
}

func (r *reports) done() *resync.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.finished) == 0 {
		return nil
	}
	return r.finished[0]
}

type world struct {
	clerk *fakeclerk.Server
	app   *fakeapp.Server
	cl    *clerkops.Client
	ids   []string
}

func newWorld(t testing.TB, users int) *world {
	fc := fakeclerk.New()
	app := fakeapp.New()
	t.Cleanup(fc.Close)
	t.Cleanup(app.Close)
	// The budget is explicit and shared through Redis, as in production.
	rdb, _ := redistest.Client(t)
	w := &world{clerk: fc, app: app, cl: clerkops.New(clerkops.Config{SecretKey: fc.Key, APIURL: fc.URL(), Budget: 1000, Window: 10 * time.Second,
		Redis: rdb, Prefix: redistest.Prefix()}, nil)}
	for i := range users {
		w.ids = append(w.ids, fc.AddUser(fmt.Sprintf("U%d", i), fmt.Sprintf("u%d@example.com", i), 0).ID)
	}
	return w
}

func (w *world) runner(t testing.TB, prefix string, rep resync.Reporter, conc int) *resync.Runner {
	rdb, _ := redistest.Client(t)
	key, _ := resync.ParseSecret(w.app.Secret)
	log := logrus.New()
	log.SetOutput(io.Discard)
	if testing.Verbose() {
		log.SetOutput(os.Stderr)
		log.SetLevel(logrus.DebugLevel)
	}
	return resync.NewRunner(rdb, prefix, resync.Config{WebhookURL: w.app.WebhookURL(), Secret: key, Concurrency: conc}, w.cl, rep, time.Now, log)
}

func waitDone(t testing.TB, rep *reports) *resync.Job {
	deadline := time.Now().Add(60 * time.Second)
	for rep.done() == nil {
		if time.Now().After(deadline) {
			t.Fatal("resync never finished")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return rep.done()
}

// waitUntil polls cond, and fails rather than spin when it never holds.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60 s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestResyncDeliversEveryUserSigned(t *testing.T) {
	w := newWorld(t, 1200)
	w.app.FailUser(w.ids[7], 422)
	rep := &reports{}
	r := w.runner(t, redistest.Prefix(), rep, 8)
	ctx := context.Background()
	if _, err := r.Start(ctx, resync.Job{Incident: "INC-1", By: incident.Person{ID: "U1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(ctx, resync.Job{}); err != resync.ErrRunning {
		t.Fatalf("second start: %v", err)
	}
	r.Resume(ctx)
	j := waitDone(t, rep)
	if j.Status != resync.Done || j.Total != 1200 || j.Done != 1200 || j.Delivered != 1199 || j.Failed != 1 {
		t.Fatalf("job %+v", j)
	}
	if len(rep.failed) != 1 || rep.failed[0] != w.ids[7] {
		t.Fatalf("failed %v", rep.failed)
	}
	if w.app.Users() != 1199 {
		t.Fatalf("app holds %d users", w.app.Users())
	}
	if _, bad := w.app.Stats(); bad != 0 {
		t.Fatalf("%d deliveries failed signature checks", bad)
	}
	if n := w.clerk.CountCalls("GET", "/users/count"); n != 1 {
		t.Fatalf("counted %d times", n)
	}
}

// A replica dies half-way; another resumes from the Redis checkpoint and
// no user is missing.
func TestResyncResumesAfterAStop(t *testing.T) {
	w := newWorld(t, 2500)
	w.app.SetDelay(2 * time.Millisecond)
	prefix := redistest.Prefix()
	rep := &reports{}
	first := w.runner(t, prefix, rep, 4)
	ctx1, stop := context.WithCancel(context.Background())
	if _, err := first.Start(ctx1, resync.Job{Incident: "INC-1"}); err != nil {
		t.Fatal(err)
	}
	first.Resume(ctx1)
	waitUntil(t, "1000 users delivered before the stop", func() bool { return w.app.Users() >= 1000 })
	stop()
	waitUntil(t, "the stopped replica idle", first.Idle)
	if got := w.app.Users(); got >= 2500 {
		t.Fatalf("finished before the stop (%d)", got)
	}
	second := w.runner(t, prefix, rep, 8)
	second.Resume(context.Background())
	j := waitDone(t, rep)
	if j.Status != resync.Done || j.Done < 2500 || w.app.Users() != 2500 {
		t.Fatalf("job %+v, app holds %d", j, w.app.Users())
	}
	for _, id := range w.ids {
		if !w.app.Has(id) {
			t.Fatalf("user %s missing", id)
		}
	}
}

func TestResyncStopsAtOnceOnAWrongSecret(t *testing.T) {
	w := newWorld(t, 600)
	w.app.RejectSignatures(true)
	rep := &reports{}
	r := w.runner(t, redistest.Prefix(), rep, 4)
	ctx := context.Background()
	_, _ = r.Start(ctx, resync.Job{})
	r.Resume(ctx)
	j := waitDone(t, rep)
	if j.Status != resync.Failed || j.Done > 500 {
		t.Fatalf("job %+v", j)
	}
	if _, bad := w.app.Stats(); bad > 50 {
		t.Fatalf("%d rejected deliveries before stopping", bad)
	}
}

func TestCheckEndpointFindsAcceptedWrongSignature(t *testing.T) {
	w := newWorld(t, 0)
	key, _ := resync.ParseSecret(w.app.Secret)
	hc := &httpClient
	res := resync.CheckEndpoint(context.Background(), hc, w.app.WebhookURL(), key, time.Now())
	if res.Signed.Status != 204 || res.Unsigned.Status != 401 || res.Finding {
		t.Fatalf("%+v", res)
	}
	w.app.AcceptUnsigned(true)
	res = resync.CheckEndpoint(context.Background(), hc, w.app.WebhookURL(), key, time.Now())
	if !res.Finding {
		t.Fatalf("%+v", res)
	}
	res = resync.CheckEndpoint(context.Background(), hc, "http://127.0.0.1:1/hook", key, time.Now())
	if res.Signed.Problem == "" || res.Finding {
		t.Fatalf("%+v", res)
	}
}

// textReports renders every report as the Slack side does.
type textReports struct {
	reports
	texts []string
}

func (r *textReports) Progress(ctx context.Context, j *resync.Job, rate float64) {
	text := render.ResyncText(j, rate, time.Now())
	r.mu.Lock()
	r.texts = append(r.texts, text)
	r.mu.Unlock()
	r.reports.Progress(ctx, j, rate)
}

// Clerk's count lags its list (users imported during the run): progress is
// shown throughout without a crash, and the total grows to what was done.
func TestResyncGrowsItsTotalWhenClerkListsMoreThanItCounted(t *testing.T) {
	w := newWorld(t, 1000)
	w.clerk.SetCountLag(300)
	w.app.SetDelay(time.Millisecond)
	rep := &textReports{}
	r := w.runner(t, redistest.Prefix(), rep, 4)
	ctx := context.Background()
	if _, err := r.Start(ctx, resync.Job{By: incident.Person{ID: "U1"}}); err != nil {
		t.Fatal(err)
	}
	r.Resume(ctx)
	j := waitDone(t, &rep.reports)
	if j.Status != resync.Done || j.Done != 1000 || j.Total != 1000 || j.Delivered != 1000 {
		t.Fatalf("job %+v", j)
	}
	final := render.ResyncText(j, 0, time.Now())
	if !strings.Contains(final, "1000 delivered") {
		t.Fatalf("final %q", final)
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	for _, text := range rep.texts {
		// The total is Clerk's lagging count (700) until more users are
		// done than counted; from then on it grows with what was done.
		if strings.Contains(text, "% ·") {
			var done, total int
			if i := strings.Index(text, "% · "); i < 0 {
				t.Fatalf("progress %q", text)
			} else if _, err := fmt.Sscanf(text[i+len("% · "):], "%d/%d users", &done, &total); err != nil || total < 700 || total > 1000 || done > total {
				t.Fatalf("progress %q", text)
			}
		}
		if i := strings.Index(text, "%"); i > 0 && strings.Contains(text[:i], "1") && len(text[:i]) > 0 {
			var pct int
			if _, err := fmt.Sscanf(text[strings.LastIndex(text[:i], " ")+1:i], "%d", &pct); err == nil && pct > 100 {
				t.Fatalf("progress over 100%%: %q", text)
			}
		}
	}
}

// The app fails every third delivery with a 503: each failed delivery is
// retried with the same svix-id (so a receiver that de-duplicates applies
// it once) and every user arrives.
func TestResyncRetriesKeepTheirSvixID(t *testing.T) {
	w := newWorld(t, 90)
	w.app.FailIntermittently(3)
	rep := &reports{}
	r := w.runner(t, redistest.Prefix(), rep, 4)
	ctx := context.Background()
	if _, err := r.Start(ctx, resync.Job{By: incident.Person{ID: "U1"}}); err != nil {
		t.Fatal(err)
	}
	r.Resume(ctx)
	j := waitDone(t, rep)
	if j.Status != resync.Done || j.Delivered != 90 || j.Failed != 0 {
		t.Fatalf("job %+v", j)
	}
	retried := 0
	for _, id := range w.ids {
		ids := w.app.MessageIDs(id)
		if len(ids) > 1 {
			retried++
		}
		for _, m := range ids {
			if m != ids[0] {
				t.Fatalf("user %s was redelivered under new svix-ids %v", id, ids)
			}
		}
	}
	if retried < 20 {
		t.Fatalf("only %d users were retried: the app did not misbehave", retried)
	}
}
