package usecase

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// EnvSource is what the env check needs of Vercel (vercel.Client): the
// variables, one value at a time, and the deployment serving production.
type EnvSource interface {
	DeploySource
	Envs(ctx context.Context) ([]vercel.Env, error)
	Value(ctx context.Context, e vercel.Env) (string, error)
}

// KeyChecker checks the app's Clerk key pair against Clerk (probe.AppKeys).
type KeyChecker interface {
	Check(ctx context.Context, pk, sk string) probe.AppKeyResult
}

// EnvRecorder writes the check on the incident's timeline (incident.Store).
type EnvRecorder interface {
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
}

// EnvCheck checks the app's production Clerk variables on Vercel (the
// runbook's "verify environment variables"): present, same mode, same
// instance, recently changed; never their values. For an incident it says
// the findings in the thread, records the check and, when nothing is
// wrong, ticks the step.
type EnvCheck struct {
	Vercel EnvSource
	Keys   KeyChecker // nil: the keys are not checked against Clerk
	Store  EnvRecorder
	Thread ThreadPoster
	Ticks  Ticker // ticks "verify environment variables" (Ticks)
	Now    func() time.Time
}

// EnvReport is one env check: its findings, as text, and the failures.
type EnvReport struct {
	Findings []probe.EnvFinding
	Text     string
	Problems int
}

// Check runs the check for who, about inc (nil: no incident).
func (e EnvCheck) Check(ctx context.Context, who incident.Person, inc *incident.Incident) (EnvReport, error) {
	incID := ""
	if inc != nil {
		incID = inc.ID
	}
	ctx = vercel.WithActor(ctx, who.ID, incID)
	findings, err := CheckEnv(ctx, e.Vercel, e.Keys, e.Now())
	if err != nil {
		return EnvReport{}, err
	}
	text, problems := render.EnvText(findings)
	rep := EnvReport{Findings: findings, Text: text, Problems: problems}
	if inc == nil {
		return rep, nil
	}
	e.Thread.Thread(ctx, inc, text)
	line := "Checked the app's production Clerk variables on Vercel: no problem"
	if problems > 0 {
		line = fmt.Sprintf("Checked the app's production Clerk variables on Vercel: %d problem(s)", problems)
	}
	_, _ = e.Store.Update(ctx, inc.ID, incident.Record(who, line))
	if problems == 0 {
		// Verified only when nothing is wrong: a ❌ is work still to do.
		e.Ticks.AutoTick(ctx, inc.ID, who, incident.StepVerifyEnv, "env check")
	}
	return rep, nil
}

// Variable names a Next.js app on Vercel keeps its Clerk keys under.
var (
	publishableKeys = []string{"NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", "CLERK_PUBLISHABLE_KEY"}
	secretKeys      = []string{"CLERK_SECRET_KEY"}
	signingSecrets  = []string{"CLERK_WEBHOOK_SIGNING_SECRET", "SIGNING_SECRET", "WEBHOOK_SECRET"}
)

// CheckEnv reads the app's production Clerk variables and checks them.
// Values stay in this function and its envProbe: findings name
// variables, modes (pk_live_/sk_test_) and times, never a value, a longer
// prefix or a length.
func CheckEnv(ctx context.Context, v EnvSource, keys KeyChecker, now time.Time) ([]probe.EnvFinding, error) {
	envs, err := v.Envs(ctx)
	if err != nil {
		return nil, err
	}
	c := &envProbe{v: v, envs: envs, now: now}
	if proj, err := v.Project(ctx); err == nil {
		if deps, err := v.Deployments(ctx, 20); err == nil {
			for _, d := range deps {
				if d.UID == proj.Production() {
					c.good = d.CreatedTime() // its variables are those of then
				}
			}
		}
	}
	pk := c.get(ctx, "The publishable key", publishableKeys)
	sk := c.get(ctx, "The secret key", secretKeys)
	wh := c.get(ctx, "The webhook signing secret", signingSecrets)
	var undone []string
	if pk.unread != nil {
		undone = append(undone, "the publishable key's mode, its Frontend API host, the instance match")
	}
	if sk.unread != nil {
		undone = append(undone, "the secret key's mode (sk_live_ in production), the mode match and the instance match")
	}
	if wh.unread != nil {
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
			c.add(probe.EnvOK, "%s has the whsec_ form.", wh.env.Key)
		} else {
			c.add(probe.EnvFail, "%s does not start with whsec_: copy the endpoint's Signing Secret from Clerk Dashboard > Webhooks.", wh.env.Key)
		}
	}
	if len(undone) > 0 {
		c.add(probe.EnvInfo, "%s; not checked: %s.", unreadWhy(pk, sk, wh), strings.Join(undone, "; "))
	}
	return c.out, nil
}

// envProbe gathers the findings of one CheckEnv.
type envProbe struct {
	v    EnvSource
	envs []vercel.Env
	now  time.Time
	good time.Time // when the deployment serving production was made
	out  []probe.EnvFinding
}

