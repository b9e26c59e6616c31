package usecase

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// Vercel is what a rollback needs of Vercel.
type Vercel interface {
	Project(ctx context.Context) (*vercel.Project, error)
	Rollback(ctx context.Context, projectID, to, description string) error
	Follow(ctx context.Context, to string, since time.Time, wait func(ctx context.Context) error) (*vercel.AliasRequest, error)
}

// RollbackDoer carries out an approved rollback. It is safe to run again
// after a crash: it first looks on the project for the rollback it may
// have asked for already (lastAliasRequest) and follows that instead of
// asking twice.
type RollbackDoer struct {
	Vercel Vercel // nil when Vercel is not configured
	Pub    Ticker // ticks "rollback if necessary"; may be nil
	Log    logrus.FieldLogger
	// Wait sleeps between polls of the rollback's job (default 2 s).
	Wait func(ctx context.Context) error
}

// CarryOut implements approval.Doer. The outcome's one result is the
// deployment rolled back to.
func (r RollbackDoer) CarryOut(ctx context.Context, ar *approval.Request) *approval.Outcome {
	if r.Vercel == nil {
		return approval.Failure("Vercel is not configured; nothing was done.")
	}
	ctx = vercel.WithActor(ctx, "bot", ar.Incident)
	to, from := approval.RollbackTargets(ar)
	said := func(status string, res approval.TargetResult, format string, a ...any) *approval.Outcome {
		res.Target = to
		return &approval.Outcome{Status: status, Summary: fmt.Sprintf(format, a...), Results: []approval.TargetResult{res}}
	}
	proj, err := r.Vercel.Project(ctx)
	if err != nil {
		return said(approval.Failed, approval.TargetResult{Error: err.Error()}, "%s Nothing was done.", capital(err.Error()))
	}
	since := ar.DecidedAt
	if vercel.RollbackOf(proj, to, since) == nil {
		switch cur := proj.Production(); {
		case cur == to:
			return said(approval.Done, approval.TargetResult{OK: true, Done: "already serves production"}, "it already serves production; nothing was done.")
		case cur != from:
			return said(approval.NotCarriedOut, approval.TargetResult{}, "not carried out: production changed since the request (it is %s now, not %s). Nothing was done; run deploys and ask again.", cur, from)
		}
		if err := r.Vercel.Rollback(ctx, proj.ID, to, "clerk-incident-bot "+ar.Incident+" "+ar.ID); err != nil {
			r.Log.WithError(err).WithField("approval", ar.ID).Warn("vercel rollback refused")
			return said(approval.Failed, approval.TargetResult{Error: err.Error()}, "%s", err.Error())
		}
		r.Log.WithField("approval", ar.ID).WithField("to", to).Info("vercel rollback requested")
	}
	wait := r.Wait
	if wait == nil {
		wait = func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Second):
				return nil
			}
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	a, err := r.Vercel.Follow(fctx, to, since, wait)
	switch {
	case err != nil && a == nil:
		return said(approval.Unsure, approval.TargetResult{Done: "requested", Error: err.Error()}, "requested, but its progress could not be read: %s Check the Vercel dashboard.", err.Error())
	case err != nil:
		return said(approval.Unsure, approval.TargetResult{Done: "requested", Error: err.Error()}, "requested; it was %s when its progress could no longer be read (%s). Check the Vercel dashboard.", a.JobStatus, err.Error())
	case a.JobStatus == "succeeded":
		if r.Pub != nil {
			r.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepRollback, "rollback "+ar.ID)
		}
		return said(approval.Done, approval.TargetResult{OK: true, Done: approval.RolledBack}, "succeeded; %s serves production again (it was %s).", to, from)
	}
	return said(approval.Failed, approval.TargetResult{Done: "requested", Error: "job " + a.JobStatus}, "Vercel's rollback job ended %s; production is unchanged. Check the Vercel dashboard.", a.JobStatus)
}
