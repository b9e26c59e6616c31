package usecase_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// sessionClerk answers as clerkops.Client: users by ID or e-mail, and a
// scripted revoke result per user.
type sessionClerk struct {
	users   []account.User
	results map[string]account.RevokeResult
	unlock  error
	unbans  []string
}

func (c *sessionClerk) FindUsers(_ context.Context, refs []string) ([]account.User, []string, error) {
	var found []account.User
	var unknown []string
	for _, ref := range refs {
		hit := false
		for _, u := range c.users {
			if u.ID == ref || strings.EqualFold(u.Email, ref) {
				found, hit = append(found, u), true
			}
		}
		if !hit {
			unknown = append(unknown, ref)
		}
	}
	return found, unknown, nil
}

func (c *sessionClerk) RevokeMany(_ context.Context, ids []string, _ int, _ bool, progress func(done, failed int)) []account.RevokeResult {
	out := make([]account.RevokeResult, len(ids))
	for i, id := range ids {
		out[i] = c.results[id]
		out[i].User = id
		progress(i+1, 0)
	}
	return out
}

func (c *sessionClerk) Unban(_ context.Context, id string) (account.User, error) {
	c.unbans = append(c.unbans, id)
	return account.User{ID: id}, nil
}

func (c *sessionClerk) Unlock(_ context.Context, id string) (account.User, error) {
	return account.User{ID: id}, c.unlock
}

// sessionRecord keeps what a use case recorded and showed.
type sessionRecord struct {
	entries  []string
	affected []string
	thread   []string
	files    []string
	ticks    []string
}

func (s *sessionRecord) Update(_ context.Context, id string, fn incident.Mutation) (*incident.Incident, error) {
	inc := &incident.Incident{ID: id}
	entries, err := fn(inc, time.Now())
	for _, e := range entries {
		s.entries = append(s.entries, e.Text)
	}
	return inc, err
}

func (s *sessionRecord) AddAffected(_ context.Context, _ string, users []incident.AffectedUser, what string, _ incident.Person) error {
	for _, u := range users {
		s.affected = append(s.affected, u.ID+" "+what)
	}
	return nil
}

type noProgress struct{}

func (noProgress) Update(int, int)        {}
func (noProgress) Finish(context.Context) {}

func (s *sessionRecord) StartProgress(context.Context, *incident.Incident, string, int) usecase.Progress {
	return noProgress{}
}
func (s *sessionRecord) Attach(_ context.Context, _ *incident.Incident, name, _, content, _ string) {
	s.files = append(s.files, name+"\n"+content)
}
func (s *sessionRecord) Thread(_ context.Context, _ *incident.Incident, text string) {
	s.thread = append(s.thread, text)
}
func (s *sessionRecord) AutoTick(_ context.Context, _ string, _ incident.Person, step, what string) {
	s.ticks = append(s.ticks, step+" "+what)
}

func quietLog() logrus.FieldLogger {
	log := logrus.New()
	log.SetOutput(io.Discard)
	return log
}

