package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// vercelParts is the app's Vercel client (nil: VERCEL_TOKEN unset) and
// the check of the app's Clerk key pair against Clerk.
type vercelParts struct {
	client *vercel.Client
	keys   probe.AppKeys
}

// vercelApp wires the Vercel client, each of whose calls is an audit
// entry (route and status, never a token or a value), and the key check.
func vercelApp(cfg Config, log *audit.Log, count httpx.Counter) vercelParts {
	if cfg.VercelToken == "" {
		return vercelParts{}
	}
	hc := &http.Client{Timeout: 15 * time.Second}
	client := vercel.New(vercel.Config{Token: cfg.VercelToken, Project: cfg.VercelProject, Team: cfg.VercelTeam, APIURL: cfg.VercelURL, HTTP: hc, Count: count,
		OnCall: func(ctx context.Context, c vercel.Call) {
			who, inc := vercel.ActorOf(ctx)
			if who == "" {
				who = "bot"
			}
			outcome := "ok"
			detail := fmt.Sprintf("%s %s → %d", c.Method, c.Route, c.Status)
			if c.Err != nil {
				outcome = "failed"
				if c.Status == 0 {
					detail = fmt.Sprintf("%s %s → no answer", c.Method, c.Route)
				}
			}
			log.Record(ctx, audit.Entry{Actor: who, Action: "vercel call", Detail: detail, Incident: inc, Outcome: outcome})
		}})
	ownHost, _ := probe.FrontendHost(cfg.PublishableKey)
	keys := probe.AppKeys{HTTP: hc, ClerkAPIURL: cfg.ClerkAPIURL, FrontendURL: func(host string) string {
		// The bot's own CLERK_FRONTEND_API_URL (a proxy) serves its host.
		if cfg.FrontendAPIURL != "" && host == ownHost {
			return cfg.FrontendAPIURL
		}
		return "https://" + host
	}}
	return vercelParts{client: client, keys: keys}
}

// family is the app family's use cases (none when Vercel is not
// configured): the env check records on store, says in the thread and
// ticks its step.
func (v vercelParts) family(store usecase.EnvRecorder, thread usecase.ThreadPoster, ticks usecase.Ticker, now func() time.Time) commands.AppDeps {
	if v.client == nil {
		return commands.AppDeps{}
	}
	return commands.AppDeps{Deploys: usecase.Deployments{Vercel: v.client},
		Env: usecase.EnvCheck{Vercel: v.client, Keys: v.keys, Store: store, Thread: thread, Ticks: ticks, Now: now}}
}

// rollbacks is what the rollback doer calls (nil when Vercel is not
// configured).
func (v vercelParts) rollbacks() usecase.Vercel {
	if v.client == nil {
		return nil
	}
	return v.client
}
