package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// The app family: the app's half of an auth outage on Vercel. Recent
// production deploys, the production Clerk variables (never their
// values), and a rollback behind the two-person approval.

// DeployPublisher says in the thread what the app family found.
type DeployPublisher interface {
	Thread(ctx context.Context, inc *incident.Incident, text string)
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// Deploys reads the app's deployments and variables on Vercel and asks
// to roll production back.
type Deploys struct {
	*Kit
	app      AppDeps
	pub      DeployPublisher
	requests *Requests
}

// NewDeploys wires the family.
func NewDeploys(k *Kit, app AppDeps, pub DeployPublisher, requests *Requests) *Deploys {
	return &Deploys{Kit: k, app: app, pub: pub, requests: requests}
}

// Title implements Family.
func (h *Deploys) Title() string { return "The app (Vercel)" }

// Commands implements Family.
func (h *Deploys) Commands() []Sub {
	return []Sub{
		{Name: "deploys", Usage: "/clerk-incident deploys [n]", Summary: "the app's last n (default 5) production deployments on Vercel: age, state, commit, author, which serves production", Who: Anyone, NoID: true,
			Run: h.deploysCmd},
		{Name: "env", Usage: "/clerk-incident env check [INC-n]", Summary: "check the app's production Clerk variables on Vercel (never their values): present, same mode, same instance, recently changed", Who: Responder,
			Run: h.envCmd, Verbs: []string{"check"}},
		{Name: "rollback", Usage: "/clerk-incident rollback [INC-n] <deployment-id|previous> [-- reason…]", Summary: "point the app's production back at an earlier Vercel deployment (needs a second person's approval)", Who: Responder,
			Run:       h.rollbackCmd,
			TextAfter: "--", // the reason (splitReason): an INC-n there is text
		},
	}
}

// Buttons implements Family.
func (h *Deploys) Buttons() []Button { return nil }

// Rollback is the approval action of `rollback`.
const Rollback = "rollback"

// Vercel is what the app family needs of Vercel.
type Vercel interface {
	Deployments(ctx context.Context, n int) ([]vercel.Deployment, error)
	Project(ctx context.Context) (*vercel.Project, error)
	Envs(ctx context.Context) ([]vercel.Env, error)
	Value(ctx context.Context, e vercel.Env) (string, error)
	Rollback(ctx context.Context, projectID, to, description string) error
	Follow(ctx context.Context, to string, since time.Time, wait func(ctx context.Context) error) (*vercel.AliasRequest, error)
}

// KeyChecker checks the app's Clerk key pair against Clerk (probe.AppKeys).
type KeyChecker interface {
	Check(ctx context.Context, pk, sk string) probe.AppKeyResult
}

// AppDeps is the app family's part of Deps.
type AppDeps struct {
	Vercel Vercel     // nil: VERCEL_TOKEN or VERCEL_PROJECT_ID unset
	Keys   KeyChecker // nil: the keys are not checked against Clerk
}

const vercelUnset = "Vercel is not configured: set VERCEL_TOKEN and VERCEL_PROJECT_ID (and VERCEL_TEAM_ID for a team's project). Nothing was done."

func (h *Deploys) vercelReady(ctx context.Context, r Req) bool {
	if h.app.Vercel == nil {
		r.SetOutcome("refused: vercel not configured")
		h.ReplyText(ctx, r, vercelUnset)
		return false
	}
	return true
}

// vercelFail tells Vercel's refusal as its own sentence.
func (h *Deploys) vercelFail(ctx context.Context, r Req, err error) {
	var ve *vercel.Error
	if errors.As(err, &ve) {
		r.SetOutcome("failed: vercel " + strconv.Itoa(ve.Status))
		h.ReplyText(ctx, r, ":x: "+ve.Error())
		return
	}
	if strings.Contains(err.Error(), "Vercel") {
		r.SetOutcome("failed: vercel")
		h.ReplyText(ctx, r, ":warning: "+capital(err.Error())+".")
		return
	}
	h.Fail(ctx, r, err)
}

// ago is a short age.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d ago", int(d/(24*time.Hour)))
}

// deployLine is one deployment: commit, author, age.
func deployLine(d vercel.Deployment, now time.Time) string {
	commit := "no Git commit"
	if d.SHA() != "" {
		commit = fmt.Sprintf("`%s` %s", d.SHA(), render.Esc(d.Message()))
	}
	s := fmt.Sprintf("%s · %s", commit, ago(now.Sub(d.At())))
	if a := d.Author(); a != "" {
		s += " · " + render.Esc(a)
	}
	return s
}

