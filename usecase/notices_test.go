package usecase_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// shower stands for the publisher: each show notes what the incident's
// timeline held at that moment, so a test sees whether the record came
// first. It writes nothing.
type shower struct {
	t     *testing.T
	store *incident.Store
	id    string
	shown []string // what was shown, each with the timeline's last entry then
}

func (s *shower) saw(what string) {
	inc, err := s.store.Get(context.Background(), s.id)
	last := ""
	if err == nil && len(inc.Timeline) > 0 {
		last = inc.Timeline[len(inc.Timeline)-1].Text
	}
	s.shown = append(s.shown, what+" after: "+last)
}

func (s *shower) ShowOutcome(ctx context.Context, ar *approval.Request)  { s.saw("outcome " + ar.ID) }
func (s *shower) ShowDecision(ctx context.Context, ar *approval.Request) { s.saw("decision " + ar.ID) }
func (s *shower) Note(ctx context.Context, n statuswatch.Note)           { s.saw("note") }
func (s *shower) IncidentOpen(ctx context.Context, id string) bool       { return true }
func (s *shower) Broadcast(ctx context.Context, inc *incident.Incident, line string) {
	s.saw("broadcast " + line)
}
func (s *shower) PostChannel(ctx context.Context, text, what string) { s.saw("channel " + what) }
func (s *shower) Members(ctx context.Context, id string) ([]string, error) {
	return []string{id}, nil
}
func (s *shower) Notify(ctx context.Context, inc *incident.Incident, pg escalation.Page, user string) (escalation.DM, error) {
	return escalation.DM{}, nil
}
func (s *shower) SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm escalation.DM) error {
	return nil
}
func (s *shower) ThreadURL(inc *incident.Incident) string  { return "" }
func (s *shower) AfterPage(ctx context.Context, id string) {}
func (s *shower) Announced()                               { s.saw("lines") }
func (s *shower) Name(ctx context.Context, id string) string {
	return map[string]string{"U2": "Bob"}[id]
}

type approvalCount struct{ outcomes []string }

func (c *approvalCount) Approval(outcome string) { c.outcomes = append(c.outcomes, outcome) }

// What the bot records by itself is on the timeline before the publisher
// is asked to show it, and the publisher is asked for nothing else.
func TestRecordedThenShown(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	stores := incident.NewStores(rdb, prefix, nil)
	store := stores.Incidents
	rb, err := incident.LoadRunbook("runbook.yml", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	inc, err := store.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "Sign-in failing", By: incident.Person{ID: "U1"}, Channel: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	show := &shower{t: t, store: store, id: inc.ID}
	ticks := usecase.NewTicks(store, rb, nil, log)
	count := &approvalCount{}
	news := usecase.NewApprovalNews(ticks, show, count)
	notices := usecase.NewNotices(store, ticks, show, log)
	paging := usecase.NewPaging(show, show, ticks)

	ar := &approval.Request{ID: "apr-1", Incident: inc.ID, Action: approval.Lockout, Summary: "lock out 2 accounts", VoidReason: "the incident was resolved"}
	news.Expired(ctx, ar)
	news.Voided(ctx, ar)
	ar.Outcome = &approval.Outcome{Status: approval.Done, Summary: "Locked out 2 accounts."}
	news.Executed(ctx, ar)
	notices.Note(ctx, statuswatch.Note{Kind: statuswatch.UpstreamResolved, Incident: inc.ID, Name: "Clerk sign-in errors"})
	notices.BypassReminder(ctx, bypass.State{Incident: inc.ID, ExpiresAt: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)})
	if err := paging.Announce(ctx, inc, escalation.Page{Incident: inc.ID, Level: 1, Name: "on-call", Reached: []string{"U2"}}); err != nil {
		t.Fatal(err)
	}
	if err := paging.CallUnanswered(ctx, inc, "U2", escalation.CallVoicemail); err != nil {
		t.Fatal(err)
	}
	want := []string{
		// An expiry and a void show on the request's message first (the
		// buttons go at once), then are recorded.
		"decision apr-1 after: Incident opened",
		"decision apr-1 after: Approval request apr-1 (lockout) expired",
		"outcome apr-1 after: ",
		"note after: ",
		"broadcast :hourglass: The emergency auth bypass ends at ",
		"lines after: ",
		"lines after: Bob did not pick up: voicemail",
	}
	if len(show.shown) != len(want) {
		t.Fatalf("shown %d times, want %d:\n%s", len(show.shown), len(want), strings.Join(show.shown, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(show.shown[i], w) {
			t.Errorf("show %d: %q, want it to start %q", i, show.shown[i], w)
		}
	}
	got, err := store.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range got.Timeline {
		texts = append(texts, e.Text)
	}
	for _, w := range []string{"expired; nothing was done", "void: the incident was resolved; nothing was done", "Locked out 2 accounts",
		"Emergency bypass ends in 5 minutes", "Bob did not pick up: voicemail"} {
		if !slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("timeline lacks %q:\n%s", w, strings.Join(texts, "\n"))
		}
	}
	// Each show came after its own record: the outcome's, the note's and
	// the page's entries were the last on the timeline when shown.
	for i, w := range map[int]string{2: "Locked out 2 accounts", 3: "Clerk sign-in errors", 5: "Bob"} {
		if !strings.Contains(show.shown[i], w) {
			t.Errorf("show %d came before its record: %q lacks %q", i, show.shown[i], w)
		}
	}
	if !slices.Equal(count.outcomes, []string{approval.Expired, approval.Voided}) {
		t.Errorf("approvals counted %v", count.outcomes)
	}
}

// A page whose record fails is not announced: the engine retries the
// announcement, and the thread hears it once, when it is recorded.
func TestAnnouncementNotShownWhenItsRecordFails(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	store := incident.NewStores(rdb, prefix, nil).Incidents
	rb, err := incident.LoadRunbook("runbook.yml", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	show := &shower{t: t, store: store, id: "INC-404"}
	paging := usecase.NewPaging(show, show, usecase.NewTicks(store, rb, nil, log))
	gone := &incident.Incident{ID: "INC-404"}
	if err := paging.Announce(ctx, gone, escalation.Page{Incident: gone.ID, Level: 1, Name: "on-call", Reached: []string{"U2"}}); err == nil {
		t.Error("announcing on an incident that does not exist succeeded")
	}
	if err := paging.CallUnanswered(ctx, gone, "U2", escalation.CallBusy); err == nil {
		t.Error("an unanswered call on an incident that does not exist succeeded")
	}
	if len(show.shown) != 0 {
		t.Errorf("shown without a record: %v", show.shown)
	}
}
