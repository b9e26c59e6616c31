package usecase_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// accountClerk answers Investigate as clerkops.Client: two sessions, one
// from another country.
type accountClerk struct{ sessionClerk }

func (c *accountClerk) Investigate(ctx context.Context, ref string) (account.Profile, []account.SessionInfo, error) {
	found, _, _ := c.FindUsers(ctx, []string{ref})
	if len(found) == 0 {
		return account.Profile{}, nil, apperr.New(apperr.NotFound, "no Clerk user "+ref)
	}
	return account.Profile{User: found[0]}, []account.SessionInfo{{ID: "sess_1", IP: "192.0.2.1", Country: "DE"}, {ID: "sess_2", IP: "198.51.100.7", Country: "DE"}, {ID: "sess_3", IP: "203.0.113.9", Country: "BR"}}, nil
}

// An investigation on an incident with a thread is recorded by user ID
// and counts (no IP, no place); elsewhere nothing is recorded.
func TestInvestigationRecordsIDsAndCountsOnly(t *testing.T) {
	c := &accountClerk{sessionClerk{users: []account.User{{ID: "user_ann", Email: "ann@example.com", Name: "Ann"}}}}
	rec := &sessionRecord{}
	inv := usecase.NewInvestigation(c, rec, rec, rec, quietLog())
	who := incident.Person{ID: "U1"}
	if _, _, err := inv.Investigate(context.Background(), &incident.Incident{ID: "INC-1"}, who, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	if len(rec.entries)+len(rec.affected)+len(rec.ticks) != 0 {
		t.Fatalf("recorded without a thread: %+v", rec)
	}
	_, sessions, err := inv.Investigate(context.Background(), &incident.Incident{ID: "INC-1", Channel: "CINC"}, who, "ann@example.com")
	if err != nil || len(sessions) != 3 {
		t.Fatal(sessions, err)
	}
	if len(rec.entries) != 1 || rec.entries[0] != "Investigated user_ann: 3 active session(s), 1 flagged" ||
		strings.Join(rec.affected, ",") != "user_ann investigated" || strings.Join(rec.ticks, ",") != incident.StepAffected+" user" {
		t.Fatalf("%+v", rec)
	}
	if _, _, err := inv.Investigate(context.Background(), nil, who, "ghost@example.com"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a ref matching nobody: %v", err)
	}
}

// Accounts added by hand are looked up in Clerk (those not found are not
// added); without Clerk they are kept as given.
func TestAddAffectedWithAndWithoutClerk(t *testing.T) {
	who := incident.Person{ID: "U1"}
	rec := &sessionRecord{}
	c := &accountClerk{sessionClerk{users: []account.User{{ID: "user_ann", Email: "ann@example.com"}}}}
	added, unknown, err := usecase.NewInvestigation(c, rec, rec, rec, quietLog()).AddAffected(context.Background(), "INC-1", []string{"ann@example.com", "ghost@example.com"}, who)
	if err != nil || len(added) != 1 || added[0].ID != "user_ann" || strings.Join(unknown, ",") != "ghost@example.com" {
		t.Fatal(added, unknown, err)
	}
	rec = &sessionRecord{}
	inv := usecase.NewInvestigation(nil, rec, rec, rec, quietLog())
	if inv.Configured() {
		t.Fatal("configured without Clerk")
	}
	added, unknown, err = inv.AddAffected(context.Background(), "INC-1", []string{"user_bob", "eve@example.com"}, who)
	if err != nil || len(unknown) != 0 || len(added) != 2 || added[0].ID != "user_bob" || added[0].Email != "" || added[1].Email != "eve@example.com" {
		t.Fatal(added, unknown, err)
	}
	if strings.Join(rec.affected, ",") != "user_bob added by hand,eve@example.com added by hand" || rec.entries[0] != "Affected accounts: 2 added by hand" {
		t.Fatalf("%+v", rec)
	}
}