func (h *Deploys) deploysCmd(ctx context.Context, r Req, p Parsed) {
	if !h.vercelReady(ctx, r) {
		return
	}
	n := 5
	if len(p.Args) > 1 {
		h.Fail(ctx, r, &UsageError{Problem: "Give at most one number.", Usage: p.Sub.Usage})
		return
	}
	if len(p.Args) == 1 {
		v, err := strconv.Atoi(p.Args[0])
		if err != nil || v < 1 || v > 50 {
			h.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a number from 1 to 50.", render.Esc(p.Args[0])), Usage: p.Sub.Usage})
			return
		}
		n = v
	}
	ctx = vercel.WithActor(ctx, r.Who.ID, "")
	proj, err := h.app.Vercel.Project(ctx)
	if err != nil {
		h.vercelFail(ctx, r, err)
		return
	}
	deps, err := h.app.Vercel.Deployments(ctx, n)
	if err != nil {
		h.vercelFail(ctx, r, err)
		return
	}
	h.Reply(ctx, r, render.Text(DeploysText(proj, deps, h.now())))
}

// DeploysText renders the deployments list (pure; golden-tested).
func DeploysText(proj *vercel.Project, deps []vercel.Deployment, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":rocket: *Production deployments of %s* (newest first)", render.Esc(proj.Name))
	if len(deps) == 0 {
		b.WriteString("\nNo production deployment yet.")
	}
	prod := proj.Production()
	for _, d := range deps {
		fmt.Fprintf(&b, "\n• `%s` %s · %s", d.UID, d.Status(), deployLine(d, now))
		if d.UID == prod {
			b.WriteString(" · :large_green_circle: *serves production*")
		}
		if l := d.Link(); l != "" {
			fmt.Fprintf(&b, " · <%s|inspect>", l)
		}
	}
	if a := proj.LastAliasRequest; a != nil && !a.Done() {
		fmt.Fprintf(&b, "\n:hourglass: A %s to `%s` is %s.", a.Type, a.ToDeploymentID, a.JobStatus)
	}
	return b.String()
}

// DeployCheck says, when an incident opens, whether a production deploy
// landed in the two hours before (the runbook's "check recent
// deployments"), and ticks that step with the result.
type DeployCheck struct {
	Vercel Vercel
	Pub    DeployPublisher
	Now    func() time.Time
	Log    logrus.FieldLogger
}

// DeployWindow is how far before an incident a deploy is suspect.
const DeployWindow = 2 * time.Hour

// AfterOpen runs the check for a new incident (usecase.Opener's hook).
func (c DeployCheck) AfterOpen(ctx context.Context, inc *incident.Incident) {
	ctx, cancel := context.WithTimeout(vercel.WithActor(context.WithoutCancel(ctx), "bot", inc.ID), 10*time.Second)
	defer cancel()
	deps, err := c.Vercel.Deployments(ctx, 10)
	if err != nil {
		c.Log.WithError(err).WithField("incident", inc.ID).Warn("could not list recent Vercel deployments")
		c.Pub.Thread(ctx, inc, ":warning: Could not check Vercel for a recent production deploy: "+capital(err.Error()))
		return
	}
	text, what := DeployNote(inc, deps)
	c.Pub.Thread(ctx, inc, text)
	c.Pub.AutoTick(ctx, inc.ID, incident.Person{Name: "bot"}, incident.StepCheckDeploys, what)
}

