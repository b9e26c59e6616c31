package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// The app family: the app's half of an auth outage on Vercel. Recent
// production deploys, the production Clerk variables (never their
// values), and a rollback behind the two-person approval. The reading and
// checking are use cases (usecase.Deployments, usecase.EnvCheck); this
// family parses, asks them and replies.

// Deploys reads the app's deployments and variables on Vercel and asks
// to roll production back.
type Deploys struct {
	*Kit
	app      AppDeps
	requests *Requests
}

// NewDeploys wires the family.
func NewDeploys(k *Kit, app AppDeps, requests *Requests) *Deploys {
	return &Deploys{Kit: k, app: app, requests: requests}
}

// Title implements Family.
func (d *Deploys) Title() string { return "The app (Vercel)" }

// Commands implements Family.
func (d *Deploys) Commands() []Sub {
	return []Sub{
		{Name: "deploys", Usage: "/clerk-incident deploys [n]", Summary: "the app's last n (default 5) production deployments on Vercel: age, state, commit, author, which serves production", Who: Anyone, NoID: true,
			Run: d.deploysCmd},
		{Name: "env", Usage: "/clerk-incident env check [INC-n]", Summary: "check the app's production Clerk variables on Vercel (never their values): present, same mode, same instance, recently changed", Who: Responder,
			Run: d.envCmd, Verbs: []string{"check"}},
		{Name: "rollback", Usage: "/clerk-incident rollback [INC-n] <deployment-id|previous> [-- reason…]", Summary: "point the app's production back at an earlier Vercel deployment (needs a second person's approval)", Who: Responder,
			Run:       d.rollbackCmd,
			TextAfter: "--", // the reason (splitReason): an INC-n there is text
		},
	}
}

// Buttons implements Family.
func (d *Deploys) Buttons() []Button { return nil }

// Rollback is the approval action of `rollback`.
const Rollback = "rollback"

// DeployReader lists the app's deployments and plans a rollback
// (usecase.Deployments).
type DeployReader interface {
	List(ctx context.Context, who string, n int) (usecase.DeployList, error)
	PlanRollback(ctx context.Context, who, incidentID, target string) (usecase.RollbackPlan, error)
}

// EnvChecker checks the app's production Clerk variables
// (usecase.EnvCheck).
type EnvChecker interface {
	Check(ctx context.Context, who incident.Person, inc *incident.Incident) (usecase.EnvReport, error)
}

// AppDeps is the app family's part of Deps; both are nil when
// VERCEL_TOKEN or VERCEL_PROJECT_ID is unset.
type AppDeps struct {
	Deploys DeployReader
	Env     EnvChecker
}

const vercelUnset = "Vercel is not configured: set VERCEL_TOKEN and VERCEL_PROJECT_ID (and VERCEL_TEAM_ID for a team's project). Nothing was done."

func (d *Deploys) vercelReady(ctx context.Context, r Req) bool {
	if d.app.Deploys == nil || d.app.Env == nil {
		r.SetOutcome("refused: vercel not configured")
		d.ReplyText(ctx, r, vercelUnset)
		return false
	}
	return true
}

// vercelFail tells Vercel's refusal as its own sentence, and Vercel not
// answering (or answering what cannot be read) as a warning.
func (d *Deploys) vercelFail(ctx context.Context, r Req, err error) {
	if refusal, ok := refusalOf(err); ok {
		r.SetOutcome("failed: vercel " + strconv.Itoa(refusal.HTTPStatus()))
		d.ReplyText(ctx, r, ":x: "+refusal.Error())
		return
	}
	if apperr.CodeOf(err) == apperr.UnavailableRemote {
		r.SetOutcome("failed: vercel")
		d.ReplyText(ctx, r, ":warning: "+capital(err.Error())+".")
		return
	}
	d.Fail(ctx, r, err)
}

// deployLine is one deployment: commit, author, age.
func deployLine(d usecase.Deploy, now time.Time) string {
	commit := "no Git commit"
	if d.SHA != "" {
		commit = fmt.Sprintf("`%s` %s", d.SHA, render.Esc(d.Message))
	}
	s := fmt.Sprintf("%s · %s", commit, render.Ago(now.Sub(d.At)))
	if d.Author != "" {
		s += " · " + render.Esc(d.Author)
	}
	return s
}

func (d *Deploys) deploysCmd(ctx context.Context, r Req, p Parsed) {
	if !d.vercelReady(ctx, r) {
		return
	}
	n := 5
	if len(p.Args) > 1 {
		d.Fail(ctx, r, &UsageError{Problem: "Give at most one number.", Usage: p.Sub.Usage})
		return
	}
	if len(p.Args) == 1 {
		v, err := strconv.Atoi(p.Args[0])
		if err != nil || v < 1 || v > 50 {
			d.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a number from 1 to 50.", render.Esc(p.Args[0])), Usage: p.Sub.Usage})
			return
		}
		n = v
	}
	list, err := d.app.Deploys.List(ctx, r.Who.ID, n)
	if err != nil {
		d.vercelFail(ctx, r, err)
		return
	}
	d.Reply(ctx, r, render.Text(DeploysText(list, d.now())))
}

