package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/followup"
	"github.com/clerk-incident-bot/clerk-incident-bot/github"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
)

// followupApp wires the follow-ups family: the store always, the export
// to GitHub when GITHUB_TOKEN and GITHUB_REPOSITORY are set.
func followupApp(cfg Config, rdb redis.UniversalClient, incidents *incident.Store, now func() time.Time, link func(*incident.Incident) string, count httpx.Counter) commands.FollowupDeps {
	store := incident.NewFollowupStore(rdb, cfg.RedisPrefix, now)
	deps := commands.FollowupDeps{Store: store, Repo: cfg.GitHubRepo}
	if cfg.GitHubToken == "" {
		return deps
	}
	// A secondary rate limit is waited out only while it fits in the
	// command's time (HANDLER_TIMEOUT); a longer one is said.
	client := github.New(github.Config{Token: cfg.GitHubToken, Repo: cfg.GitHubRepo, APIURL: cfg.GitHubURL,
		HTTP: &http.Client{Timeout: 15 * time.Second}, MaxWait: min(20*time.Second, cfg.HandlerTimeout/3), Count: count})
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	deps.Export = &followup.Exporter{Store: store, Issues: client, Incidents: incidents, Now: now, Owner: hex.EncodeToString(b),
		Link: func(_ context.Context, inc *incident.Incident) string { return link(inc) }}
	return deps
}
