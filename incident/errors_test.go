package incident_test

import (
	"context"
	"errors"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// The store's refusals carry what the user's sentence needs as fields: the
// missing incident's ID, why a change changed nothing. Their strings stay
// as they were (logs) and they still are ErrNotFound / ErrNoChange.
func TestRefusalsCarryTheirFields(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_, err := s.Get(ctx, "INC-99")
	var nf *incident.NotFoundError
	if !errors.As(err, &nf) || nf.ID != "INC-99" || !errors.Is(err, incident.ErrNotFound) || err.Error() != "INC-99: incident not found" {
		t.Fatalf("missing incident: %v (%+v)", err, nf)
	}
	u := incident.Person{ID: "U1"}
	inc, err := s.Open(ctx, incident.OpenParams{Category: incident.Outage, Title: "x", By: u})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, inc.ID, incident.Mitigate(u, "")); err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, inc.ID, incident.Mitigate(u, ""))
	var nc *incident.NoChangeError
	if !errors.As(err, &nc) || nc.Why != "already mitigated" || !errors.Is(err, incident.ErrNoChange) {
		t.Fatalf("second mitigate: %v (%+v)", err, nc)
	}
	rb, err := incident.LoadRunbook("runbook.yml", incident.DefaultRunbook())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, inc.ID, incident.SetTick(rb, u, "4a", true)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, inc.ID, incident.SetTick(rb, u, "4a", true))
	if !errors.As(err, &nc) || nc.Why != "step 4a is already ticked" {
		t.Fatalf("double tick: %v (%+v)", err, nc)
	}
}