// DeploysText renders the deployments list (pure).
func DeploysText(list usecase.DeployList, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":rocket: *Production deployments of %s* (newest first)", render.Esc(list.Project))
	if len(list.Deploys) == 0 {
		b.WriteString("\nNo production deployment yet.")
	}
	for _, d := range list.Deploys {
		fmt.Fprintf(&b, "\n• `%s` %s · %s", d.ID, d.Status, deployLine(d, now))
		switch {
		case d.ID == list.Production:
			b.WriteString(" · :large_green_circle: *serves production*")
		case !d.RollbackCandidate:
			b.WriteString(" · never served production (not a rollback target)")
		}
		if d.Link != "" {
			fmt.Fprintf(&b, " · <%s|inspect>", d.Link)
		}
	}
	if a := list.Moving; a != nil {
		fmt.Fprintf(&b, "\n:hourglass: A %s to `%s` is %s.", a.Type, a.To, a.Status)
	}
	return b.String()
}

func (d *Deploys) envCmd(ctx context.Context, r Req, p Parsed) {
	if p.Form() != "check" || len(p.Args) != 1 {
		d.Fail(ctx, r, &UsageError{Problem: "Only `env check` is known.", Usage: p.Sub.Usage})
		return
	}
	if !d.vercelReady(ctx, r) {
		return
	}
	inc, err := d.optionalIncident(ctx, p)
	if err != nil {
		d.Fail(ctx, r, err)
		return
	}
	rep, err := d.app.Env.Check(ctx, r.Who, inc)
	if err != nil {
		d.vercelFail(ctx, r, err)
		return
	}
	d.log.WithField("problems", rep.Problems).Info("env check")
	if inc != nil && inc.Channel != "" && !r.Operator {
		// The findings went to the thread, where the asker reads them too:
		// said once, with a pointer here.
		d.ReplyText(ctx, r, fmt.Sprintf(":mag: The env check is in the thread of %s: %s. %s", inc.ID, problemCount(rep.Problems), render.ThreadLink(inc)))
		return
	}
	d.ReplyText(ctx, r, rep.Text)
}

func problemCount(n int) string {
	switch n {
	case 0:
		return "no problem found"
	case 1:
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// rollbackCmd asks for a second person's approval to roll production back.
func (d *Deploys) rollbackCmd(ctx context.Context, r Req, p Parsed) {
	if !d.vercelReady(ctx, r) {
		return
	}
	arg, reason := splitReason(p.Rest)
	words := strings.Fields(arg)
	if len(words) != 1 || (words[0] != usecase.PreviousDeploy && !strings.HasPrefix(words[0], "dpl_")) {
		d.Fail(ctx, r, &UsageError{Problem: "Give one deployment ID (dpl_…, from `deploys`) or `previous`.", Usage: p.Sub.Usage})
		return
	}
	d.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
		plan, err := d.app.Deploys.PlanRollback(ctx, r.Who.ID, id, words[0])
		if err != nil {
			d.vercelFail(ctx, r, err)
			return
		}
		if plan.Refused != "" {
			d.ReplyText(ctx, r, rollbackRefusal(plan, words[0]))
			return
		}
		from, to, now := plan.From, plan.To, d.now()
		summary := fmt.Sprintf("Roll the app's production on Vercel back from `%s` (%s) to `%s` (%s)", from.ID, deployLine(from, now), to.ID, deployLine(to, now))
		d.requests.request(ctx, r, id, approval.Request{Action: Rollback, Targets: []string{"to " + to.ID, "from " + from.ID}, Reason: reason, Summary: summary})
	})
}

// rollbackRefusal says why no rollback was asked for; target is the
// deployment ID or `previous` as typed.
func rollbackRefusal(plan usecase.RollbackPlan, target string) string {
	to := plan.To
	switch plan.Refused {
	case usecase.NoProductionDeploy:
		return "Vercel names no production deployment serving now among the last 20; roll back from the Vercel dashboard. Nothing was requested."
	case usecase.NoEarlierDeploy:
		return "There is no earlier READY production deployment to roll back to. Nothing was requested."
	case usecase.DeployNotListed:
		return fmt.Sprintf("`%s` is not one of the last 20 production deployments of this project (`deploys 20` lists them). Nothing was requested.", render.Esc(target))
	case usecase.DeployServesNow:
		return fmt.Sprintf("`%s` already serves production. Nothing was requested.", to.ID)
	case usecase.DeployNotReady:
		return fmt.Sprintf("`%s` is %s, not READY: it cannot serve production. Nothing was requested.", to.ID, to.Status)
	}
	return fmt.Sprintf("`%s` never served production (built with `--skip-domain`, or staged and not promoted): Vercel does not roll back to it. Pick one that served production from `deploys`, or promote it from the Vercel dashboard. Nothing was requested.", to.ID)
}
