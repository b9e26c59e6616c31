package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// The app family's approval doer: the rollback, once a second person
// approved it (the family's commands are in package commands).

// Rollback is the approval action of `rollback`.
const Rollback = commands.Rollback

// The checklist steps the app family performs.
const (
	StepCheckDeploys = incident.StepCheckDeploys
	StepVerifyEnv    = incident.StepVerifyEnv
	StepRollback     = incident.StepRollback
)

// Vercel is what the app family needs of Vercel.
type Vercel interface {
	Deployments(ctx context.Context, n int) ([]vercel.Deployment, error)
	Project(ctx context.Context) (*vercel.Project, error)
	Envs(ctx context.Context) ([]vercel.Env, error)
	Value(ctx context.Context, e vercel.Env) (string, error)
	Rollback(ctx context.Context, projectID, to, description string) error
	Follow(ctx context.Context, to string, since time.Time, wait func(ctx context.Context) error) (*vercel.AliasRequest, error)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// rollbackTargets reads a request's "to …" and "from …".
func rollbackTargets(ar *approval.Request) (to, from string) {
	for _, t := range ar.Targets {
		if v, ok := strings.CutPrefix(t, "to "); ok {
			to = v
		}
		if v, ok := strings.CutPrefix(t, "from "); ok {
			from = v
		}
	}
	return to, from
}

// RollbackDoer carries out an approved rollback. It is safe to run again
// after a crash: it first looks on the project for the rollback it may
// have asked for already (lastAliasRequest) and follows that instead of
// asking twice.
type RollbackDoer struct {
	Vercel Vercel // nil when Vercel is not configured
	Pub    *publish.Publisher
	Log    logrus.FieldLogger
	// Wait sleeps between polls of the rollback's job (default 2 s).
	Wait func(ctx context.Context) error
}

// CarryOut implements approval.Doer.
func (d RollbackDoer) CarryOut(ctx context.Context, ar *approval.Request) string {
	if d.Vercel == nil {
		return ":x: Vercel is not configured; nothing was done."
	}
	ctx = vercel.WithActor(ctx, "bot", ar.Incident)
	to, from := rollbackTargets(ar)
	head := fmt.Sprintf(":rewind: *Rollback* (%s) to `%s`: ", ar.ID, to)
	proj, err := d.Vercel.Project(ctx)
	if err != nil {
		return head + ":x: " + capital(err.Error()) + " Nothing was done."
	}
	since := ar.DecidedAt
	if vercel.RollbackOf(proj, to, since) == nil {
		switch cur := proj.Production(); {
		case cur == to:
			return head + "it already serves production; nothing was done."
		case cur != from:
			return head + fmt.Sprintf(":no_entry_sign: not carried out: production changed since the request (it is `%s` now, not `%s`). Nothing was done; run `deploys` and ask again.", cur, from)
		}
		if err := d.Vercel.Rollback(ctx, proj.ID, to, "clerk-incident-bot "+ar.Incident+" "+ar.ID); err != nil {
			d.Log.WithError(err).WithField("approval", ar.ID).Warn("vercel rollback refused")
			return head + ":x: " + err.Error()
		}
		d.Log.WithField("approval", ar.ID).WithField("to", to).Info("vercel rollback requested")
	}
	wait := d.Wait
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
	a, err := d.Vercel.Follow(fctx, to, since, wait)
	switch {
	case err != nil && a == nil:
		return head + ":warning: requested, but its progress could not be read: " + err.Error() + " Check the Vercel dashboard."
	case err != nil:
		return head + fmt.Sprintf(":warning: requested; it was %s when its progress could no longer be read (%s). Check the Vercel dashboard.", a.JobStatus, err.Error())
	case a.JobStatus == "succeeded":
		if d.Pub != nil {
			d.Pub.AutoTick(ctx, ar.Incident, ar.RequestedBy, StepRollback, "rollback "+ar.ID)
		}
		return head + fmt.Sprintf(":white_check_mark: succeeded; `%s` serves production again (it was `%s`).", to, from)
	}
	return head + fmt.Sprintf(":x: Vercel's rollback job ended %s; production is unchanged. Check the Vercel dashboard.", a.JobStatus)
}
