package usecase

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// The app's half of an auth outage on Vercel: its production deploys
// (listed, set against an incident's open, picked for a rollback). The
// data here is the app family's; vercel's types stay on this side.

// DeploySource is what reading the app's deployments needs of Vercel
// (vercel.Client).
type DeploySource interface {
	Deployments(ctx context.Context, n int) ([]vercel.Deployment, error)
	Project(ctx context.Context) (*vercel.Project, error)
}

// Deploy is one production deployment of the app, as responders read it.
type Deploy struct {
	ID      string
	Status  string    // READY, ERROR, BUILDING…
	At      time.Time // when it went live, else when it was made
	SHA     string    // the Git commit, short; "" when not from Git
	Message string    // the commit message's first line
	Author  string    // the commit's author, else who deployed
	Link    string    // where a person looks at it
	// RollbackCandidate is false for one that never served production
	// (built with --skip-domain, or staged): Vercel refuses to roll back
	// to it.
	RollbackCandidate bool
}

func deployOf(d vercel.Deployment) Deploy {
	return Deploy{ID: d.UID, Status: d.Status(), At: d.At(), SHA: d.SHA(), Message: d.Message(), Author: d.Author(),
		Link: d.Link(), RollbackCandidate: d.RollbackCandidate()}
}

func deploysOf(ds []vercel.Deployment) []Deploy {
	out := make([]Deploy, len(ds))
	for i, d := range ds {
		out[i] = deployOf(d)
	}
	return out
}

// DeployList is the project's last production deployments, newest first.
type DeployList struct {
	Project    string // the project's name
	Production string // the deployment serving production; "" when none
	Deploys    []Deploy
	// Moving is the project's last promote or rollback while it still
	// runs, else nil.
	Moving *AliasMove
}

// AliasMove is a promote or rollback of production that has not ended.
type AliasMove struct {
	Type   string // promote, rollback
	To     string // the deployment production moves to
	Status string // pending, in-progress
}

// Deployments reads the app's production deployments for `deploys` and
// picks the two ends of a rollback for `rollback`.
type Deployments struct {
	Vercel DeploySource
}

// List is the project's last n production deployments; who asked is
// named on each call (the audit log).
func (d Deployments) List(ctx context.Context, who string, n int) (DeployList, error) {
	ctx = vercel.WithActor(ctx, who, "")
	proj, err := d.Vercel.Project(ctx)
	if err != nil {
		return DeployList{}, err
	}
	deps, err := d.Vercel.Deployments(ctx, n)
	if err != nil {
		return DeployList{}, err
	}
	list := DeployList{Project: proj.Name, Production: proj.Production(), Deploys: deploysOf(deps)}
	if a := proj.LastAliasRequest; a != nil && !a.Done() {
		list.Moving = &AliasMove{Type: a.Type, To: a.ToDeploymentID, Status: a.JobStatus}
	}
	return list, nil
}

// RollbackRefusal is why a rollback is not asked for ("" when it may be).
type RollbackRefusal string

// The refusals of a rollback plan.
const (
	NoProductionDeploy RollbackRefusal = "no production"  // none of the last 20 serves production
	NoEarlierDeploy    RollbackRefusal = "no earlier"     // `previous` finds no earlier READY one that served production
	DeployNotListed    RollbackRefusal = "not listed"     // the ID is not among the last 20
	DeployServesNow    RollbackRefusal = "already serves" // the target serves production already
	DeployNotReady     RollbackRefusal = "not ready"      // the target cannot serve
	DeployNeverServed  RollbackRefusal = "never served"   // Vercel does not roll back to it
)

// PreviousDeploy asks for the newest READY deployment before the one
// serving production.
const PreviousDeploy = "previous"

// RollbackPlan is the deployment serving production and the one a
// rollback would point it back at, or why none is asked for.
type RollbackPlan struct {
	From, To Deploy
	Refused  RollbackRefusal
}