// DeployNote is the thread line and the tick's "what" for the deploys
// that precede an incident (pure).
func DeployNote(inc *incident.Incident, deps []vercel.Deployment) (text, what string) {
	opened := inc.OpenedAt
	var recent []vercel.Deployment
	var last *vercel.Deployment
	for i, d := range deps {
		if d.At().After(opened) {
			continue
		}
		if last == nil {
			last = &deps[i]
		}
		if opened.Sub(d.At()) <= DeployWindow {
			recent = append(recent, d)
		}
	}
	before := func(d vercel.Deployment) string {
		m := int(opened.Sub(d.At()) / time.Minute)
		if m < 120 {
			return fmt.Sprintf("%d min", m)
		}
		return fmt.Sprintf("%d h", m/60)
	}
	if len(recent) == 0 {
		text = fmt.Sprintf(":white_check_mark: No production deploy of the app in the 2 hours before %s opened", inc.ID)
		if last != nil {
			text += fmt.Sprintf(" (the last, `%s`, landed %s before)", orNoCommit(last.SHA()), before(*last))
		}
		return text + ".", "the deploy check (no production deploy in the 2 h before)"
	}
	d := recent[0]
	commit := "a deployment without a Git commit"
	if d.SHA() != "" {
		commit = fmt.Sprintf("commit `%s` %s", d.SHA(), render.Esc(d.Message()))
	}
	text = fmt.Sprintf(":rocket: A production deploy landed %s before %s opened: %s by %s (`%s`, %s).", before(d), inc.ID, commit, render.Esc(d.Author()), d.UID, d.Status())
	if len(recent) > 1 {
		text += fmt.Sprintf(" %d more in the 2 hours before.", len(recent)-1)
	}
	text += " If sign-in broke with it, `/clerk-incident rollback previous` asks to roll it back; `/clerk-incident deploys` lists them."
	return text, fmt.Sprintf("the deploy check (deploy %s %s before)", orNoCommit(d.SHA()), before(d))
}

func orNoCommit(sha string) string {
	if sha == "" {
		return "without commit"
	}
	return sha
}

