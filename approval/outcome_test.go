package approval_test

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// slackMarkup is what must never be stored: emoji codes, bold, code ticks,
// bullets, Slack's angle-bracket markup.
var slackMarkup = regexp.MustCompile(`:[a-z_]+:|\*|` + "`" + `|•|<[@!#]`)

// An outcome is stored as data: what it says comes back field for field,
// and the stored request holds no Slack markup for the publisher to strip.
func TestOutcomeRoundTripsAsData(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	s := approval.NewStore(rdb, prefix, 15*time.Minute, func() time.Time { return time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC) })
	r, err := s.Create(ctx, approval.Request{Incident: "INC-1", Action: approval.Lockout, Targets: []string{"eve@example.com", "user_2"}, RequestedBy: incident.Person{ID: "U1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(ctx, r.ID, incident.Person{ID: "U2"}, true); err != nil {
		t.Fatal(err)
	}
	want := &approval.Outcome{Status: approval.Done, Summary: "1 user locked out, 1 failed.",
		Results: []approval.TargetResult{
			{Target: "user_2", Done: "banned", Error: "2 sessions still active"},
			{Target: "eve@example.com (user_1)", OK: true, Done: "banned, sign-in blocked, no active session left (3 more revoked)"},
		},
		Unknown: []string{"nobody@example.com"}}
	if err := s.SetOutcome(ctx, r.ID, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Outcome, want) || got.Outcome.Legacy() {
		t.Fatalf("outcome came back as %+v, want %+v", got.Outcome, want)
	}
	raw := rdb.Get(ctx, prefix+"approval:"+r.ID).Val()
	if !strings.Contains(raw, `"status":"done"`) || slackMarkup.MatchString(raw) {
		t.Fatalf("stored request is not plain data: %s", raw)
	}
	if ids, _ := s.Unexecuted(ctx); len(ids) != 0 {
		t.Fatalf("carried out, still in the outbox: %v", ids)
	}

	// The outcome `bypass off` gives an approved request is data too.
	b, err := s.Create(ctx, approval.Request{Incident: "INC-1", Action: approval.BypassOn, Duration: time.Hour, RequestedBy: incident.Person{ID: "U1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(ctx, b.ID, incident.Person{ID: "U2"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CancelApproved(ctx, func(*approval.Request) bool { return true }, approval.VoidBypassOff); err != nil {
		t.Fatal(err)
	}
	cancelled, err := s.Get(ctx, b.ID)
	if err != nil || cancelled.Outcome == nil || cancelled.Outcome.Status != approval.NotCarriedOut ||
		cancelled.Outcome.Summary != "Not carried out: bypass turned off before it was; nothing was done." {
		t.Fatalf("cancelled outcome %+v %v", cancelled.Outcome, err)
	}
	if raw := rdb.Get(ctx, prefix+"approval:"+b.ID).Val(); slackMarkup.MatchString(raw) {
		t.Fatalf("stored cancellation is not plain data: %s", raw)
	}
}

// A request whose outcome is stored as a bare string of Slack text is
// read as done (off the outbox), its text kept as a legacy summary;
// rewriting the request keeps it legacy.
func TestOldStringOutcomeIsStillRead(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	s := approval.NewStore(rdb, prefix, 15*time.Minute, time.Now)
	old := `{"id":"apr-abcdefghijkl","incident":"INC-1","action":"lockout","summary":"Ban 1 user(s)","requested_by":{"id":"U1"},` +
		`"status":"approved","outcome":":lock: *Lockout* (apr-abcdefghijkl)\n• user_1: banned, sign-in blocked"}`
	if err := rdb.Set(ctx, prefix+"approval:apr-abcdefghijkl", old, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, "apr-abcdefghijkl")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Outcome.Legacy() || r.Outcome.Summary != ":lock: *Lockout* (apr-abcdefghijkl)\n• user_1: banned, sign-in blocked" {
		t.Fatalf("old outcome read as %+v", r.Outcome)
	}
	if got, err := s.Unfinished(ctx, "INC-1"); err != nil || len(got) != 0 {
		t.Fatalf("an old carried-out request reads as unfinished: %+v %v", got, err)
	}
	if err := s.SetMessage(ctx, r.ID, "C1", "1.2"); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Get(ctx, r.ID); err != nil || !again.Outcome.Legacy() || again.Outcome.Summary != r.Outcome.Summary {
		t.Fatalf("rewritten old outcome %+v %v", again.Outcome, err)
	}
}
