package guard_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

type alarms struct {
	mu   sync.Mutex
	jobs []string
}

func (a *alarms) Failed(ctx context.Context, job, incidentID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.jobs = append(a.jobs, job+" "+incidentID)
}

// Call hands back fn's own error, or the panic as a *Panic after logging
// its stack and raising the alarm once.
func TestCallReturnsThePanicAsAnError(t *testing.T) {
	log, hook := test.NewNullLogger()
	a := &alarms{}
	g := guard.New(log, a, nil)
	want := errors.New("plain failure")
	if err := g.Call(context.Background(), "job", "INC-1", func(context.Context) error { return want }); err != want {
		t.Fatalf("plain error: %v", err)
	}
	err := g.Call(context.Background(), "PagerDuty trigger", "INC-2", func(context.Context) error { panic("client bug") })
	var p *guard.Panic
	if !errors.As(err, &p) || p.Value != "client bug" || err.Error() != "PagerDuty trigger panicked: client bug" {
		t.Fatalf("panic error: %v", err)
	}
	if len(a.jobs) != 1 || a.jobs[0] != "PagerDuty trigger INC-2" {
		t.Fatalf("alarms %v", a.jobs)
	}
	if e := hook.LastEntry(); e == nil || e.Level != logrus.ErrorLevel || e.Data["stack"] == "" {
		t.Fatalf("log %+v", e)
	}
}

// The zero Guard recovers too (it logs nowhere and raises no alarm):
// packages use it when they are given no guard.
func TestZeroGuardRecovers(t *testing.T) {
	var g guard.Guard
	if !g.Run(context.Background(), "job", "", func(context.Context) { panic("bug") }) {
		t.Fatal("panic not reported")
	}
}
