package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// dmPager is a recorder whose DMs have a channel and ts, and which
// rewrites them when told (failing for the channels in broken).
type dmPager struct {
	*recorder
	smu     sync.Mutex
	settled map[string][]string // "D…|ts" → reasons, in order
	broken  map[string]bool
}

func (p *dmPager) Notify(ctx context.Context, inc *incident.Incident, pg escalation.Page, user string) (escalation.DM, error) {
	if _, err := p.recorder.Notify(ctx, inc, pg, user); err != nil {
		return escalation.DM{}, err
	}
	return escalation.DM{Channel: "D" + user, TS: fmt.Sprintf("%d.%d", pg.Step, pg.Repeat)}, nil
}

func (p *dmPager) SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm escalation.DM) error {
	p.smu.Lock()
	defer p.smu.Unlock()
	if p.broken[dm.Channel] {
		return errors.New("slack chat.update: channel_not_found")
	}
	p.settled[dm.Channel+"|"+dm.TS] = append(p.settled[dm.Channel+"|"+dm.TS], reason)
	return nil
}

// Two replicas stop the same ladder at once: every page DM is rewritten
// once for the ack and once for the resolve; one that fails does not stop
// the others and is tried again at the next stop.
func TestPageDMsAreRewrittenOncePerStop(t *testing.T) {
	f := newFixture(t)
	p := &dmPager{recorder: f.pager, settled: map[string][]string{}, broken: map[string]bool{"DU1": true}}
	engine := func() *escalation.Engine {
		log := logrus.New()
		log.SetOutput(io.Discard)
		return escalation.NewEngine(f.rdb, f.prefix, f.store, p, f.clock.Now, log)
	}
	e1, e2 := engine(), engine()
	inc := f.open(t, e1, incident.Outage)
	tick(t, e1)
	f.clock.Add(15 * time.Minute)
	tick(t, e1)
	ctx := context.Background()
	if _, err := f.store.Update(ctx, inc.ID, incident.Ack(incident.Person{ID: "U2", Name: "bob"})); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, e := range []*escalation.Engine{e1, e2, e1, e2} {
		wg.Go(func() { _ = e.Stop(ctx, inc.ID, "acknowledged", "U2") })
	}
	wg.Wait()
	if got := fmt.Sprint(p.settled); got != "map[DU2|1.0:[acknowledged]]" {
		t.Fatalf("after the ack: %s", got)
	}
	p.broken = nil
	if _, err := f.store.Update(ctx, inc.ID, incident.Resolve(incident.Person{ID: "U2", Name: "bob"}, "")); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*escalation.Engine{e2, e1} {
		wg.Go(func() { _ = e.Stop(ctx, inc.ID, "resolved", "U2") })
	}
	wg.Wait()
	if got := fmt.Sprint(p.settled); got != "map[DU1|0.0:[resolved] DU2|1.0:[acknowledged resolved]]" {
		t.Fatalf("after the resolve: %s", got)
	}
}
