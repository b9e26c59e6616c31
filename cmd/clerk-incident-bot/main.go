// Command clerk-incident-bot is the Slack ChatOps bot that runs the Clerk
// incident runbook over Socket Mode.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clerk-incident-bot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 {
		switch args[1] {
		case "-h", "--help", "help":
			usage(stdout)
			return nil
		case "healthcheck":
			return healthcheck(ctx, getenv, stdout)
		case "audit":
			var since time.Time
			if len(args) > 3 && args[2] == "--since" {
				t, err := time.Parse(time.RFC3339, args[3])
				if err != nil {
					return fmt.Errorf("--since wants an RFC 3339 date such as 2026-11-24T00:00:00Z")
				}
				since = t
			}
			cfg, err := app.Load(getenv)
			if err != nil {
				return err
			}
			return app.ExportAudit(ctx, cfg, since, stdout, stderr)
		case "do":
			words, flags := splitFlags(args[2:], "--as", "--out")
			cfg, err := app.Load(getenv)
			if err != nil {
				return err
			}
			return app.Do(ctx, cfg, words, flags["--as"], flags["--out"], stdout, stderr)
		default:
			usage(stderr)
			return fmt.Errorf("unknown argument %q", args[1])
		}
	}
	cfg, err := app.Load(getenv)
	if err != nil {
		return err
	}
	return app.Run(ctx, cfg, app.Options{Stderr: stderr})
}

// splitFlags takes the named flags ("--as <name>" or --as=<name>) out
// of the words.
func splitFlags(args []string, names ...string) (words []string, flags map[string]string) {
	flags = map[string]string{}
next:
	for i := 0; i < len(args); i++ {
		for _, n := range names {
			switch {
			case args[i] == n && i+1 < len(args):
				flags[n] = args[i+1]
				i++
				continue next
			case strings.HasPrefix(args[i], n+"="):
				flags[n] = strings.TrimPrefix(args[i], n+"=")
				continue next
			}
		}
		words = append(words, args[i])
	}
	return words, flags
}

// healthcheck probes this container's own /healthz (Docker HEALTHCHECK on
// an image without curl).
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	addr := getenv("HTTP_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprint(stdout, string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", resp.StatusCode)
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "clerk-incident-bot: the Clerk incident runbook as a Slack bot (Socket Mode).")
	fmt.Fprintln(w, "Usage: clerk-incident-bot            run the bot")
	fmt.Fprintln(w, "       clerk-incident-bot healthcheck probe this instance's /healthz (exit 0 when healthy)")
	fmt.Fprintln(w, "       clerk-incident-bot do <words after /clerk-incident> --as <name> [--out <file or directory>]")
	fmt.Fprintln(w, "                                      break-glass: run a command without Slack (same Redis and Clerk);")
	fmt.Fprintln(w, "                                      files (the postmortem report) go to --out, else text is printed;")
	fmt.Fprintln(w, "                                      exits 1 when the command is refused or fails")
	fmt.Fprintln(w, "       clerk-incident-bot audit [--since <RFC 3339 date>]   export the audit log as JSON lines")
	fmt.Fprintln(w, "It is configured by these environment variables:")
	for _, v := range app.Vars {
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		fmt.Fprintf(w, "  %-20s %s%s\n", v.Name, v.Help, def)
	}
}
