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
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// vercelApp wires the app family: the Vercel client, each of whose calls
// is an audit entry (route and status, never a token or a value), and the
// check of the app's Clerk key pair against Clerk.
func vercelApp(cfg Config, log *audit.Log, count httpx.Counter) commands.AppDeps {
	if cfg.VercelToken == "" {
		return commands.AppDeps{}
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
	return commands.AppDeps{Vercel: client, Keys: keys}
}
