// Command clerk-incident-bot is the Slack ChatOps bot that runs the Clerk
// incident runbook over Socket Mode.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

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

func usage(w io.Writer) {
	fmt.Fprintln(w, "clerk-incident-bot: the Clerk incident runbook as a Slack bot (Socket Mode).")
	fmt.Fprintln(w, "It takes no arguments; it is configured by these environment variables:")
	for _, v := range app.Vars {
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		fmt.Fprintf(w, "  %-20s %s%s\n", v.Name, v.Help, def)
	}
}