// A revoke's results are data, one per user found, worded as a lockout's:
// the asker reads e-mails, the thread IDs and initials and only a count
// of what was not found; a user whose revoke failed is not recorded as
// revoked.
func TestRevokeReturnsPerUserResultsAsData(t *testing.T) {
	c := &sessionClerk{
		users: []account.User{{ID: "user_ann", Email: "ann@example.com", Name: "Ann Lee"}, {ID: "user_bob", Email: "bob@example.com", Name: "Bob"},
			{ID: "user_cy", Email: "cy@example.com", Name: "Cy"}, {ID: "user_di", Email: "di@example.com", Name: "Di"}},
		results: map[string]account.RevokeResult{"user_ann": {Revoked: 3}, "user_bob": {Revoked: 1, Left: 1}, "user_cy": {Err: errors.New("Clerk refused (403)")}},
	}
	rec := &sessionRecord{}
	s := usecase.NewSessions(c, rec, rec, rec, time.Now, quietLog())
	inc := &incident.Incident{ID: "INC-1", Channel: "CINC"}
	who := incident.Person{ID: "U1", Name: "alice"}
	out, err := s.Revoke(context.Background(), inc, who, []string{"ann@example.com", "user_bob", "user_cy", "di@example.com", "ghost@example.com"}, []string{"nope"})
	if err != nil {
		t.Fatal(err)
	}
	want := []approval.TargetResult{
		{Target: "user_ann", Name: "Ann Lee", OK: true, Done: "3 revoked, none active"},
		{Target: "user_bob", Name: "Bob", Done: "1 revoked", Error: "1 still active"},
		{Target: "user_cy", Name: "Cy", Error: "Clerk refused (403)"},
		{Target: "user_di", Name: "Di", OK: true, Done: "no active sessions, nothing to revoke"},
	}
	if len(out.Outcome.Results) != len(want) {
		t.Fatalf("results %+v", out.Outcome.Results)
	}
	for i, w := range want {
		if out.Outcome.Results[i] != w {
			t.Errorf("result %d = %+v, want %+v", i, out.Outcome.Results[i], w)
		}
	}
	if out.Sessions != 3 || out.Failed != 2 || out.Outcome.Status != approval.Failed || strings.Join(out.Outcome.Unknown, ",") != "ghost@example.com" {
		t.Fatalf("outcome %+v", out)
	}
	if got := strings.Join(rec.affected, ";"); got != "user_ann sessions revoked;user_bob sessions revoked;user_di sessions revoked" {
		t.Fatalf("affected %q", got)
	}
	if len(rec.entries) != 1 || rec.entries[0] != "Revoked 3 sessions of 4 users (2 failed); 1 not found in Clerk" {
		t.Fatalf("timeline %q", rec.entries)
	}
	if len(rec.thread) != 1 || strings.Contains(rec.thread[0], "@example.com") || !strings.Contains(rec.thread[0], "user_ann (A.L.): 3 revoked, none active") ||
		!strings.Contains(rec.thread[0], "2 of the targets given were not found") || !strings.HasPrefix(rec.thread[0], ":lock: *Sessions revoked* by <@U1>") {
		t.Fatalf("thread %q", rec.thread)
	}
	if strings.Join(rec.ticks, ",") != incident.StepRevokeSessions+" revoke" {
		t.Fatalf("ticks %q", rec.ticks)
	}
	reply := render.RevokeReply(render.Revoke{By: who, Outcome: &out.Outcome, Sessions: out.Sessions, Failed: out.Failed,
		Emails: map[string]string{"user_ann": "ann@example.com (user_ann)"}, Invalid: []string{"nope"}})
	lines := strings.Split(reply, "\n")
	if len(lines) != 7 || !strings.Contains(lines[1], "user_bob: 1 revoked; :warning: 1 still active") || !strings.Contains(lines[2], "user_cy: :x: Clerk refused (403)") ||
		lines[3] != "• ann@example.com (user_ann): 3 revoked, none active" || lines[5] != ":grey_question: Not found in Clerk: ghost@example.com" ||
		lines[6] != ":grey_question: Not a user ID or e-mail, skipped: nope" {
		t.Fatalf("reply:\n%s", reply)
	}
}

// Refs that match nobody send nothing to Clerk and change nothing.
func TestRevokeOfNobodyChangesNothing(t *testing.T) {
	rec := &sessionRecord{}
	s := usecase.NewSessions(&sessionClerk{}, rec, rec, rec, time.Now, quietLog())
	out, err := s.Revoke(context.Background(), &incident.Incident{ID: "INC-1"}, incident.Person{ID: "U1"}, []string{"ghost@example.com"}, nil)
	if err != nil || len(out.Users) != 0 || len(out.Outcome.Unknown) != 1 {
		t.Fatalf("%+v %v", out, err)
	}
	if len(rec.entries)+len(rec.thread)+len(rec.affected)+len(rec.ticks) != 0 {
		t.Fatalf("recorded %+v", rec)
	}
}

// An unlock lifts the ban; Clerk refusing the unlock (user lockout off)
// still counts, other errors do not; nobody matched changes nothing.
func TestUnlockSaysWhatWasLifted(t *testing.T) {
	ann := account.User{ID: "user_ann", Email: "ann@example.com", Name: "Ann Lee"}
	for _, tc := range []struct {
		name       string
		unlock     error
		ref        string
		lockoutOff bool
		err        bool
	}{
		{"unlocked", nil, "ann@example.com", false, false},
		{"lockout off", apperr.New(apperr.ClerkForbidden, "Clerk refused this operation (403)"), "user_ann", true, false},
		{"unlock fails", apperr.New(apperr.UnavailableClerk, "Clerk does not answer"), "user_ann", false, true},
		{"nobody", nil, "ghost@example.com", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &sessionClerk{users: []account.User{ann}, unlock: tc.unlock}
			rec := &sessionRecord{}
			s := usecase.NewSessions(c, rec, rec, rec, time.Now, quietLog())
			out, err := s.Unlock(context.Background(), &incident.Incident{ID: "INC-1"}, incident.Person{ID: "U1"}, tc.ref)
			if (err != nil) != tc.err || out.LockoutOff != tc.lockoutOff {
				t.Fatalf("%+v %v", out, err)
			}
			switch {
			case tc.ref == "ghost@example.com":
				if out.User.ID != "" || len(out.Unknown) != 1 || len(c.unbans)+len(rec.thread)+len(rec.entries) != 0 {
					t.Fatalf("%+v %+v", out, rec)
				}
			case tc.err:
				if len(rec.thread)+len(rec.entries)+len(rec.affected) != 0 {
					t.Fatalf("a failed unlock was recorded: %+v", rec)
				}
			default:
				if len(rec.thread) != 1 || strings.Contains(rec.thread[0], "@example.com") || !strings.Contains(rec.thread[0], "user_ann (A.L.)") ||
					len(rec.affected) != 1 || len(rec.entries) != 1 {
					t.Fatalf("%+v", rec)
				}
			}
		})
	}
}