// envRead is one variable as read: its value only when Vercel gave it;
// unread says why Vercel gave none to check (sensitive, a legacy secret,
// still encrypted).
type envRead struct {
	env    *vercel.Env
	value  string
	ok     bool
	unread error
}

// unreadWhy names why values were not checked: "Stored as sensitive, so
// Vercel never returns the value" when that is all, else each variable
// with its reason.
func unreadWhy(reads ...envRead) string {
	var parts []string
	allSensitive := true
	for _, r := range reads {
		if r.unread == nil {
			continue
		}
		allSensitive = allSensitive && errors.Is(r.unread, vercel.ErrSensitive)
		parts = append(parts, r.env.Key+" "+r.unread.Error())
	}
	if allSensitive {
		return "Stored as sensitive, so Vercel never returns the value"
	}
	return "Vercel gives no value to check: " + strings.Join(parts, ", ")
}

func (en *envProbe) add(level, format string, a ...any) {
	en.out = append(en.out, probe.EnvFinding{Level: level, Text: fmt.Sprintf(format, a...)})
}

func (en *envProbe) find(names []string) *vercel.Env {
	for _, n := range names {
		for i, e := range en.envs {
			if e.Key == n && e.Target.Has("production") {
				return &en.envs[i]
			}
		}
	}
	return nil
}

// get finds the first of names set for production, says when it changed,
// and reads its value unless Vercel keeps it sensitive.
func (en *envProbe) get(ctx context.Context, what string, names []string) envRead {
	e := en.find(names)
	if e == nil {
		en.add(probe.EnvFail, "%s is not set for production (looked for %s).", what, strings.Join(names, ", "))
		return envRead{}
	}
	r := envRead{env: e}
	age := en.now.Sub(e.Changed())
	changed := fmt.Sprintf("%s is set for production (%s), changed %s", e.Key, e.Type, render.Ago(age))
	switch {
	case age < 24*time.Hour:
		en.add(probe.EnvWarn, "%s: *changed within 24 h*: was it rotated into the wrong environment?", changed)
	case !en.good.IsZero() && e.Changed().After(en.good):
		en.add(probe.EnvWarn, "%s: *changed after the deployment serving production was built*: production runs the old value until the next deploy.", changed)
	default:
		en.add(probe.EnvOK, "%s.", changed)
	}
	val, err := en.v.Value(ctx, *e)
	switch {
	case errors.Is(err, vercel.ErrUnreadable):
		r.unread = err
		return r
	case err != nil:
		en.add(probe.EnvFail, "%s could not be read: %s", e.Key, err.Error())
		return r
	}
	r.value, r.ok = val, true
	return r
}

// modes checks each key's mode and that they match.
func (en *envProbe) modes(pk, sk envRead) (pkKind, skKind string) {
	pkKind, skKind = probe.KeyMode(pk.value, "pk"), probe.KeyMode(sk.value, "sk")
	if pk.ok && pkKind == "" {
		en.add(probe.EnvFail, "%s does not start with pk_live_ or pk_test_: it is not a publishable key.", pk.env.Key)
	}
	if sk.ok && skKind == "" {
		en.add(probe.EnvFail, "%s does not start with sk_live_ or sk_test_: it is not a secret key (the publishable key pasted in its place?).", sk.env.Key)
	}
	if sk.ok && skKind == "test" {
		en.add(probe.EnvFail, "%s is a development key (sk_test_) in production: production needs the sk_live_ key of the production instance.", sk.env.Key)
	}
	if pk.ok && pkKind == "test" {
		en.add(probe.EnvFail, "%s is a development key (pk_test_) in production.", pk.env.Key)
	}
	switch {
	case pkKind != "" && skKind != "" && pkKind != skKind:
		en.add(probe.EnvFail, "The keys are of different modes: pk_%s_ with sk_%s_. Use both keys of the same instance.", pkKind, skKind)
	case pkKind == "live" && skKind == "live":
		// Test keys match each other too, but the ❌ lines above say
		// they are wrong here: no ✅ contradicts them.
		en.add(probe.EnvOK, "Both keys are live keys (pk_live_ with sk_live_).")
	}
	return pkKind, skKind
}

// keys says what Clerk answered about the key pair.
func (en *envProbe) keys(res probe.AppKeyResult) {
	switch {
	case res.FrontendErr != nil:
		en.add(probe.EnvFail, "%s", capital(res.FrontendErr.Error())+".")
	default:
		en.add(probe.EnvOK, "The publishable key's Frontend API %s answers.", res.Host)
	}
	switch {
	case res.InstanceErr != nil:
		en.add(probe.EnvFail, "%s", capital(res.InstanceErr.Error())+".")
	case res.Checked:
		en.add(probe.EnvOK, "The secret key belongs to the same Clerk instance as the publishable key.")
	}
}
