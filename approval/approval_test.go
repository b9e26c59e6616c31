package approval_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

func TestExactlyOneDecisionWinsAcrossReplicas(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := approval.NewStore(rdb, prefix, 15*time.Minute, clock)
	req, err := a.Create(context.Background(), approval.Request{Incident: "INC-1", Action: "lockout", RequestedBy: incident.Person{ID: "U1"}})
	if err != nil || !approval.ValidID(req.ID) {
		t.Fatalf("%+v %v", req, err)
	}
	// Ten approvers on ten "replicas" click at once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, already := 0, 0
	for i := range 10 {
		wg.Go(func() {
			s := approval.NewStore(rdb, prefix, 15*time.Minute, clock)
			_, err := s.Decide(context.Background(), req.ID, incident.Person{ID: "U" + string(rune('A'+i))}, i%2 == 0)
			var dec *approval.DecidedError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.As(err, &dec):
				already++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || already != 9 {
		t.Fatalf("wins %d, already decided %d", wins, already)
	}
}

func TestSelfApprovalUnknownAndExpiry(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	s := approval.NewStore(rdb, prefix, 15*time.Minute, func() time.Time { return now })
	ctx := context.Background()
	req, _ := s.Create(ctx, approval.Request{Incident: "INC-1", Action: "bypass_on", RequestedBy: incident.Person{ID: "U1"}})
	if _, err := s.Decide(ctx, req.ID, incident.Person{ID: "U1"}, true); !errors.Is(err, approval.ErrSelf) {
		t.Fatalf("self approval: %v", err)
	}
	for _, bad := range []string{"apr-doesnotexist", "apr-../../x", "", "INC-1"} {
		if _, err := s.Decide(ctx, bad, incident.Person{ID: "U2"}, true); !errors.Is(err, approval.ErrUnknown) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	now = now.Add(15 * time.Minute)
	var expired []string
	if err := s.ExpireDue(ctx, func(ctx context.Context, r *approval.Request) { expired = append(expired, r.ID) }); err != nil {
		t.Fatal(err)
	}
	if len(expired) != 1 || expired[0] != req.ID {
		t.Fatalf("expired %v", expired)
	}
	// A second sweep (another replica) announces nothing more.
	if err := s.ExpireDue(ctx, func(ctx context.Context, r *approval.Request) { t.Fatal("expired twice") }); err != nil {
		t.Fatalf("second sweep: %v", err)
	}
	var dec *approval.DecidedError
	if _, err := s.Decide(ctx, req.ID, incident.Person{ID: "U2"}, true); !errors.As(err, &dec) {
		t.Fatalf("after expiry: %v", err)
	}
	// The requester may withdraw (deny) their own request.
	req2, _ := s.Create(ctx, approval.Request{Incident: "INC-1", Action: "lockout", RequestedBy: incident.Person{ID: "U1"}})
	if r, err := s.Decide(ctx, req2.ID, incident.Person{ID: "U1"}, false); err != nil || r.Status != approval.Denied {
		t.Fatalf("withdraw: %+v %v", r, err)
	}
}

// Unfinished lists an incident's approved requests until their outcome is
// recorded: pending, denied and other incidents' requests are not in it.
func TestUnfinishedIsApprovedWithoutOutcome(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	s := approval.NewStore(rdb, prefix, 15*time.Minute, func() time.Time { return now })
	ctx := context.Background()
	mk := func(inc string) *approval.Request {
		r, err := s.Create(ctx, approval.Request{Incident: inc, Action: approval.Lockout, RequestedBy: incident.Person{ID: "U1"}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	approved, pending, denied, other := mk("INC-1"), mk("INC-1"), mk("INC-1"), mk("INC-2")
	_ = pending
	for _, r := range []*approval.Request{approved, other} {
		if _, err := s.Decide(ctx, r.ID, incident.Person{ID: "U2"}, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Decide(ctx, denied.ID, incident.Person{ID: "U2"}, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.Unfinished(ctx, "INC-1")
	if err != nil || len(got) != 1 || got[0].ID != approved.ID {
		t.Fatalf("unfinished %+v %v, want only %s", got, err, approved.ID)
	}
	if err := s.SetOutcome(ctx, approved.ID, &approval.Outcome{Status: approval.Done, Summary: "banned"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Unfinished(ctx, "INC-1"); err != nil || len(got) != 0 {
		t.Fatalf("after the outcome: %+v %v", got, err)
	}
}

// An Approve clicked at the expiry, before any sweep marked the request
// expired, is refused as expired and changes nothing; a click a moment
// before the expiry still counts.
func TestApproveAtTheExpiryBeforeTheSweepIsRefused(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	start := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	now := start
	s := approval.NewStore(rdb, prefix, 15*time.Minute, func() time.Time { return now })
	ctx := context.Background()
	late, err := s.Create(ctx, approval.Request{Incident: "INC-1", Action: "lockout", RequestedBy: incident.Person{ID: "U1"}})
	if err != nil {
		t.Fatal(err)
	}
	inTime, err := s.Create(ctx, approval.Request{Incident: "INC-1", Action: "lockout", RequestedBy: incident.Person{ID: "U1"}})
	if err != nil {
		t.Fatal(err)
	}
	now = late.ExpiresAt.Add(-time.Millisecond)
	if r, err := s.Decide(ctx, inTime.ID, incident.Person{ID: "U2"}, true); err != nil || r.Status != approval.Approved {
		t.Fatalf("a moment before the expiry: %+v %v", r, err)
	}
	now = late.ExpiresAt
	for _, approve := range []bool{true, false} {
		var exp *approval.ExpiredError
		if _, err := s.DecideAndClaim(ctx, late.ID, incident.Person{ID: "U2"}, approve, "replica-1"); !errors.As(err, &exp) {
			t.Fatalf("decided (approve %v) at the expiry: %v", approve, err)
		}
	}
	r, err := s.Get(ctx, late.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != approval.Pending || r.DecidedBy != nil {
		t.Fatalf("a refused late click changed the request: %+v", r)
	}
	if ids, err := s.Unexecuted(ctx); err != nil || len(ids) != 1 || ids[0] != inTime.ID {
		t.Fatalf("to carry out: %v %v", ids, err)
	}
}
