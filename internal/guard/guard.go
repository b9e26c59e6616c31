// Package guard is the owner of every goroutine the program starts: a
// panic is recovered, logged with its stack, told once in Slack, and the
// job carries on (the loop turns again, the next sweep retries).
package guard

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/sirupsen/logrus"
)

// Alarm tells people, once, that a background job failed (the publisher:
// the incident's thread, or the channel).
type Alarm interface {
	Failed(ctx context.Context, job, incidentID string)
}

// Guard recovers panics. The zero Guard recovers and logs to a discarded
// logger (no alarm); build one with New.
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
	return g.run(ctx, job, incidentID, fn) != nil
}

// run runs fn and returns what it panicked with, after logging the stack
// and raising the alarm.
func (g *Guard) run(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) (value any) {
	if g == nil {
		fn(ctx)
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			value = p
			g.logger().WithFields(logrus.Fields{"job": job, "incident": incidentID, "panic": fmt.Sprint(p), "stack": string(debug.Stack())}).
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
	return nil
}

// Panic is the error Call returns for a panic.
type Panic struct {
	Job   string
	Value any
}

func (p *Panic) Error() string { return fmt.Sprintf("%s panicked: %v", p.Job, p.Value) }

// Call runs fn under Run and returns its error, or a *Panic when it
// panicked (logged and told like any other): for a caller that must know
// the work failed.
func (g *Guard) Call(ctx context.Context, job, incidentID string, fn func(ctx context.Context) error) error {
	var err error
	if p := g.run(ctx, job, incidentID, func(ctx context.Context) { err = fn(ctx) }); p != nil {
		return &Panic{Job: job, Value: p}
	}
	return err
}

// logger is the guard's logger, or a discarded one for the zero Guard.
func (g *Guard) logger() logrus.FieldLogger {
	if g.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		return l
	}
	return g.log
}

// alarmSafely tells Slack; a failure to tell is only logged.
func (g *Guard) alarmSafely(ctx context.Context, job, incidentID string) {
	defer func() {
		if p := recover(); p != nil {
			g.logger().WithField("panic", fmt.Sprint(p)).Error("could not report a panic")
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