// PlanRollback picks, among the last 20 production deployments, the one
// serving production and target (a deployment ID, or PreviousDeploy).
func (d Deployments) PlanRollback(ctx context.Context, who, incidentID, target string) (RollbackPlan, error) {
	ctx = vercel.WithActor(ctx, who, incidentID)
	proj, err := d.Vercel.Project(ctx)
	if err != nil {
		return RollbackPlan{}, err
	}
	deps, err := d.Vercel.Deployments(ctx, 20)
	if err != nil {
		return RollbackPlan{}, err
	}
	cur := proj.Production()
	var from, to *vercel.Deployment
	for i, dep := range deps {
		if dep.UID == cur {
			from = &deps[i]
		}
	}
	if from == nil {
		return RollbackPlan{Refused: NoProductionDeploy}, nil
	}
	for i, dep := range deps {
		switch {
		case target == PreviousDeploy && dep.At().Before(from.At()) && dep.Status() == "READY" && dep.RollbackCandidate() && to == nil:
			// Never one that did not serve production (--skip-domain):
			// Vercel refuses it, after two people approved.
			to = &deps[i]
		case dep.UID == target:
			to = &deps[i]
		}
	}
	plan := RollbackPlan{From: deployOf(*from)}
	switch {
	case to == nil && target == PreviousDeploy:
		plan.Refused = NoEarlierDeploy
		return plan, nil
	case to == nil:
		plan.Refused = DeployNotListed
		return plan, nil
	}
	plan.To = deployOf(*to)
	switch {
	case to.UID == from.UID:
		plan.Refused = DeployServesNow
	case to.Status() != "READY":
		plan.Refused = DeployNotReady
	case !to.RollbackCandidate():
		plan.Refused = DeployNeverServed
	}
	return plan, nil
}

// ThreadPoster says in an incident's thread what a check found
// (publish.Outbox).
type ThreadPoster interface {
	Thread(ctx context.Context, inc *incident.Incident, text string)
}

// DeployCheck says, when an incident opens, whether a production deploy
// landed in the two hours before (the runbook's "check recent
// deployments"), and ticks that step with the result.
type DeployCheck struct {
	Vercel DeploySource
	Thread ThreadPoster
	Ticks  Ticker // ticks "check recent deployments" (Ticks)
	Log    logrus.FieldLogger
}

// DeployWindow is how far before an incident a deploy is suspect.
const DeployWindow = 2 * time.Hour

// AfterOpen runs the check for a new incident (the Opener's hook, on the
// command's and the status poller's opens alike).
func (d DeployCheck) AfterOpen(ctx context.Context, inc *incident.Incident) {
	ctx, cancel := context.WithTimeout(vercel.WithActor(context.WithoutCancel(ctx), "bot", inc.ID), 10*time.Second)
	defer cancel()
	deps, err := d.Vercel.Deployments(ctx, 10)
	if err != nil {
		d.Log.WithError(err).WithField("incident", inc.ID).Warn("could not list recent Vercel deployments")
		d.Thread.Thread(ctx, inc, ":warning: Could not check Vercel for a recent production deploy: "+capital(err.Error()))
		return
	}
	text, what := DeployNote(inc, deploysOf(deps))
	d.Thread.Thread(ctx, inc, text)
	d.Ticks.AutoTick(ctx, inc.ID, incident.Person{Name: "bot"}, incident.StepCheckDeploys, what)
}

// DeployNote is the thread line and the tick's "what" for the deploys
// that precede an incident (pure).
func DeployNote(inc *incident.Incident, deps []Deploy) (text, what string) {
	opened := inc.OpenedAt
	var recent []Deploy
	var last *Deploy
	for i, d := range deps {
		if d.At.After(opened) {
			continue
		}
		if last == nil {
			last = &deps[i]
		}
		if opened.Sub(d.At) <= DeployWindow {
			recent = append(recent, d)
		}
	}
	before := func(d Deploy) string {
		m := int(opened.Sub(d.At) / time.Minute)
		if m < 120 {
			return fmt.Sprintf("%d min", m)
		}
		return fmt.Sprintf("%d h", m/60)
	}
	if len(recent) == 0 {
		text = fmt.Sprintf(":white_check_mark: No production deploy of the app in the 2 hours before %s opened", inc.ID)
		if last != nil {
			text += fmt.Sprintf(" (the last, `%s`, landed %s before)", orNoCommit(last.SHA), before(*last))
		}
		return text + ".", "the deploy check (no production deploy in the 2 h before)"
	}
	d := recent[0]
	commit := "a deployment without a Git commit"
	if d.SHA != "" {
		commit = fmt.Sprintf("commit `%s` %s", d.SHA, render.Esc(d.Message))
	}
	text = fmt.Sprintf(":rocket: A production deploy landed %s before %s opened: %s by %s (`%s`, %s).", before(d), inc.ID, commit, render.Esc(d.Author), d.ID, d.Status)
	if len(recent) > 1 {
		text += fmt.Sprintf(" %d more in the 2 hours before.", len(recent)-1)
	}
	text += " If sign-in broke with it, `/clerk-incident rollback previous` asks to roll it back; `/clerk-incident deploys` lists them."
	return text, fmt.Sprintf("the deploy check (deploy %s %s before)", orNoCommit(d.SHA), before(d))
}

func orNoCommit(sha string) string {
	if sha == "" {
		return "without commit"
	}
	return sha
}
