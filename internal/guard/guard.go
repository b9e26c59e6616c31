// Package guard is the owner of every goroutine the program starts: a
// panic is recovered, logged with its stack, told once in Slack, and the
// job carries on (the loop turns again, the next sweep retries).
package guard

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/sirupsen/logrus"
)

// Alarm tells people, once, that a background job failed (the publisher:
// the incident's thread, or the channel).
type Alarm interface {
	Failed(ctx context.Context, job, incidentID string)
}

// Guard recovers panics. The zero Guard only logs to a discarded logger;
// build one with New.
type Guard struct {
	log   logrus.FieldLogger
	alarm Alarm
	hook  func(job string)
}

// New builds a guard. hook, if set, runs inside every guarded call before
// the job itself: tests make it panic to prove each loop survives.
func New(log logrus.FieldLogger, alarm Alarm, hook func(job string)) *Guard {
	return &Guard{log: log, alarm: alarm, hook: hook}
}

// Run runs fn and reports whether it panicked (the panic is handled).
func (g *Guard) Run(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) (panicked bool) {
	if g == nil {
		fn(ctx)
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			panicked = true
			g.log.WithFields(logrus.Fields{"job": job, "incident": incidentID, "panic": fmt.Sprint(p), "stack": string(debug.Stack())}).
				Error("background job panicked; it carries on")
			if g.alarm != nil {
				g.alarmSafely(context.WithoutCancel(ctx), job, incidentID)
			}
		}
	}()
	if g.hook != nil {
		g.hook(job)
	}
	fn(ctx)
	return false
}

// alarmSafely tells Slack; a failure to tell is only logged.
func (g *Guard) alarmSafely(ctx context.Context, job, incidentID string) {
	defer func() {
		if p := recover(); p != nil {
			g.log.WithField("panic", fmt.Sprint(p)).Error("could not report a panic")
		}
	}()
	g.alarm.Failed(ctx, job, incidentID)
}

// Go runs fn in a goroutine under Run and returns a channel closed when
// it ends.
func (g *Guard) Go(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Run(ctx, job, incidentID, fn)
	}()
	return done
}

// Loop runs fn again whenever it panics, until ctx ends: for loops that
// must never stop (the escalation engine, the socket listener).
func (g *Guard) Loop(ctx context.Context, job string, fn func(ctx context.Context)) {
	for ctx.Err() == nil {
		if !g.Run(ctx, job, "", fn) {
			return
		}
	}
}