// Variable names a Next.js app on Vercel keeps its Clerk keys under.
var (
	publishableKeys = []string{"NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "CLERK_PUBLISHABLE_KEY"}
	secretKeys      = []string{"CLERK_SECRET_KEY"}
	signingSecrets  = []string{"CLERK_WEBHOOK_SIGNING_SECRET", "SIGNING_SECRET", "WEBHOOK_SECRET"}
)

// EnvFinding is one line of `env check`.
type EnvFinding struct {
	Level string // ok, warn, fail, info
	Text  string
}

func (h *Deploys) envCmd(ctx context.Context, r Req, p Parsed) {
	if p.Form() != "check" || len(p.Args) != 1 {
		h.Fail(ctx, r, &UsageError{Problem: "Only `env check` is known.", Usage: p.Sub.Usage})
		return
	}
	if !h.vercelReady(ctx, r) {
		return
	}
	inc, err := h.optionalIncident(ctx, p)
	if err != nil {
		h.Fail(ctx, r, err)
		return
	}
	incID := ""
	if inc != nil {
		incID = inc.ID
	}
	ctx = vercel.WithActor(ctx, r.Who.ID, incID)
	findings, err := EnvCheck(ctx, h.app.Vercel, h.app.Keys, h.now())
	if err != nil {
		h.vercelFail(ctx, r, err)
		return
	}
	text, problems := EnvText(findings)
	if inc != nil {
		h.pub.Thread(ctx, inc, text)
		line := "Checked the app's production Clerk variables on Vercel: no problem"
		if problems > 0 {
			line = fmt.Sprintf("Checked the app's production Clerk variables on Vercel: %d problem(s)", problems)
		}
		_, _ = h.incidents.Update(ctx, inc.ID, incident.Record(r.Who, line))
		if problems == 0 {
			// Verified only when nothing is wrong: a ❌ is work still to do.
			h.pub.AutoTick(ctx, inc.ID, r.Who, incident.StepVerifyEnv, "env check")
		}
	}
	h.log.WithField("problems", problems).Info("env check")
	if inc != nil && inc.Channel != "" && !r.Operator {
		// The findings go to the thread, where the asker reads them too:
		// said once, with a pointer here.
		h.ReplyText(ctx, r, fmt.Sprintf(":mag: The env check is in the thread of %s: %s. %s", inc.ID, problemCount(problems), render.ThreadLink(inc)))
		return
	}
	h.ReplyText(ctx, r, text)
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

// EnvText renders the findings; problems counts the failures.
func EnvText(fs []EnvFinding) (string, int) {
	var b strings.Builder
	b.WriteString(":mag: *The app's production Clerk variables on Vercel* (values never shown)")
	problems := 0
	for _, f := range fs {
		icon := map[string]string{"ok": ":white_check_mark:", "warn": ":warning:", "fail": ":x:", "info": ":information_source:"}[f.Level]
		if f.Level == "fail" {
			problems++
		}
		fmt.Fprintf(&b, "\n%s %s", icon, f.Text)
	}
	return b.String(), problems
}

// kindOf is a key's mode by its well-known prefix only.
func kindOf(v, kind string) string {
	for _, m := range []string{"live", "test"} {
		if strings.HasPrefix(v, kind+"_"+m+"_") {
			return m
		}
	}
	return ""
}

// EnvCheck reads the app's production Clerk variables and checks them.
// Values stay in this function and its envCheck: findings name variables,
// modes (pk_live_/sk_test_) and times, never a value, a longer prefix or a
// length.
func EnvCheck(ctx context.Context, v Vercel, keys KeyChecker, now time.Time) ([]EnvFinding, error) {
	envs, err := v.Envs(ctx)
	if err != nil {
		return nil, err
	}
	c := &envCheck{v: v, envs: envs, now: now}
	if proj, err := v.Project(ctx); err == nil {
		if deps, err := v.Deployments(ctx, 20); err == nil {
			for _, d := range deps {
				if d.UID == proj.Production() {
					c.good = d.At()
				}
			}
		}
	}
	pk := c.get(ctx, "The publishable key", publishableKeys)
	sk := c.get(ctx, "The secret key", secretKeys)
	wh := c.get(ctx, "The webhook signing secret", signingSecrets)
	var undone []string
	if pk.env != nil && !pk.ok && pk.env.Sensitive() {
		undone = append(undone, "the publishable key's mode, its Frontend API host, the instance match")
	}
	if sk.env != nil && !sk.ok && sk.env.Sensitive() {
		undone = append(undone, "the secret key's mode (sk_live_ in production), the mode match and the instance match")
	}
	if wh.env != nil && !wh.ok && wh.env.Sensitive() {
		undone = append(undone, "the signing secret's form (whsec_)")
	}
	pkKind, skKind := c.modes(pk, sk)
	if pkKind != "" && keys != nil {
		skVal := ""
		if skKind != "" {
			skVal = sk.value
		}
		c.keys(keys.Check(ctx, pk.value, skVal))
	}
	if wh.ok {
		if strings.HasPrefix(wh.value, "whsec_") {
			c.add("ok", "%s has the whsec_ form.", wh.env.Key)
		} else {
			c.add("fail", "%s does not start with whsec_: copy the endpoint's Signing Secret from Clerk Dashboard > Webhooks.", wh.env.Key)
		}
	}
	if len(undone) > 0 {
		c.add("info", "Stored as sensitive, so Vercel never returns the value; not checked: %s.", strings.Join(undone, "; "))
	}
	return c.out, nil
}

// envCheck gathers the findings of one EnvCheck.
type envCheck struct {
	v    Vercel
	envs []vercel.Env
	now  time.Time
	good time.Time // when the deployment serving production was made
	out  []EnvFinding
}

// envRead is one variable as read: its value only when Vercel gave it.
type envRead struct {
	env   *vercel.Env
	value string
	ok    bool
}

func (c *envCheck) add(level, format string, a ...any) {
	c.out = append(c.out, EnvFinding{Level: level, Text: fmt.Sprintf(format, a...)})
}

func (c *envCheck) find(names []string) *vercel.Env {
	for _, n := range names {
		for i, e := range c.envs {
			if e.Key == n && e.Target.Has("production") {
				return &c.envs[i]
			}
		}
	}
	return nil
}

// get finds the first of names set for production, says when it changed,
// and reads its value unless Vercel keeps it sensitive.
func (c *envCheck) get(ctx context.Context, what string, names []string) envRead {
	e := c.find(names)
	if e == nil {
		c.add("fail", "%s is not set for production (looked for %s).", what, strings.Join(names, ", "))
		return envRead{}
	}
	r := envRead{env: e}
	age := c.now.Sub(e.Changed())
	changed := fmt.Sprintf("%s is set for production (%s), changed %s", e.Key, e.Type, ago(age))
	switch {
	case age < 24*time.Hour:
		c.add("warn", "%s: *changed within 24 h*: was it rotated into the wrong environment?", changed)
	case !c.good.IsZero() && e.Changed().After(c.good):
		c.add("warn", "%s: *changed after the deployment serving production was built*: production runs the old value until the next deploy.", changed)
	default:
		c.add("ok", "%s.", changed)
	}
	val, err := c.v.Value(ctx, *e)
	switch {
	case errors.Is(err, vercel.ErrSensitive):
		return r
	case err != nil:
		c.add("fail", "%s could not be read: %s", e.Key, err.Error())
		return r
	}
	r.value, r.ok = val, true
	return r
}

// modes checks each key's mode and that they match.
func (c *envCheck) modes(pk, sk envRead) (pkKind, skKind string) {
	pkKind, skKind = kindOf(pk.value, "pk"), kindOf(sk.value, "sk")
	if pk.ok && pkKind == "" {
		c.add("fail", "%s does not start with pk_live_ or pk_test_: it is not a publishable key.", pk.env.Key)
	}
	if sk.ok && skKind == "" {
		c.add("fail", "%s does not start with sk_live_ or sk_test_: it is not a secret key (the publishable key pasted in its place?).", sk.env.Key)
	}
	if sk.ok && skKind == "test" {
		c.add("fail", "%s is a development key (sk_test_) in production: production needs the sk_live_ key of the production instance.", sk.env.Key)
	}
	if pk.ok && pkKind == "test" {
		c.add("fail", "%s is a development key (pk_test_) in production.", pk.env.Key)
	}
	switch {
	case pkKind != "" && skKind != "" && pkKind != skKind:
		c.add("fail", "The keys are of different modes: pk_%s_ with sk_%s_. Use both keys of the same instance.", pkKind, skKind)
	case pkKind == "live" && skKind == "live":
		// Test keys match each other too, but the ❌ lines above say
		// they are wrong here: no ✅ contradicts them.
		c.add("ok", "Both keys are live keys (pk_live_ with sk_live_).")
	}
	return pkKind, skKind
}

// keys says what Clerk answered about the key pair.
func (c *envCheck) keys(res probe.AppKeyResult) {
	switch {
	case res.FrontendErr != nil:
		c.add("fail", "%s", capital(res.FrontendErr.Error())+".")
	default:
		c.add("ok", "The publishable key's Frontend API %s answers.", res.Host)
	}
	switch {
	case res.InstanceErr != nil:
		c.add("fail", "%s", capital(res.InstanceErr.Error())+".")
	case res.Checked:
		c.add("ok", "The secret key belongs to the same Clerk instance as the publishable key.")
	}
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// rollbackCmd asks for a second person's approval to roll production back.
func (h *Deploys) rollbackCmd(ctx context.Context, r Req, p Parsed) {
	if !h.vercelReady(ctx, r) {
		return
	}
	arg, reason := splitReason(p.Rest)
	words := strings.Fields(arg)
	if len(words) != 1 || (words[0] != "previous" && !strings.HasPrefix(words[0], "dpl_")) {
		h.Fail(ctx, r, &UsageError{Problem: "Give one deployment ID (dpl_…, from `deploys`) or `previous`.", Usage: p.Sub.Usage})
		return
	}
	h.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
		ctx = vercel.WithActor(ctx, r.Who.ID, id)
		proj, err := h.app.Vercel.Project(ctx)
		if err != nil {
			h.vercelFail(ctx, r, err)
			return
		}
		deps, err := h.app.Vercel.Deployments(ctx, 20)
		if err != nil {
			h.vercelFail(ctx, r, err)
			return
		}
		cur := proj.Production()
		var from, to *vercel.Deployment
		for i, d := range deps {
			if d.UID == cur {
				from = &deps[i]
			}
		}
		if from == nil {
			h.ReplyText(ctx, r, "Vercel names no production deployment serving now among the last 20; roll back from the Vercel dashboard. Nothing was requested.")
			return
		}
		for i, d := range deps {
			switch {
			case words[0] == "previous" && d.At().Before(from.At()) && d.Status() == "READY" && to == nil:
				to = &deps[i]
			case d.UID == words[0]:
				to = &deps[i]
			}
		}
		switch {
		case to == nil && words[0] == "previous":
			h.ReplyText(ctx, r, "There is no earlier READY production deployment to roll back to. Nothing was requested.")
			return
		case to == nil:
			h.ReplyText(ctx, r, fmt.Sprintf("`%s` is not one of the last 20 production deployments of this project (`deploys 20` lists them). Nothing was requested.", render.Esc(words[0])))
			return
		case to.UID == from.UID:
			h.ReplyText(ctx, r, fmt.Sprintf("`%s` already serves production. Nothing was requested.", to.UID))
			return
		case to.Status() != "READY":
			h.ReplyText(ctx, r, fmt.Sprintf("`%s` is %s, not READY: it cannot serve production. Nothing was requested.", to.UID, to.Status()))
			return
		}
		now := h.now()
		summary := fmt.Sprintf("Roll the app's production on Vercel back from `%s` (%s) to `%s` (%s)", from.UID, deployLine(*from, now), to.UID, deployLine(*to, now))
		h.requests.request(ctx, r, id, approval.Request{Action: Rollback, Targets: []string{"to " + to.UID, "from " + from.UID}, Reason: reason, Summary: summary})
	})
}
