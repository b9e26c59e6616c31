package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
)

// ReadLimiter spends one call of a per-key budget without waiting
// (redisx.Pacer.Allow): shared by every replica.
type ReadLimiter interface {
	Allow(ctx context.Context, key string, rate int, period time.Duration, burst int) (ok bool, retryAfter time.Duration)
}

// Read commands (anyone may run them) per user: a burst of 10, then one
// every 2 s. Each costs Redis reads and a reply, and `checklist` a
// render; one person holding Enter must not spend the incident's budget.
const (
	readRate   = 30
	readPeriod = time.Minute
	readBurst  = 10
)

// interactivePace bounds how long a request waits on Slack's shared
// budget before it answers "Slack is busy" (bot.WithPaceBound).
const interactivePace = 3 * time.Second

// interactive marks ctx as a person's request: its Slack calls wait on
// the shared pace at most interactivePace.
func interactive(ctx context.Context) context.Context {
	return bot.WithPaceBound(ctx, interactivePace)
}

// readAllowed spends one read of the user's budget; past it, the user is
// told when to ask again and nothing else is done.
func (h *Handlers) readAllowed(ctx context.Context, r commands.Req) bool {
	if h.readLimit == nil || r.Operator {
		return true
	}
	ok, after := h.readLimit.Allow(ctx, "read:"+r.Who.ID, readRate, readPeriod, readBurst)
	if ok {
		return true
	}
	r.SetOutcome("refused: too many reads")
	h.kit.ReplyText(ctx, r, fmt.Sprintf(":snail: You are asking faster than the bot answers reads (%d a minute each); try again in %d s.", readRate, max(1, int(after.Round(time.Second)/time.Second))))
	return false
}
