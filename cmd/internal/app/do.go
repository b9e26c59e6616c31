package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osuser "os/user"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/handlers"
)

// Do is the break-glass CLI: it runs one /clerk-incident command as the
// named operator through the same handlers, Redis and Clerk as the bot,
// prints the reply, and leaves the Slack cards to catch up when a bot
// reaches Slack again. out (--out) is where files the command would
// upload go (the post-incident report); without it text files are
// printed. A command that is refused or fails returns an error, so the
// exit status says so.
func Do(ctx context.Context, cfg Config, words []string, as string, out string, stdout, stderr io.Writer) error {
	if strings.TrimSpace(as) == "" {
		return errors.New("say who you are with --as <name>: it goes on the timeline")
	}
	if cfg.RedisURL == "" {
		return errors.New("the break-glass CLI needs REDIS_URL: the Redis the bots use")
	}
	cfg.LogLevel = min(cfg.LogLevel, logrus.ErrorLevel)
	opt := Options{Stderr: stderr, Now: time.Now}
	log := newLogger(cfg, stderr)
	rb, rdb, stores, closeRedis, err := openStores(cfg, opt, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	if err := stores.Incidents.Ping(ctx); err != nil {
		return fmt.Errorf("the incident store (REDIS_URL) does not answer: %w", err)
	}
	offline := bot.NewOffline(stdout, bot.OfflineOptions{Typed: handlers.TypedButton, Out: out})
	p, err := assemble(ctx, cfg, opt, rdb, stores, rb, offline, nil, log)
	if err != nil {
		return err
	}
	h := p.handlers
	name := strings.TrimSpace(as)
	outcome := h.Run(ctx, bot.Command{Command: "/clerk-incident", Text: strings.Join(words, " "), UserID: "cli:" + name, UserName: name,
		ChannelID: cfg.Channel, Operator: true, Origin: origin()})
	if outcome != "ok" {
		return fmt.Errorf("the command was not done (%s)", bot.Plain(outcome))
	}
	return nil
}

// ExportAudit writes the audit log since `since` as JSON lines.
func ExportAudit(ctx context.Context, cfg Config, since time.Time, stdout, stderr io.Writer) error {
	if cfg.RedisURL == "" {
		return errors.New("exporting the audit log needs REDIS_URL: the Redis the bots use")
	}
	cfg.LogLevel = min(cfg.LogLevel, logrus.ErrorLevel)
	log := newLogger(cfg, stderr)
	rdb, closeRedis, err := openRedis(cfg, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	n, err := audit.New(rdb, cfg.RedisPrefix, log, time.Now).Export(ctx, stdout, since)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d audit entries exported\n", n)
	return nil
}

// origin is who really ran the CLI, for the audit log: whoever has the
// bot's environment can type any --as name.
func origin() string {
	user := os.Getenv("USER")
	if u, err := osuser.Current(); err == nil {
		user = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("cli os_user=%s host=%s pid=%d", user, host, os.Getpid())
}
