package handlers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
)

// Slack guests never get personal data (IPs, cities, e-mails, phones),
// whatever SLACK_RESPONDERS says: with it empty everyone is a responder,
// guests included, so the rows that show it check the asker's kind too.

// MemberKinds reads what users.info says of a user (bot.Slack.MemberKind,
// the lookup Share in thread uses).
type MemberKinds interface {
	MemberKind(ctx context.Context, id string) (bot.Member, error)
}

// guestTTL is how long a user's kind is kept: a member made a guest loses
// personal data within it.
const guestTTL = 5 * time.Minute

// Guests tells guests from members, cached per user for guestTTL (users.info
// is Tier 4); a failed look-up is not cached.
type Guests struct {
	kinds MemberKinds
	now   func() time.Time
	mu    sync.Mutex
	cache map[string]guestEntry
}

type guestEntry struct {
	guest bool
	until time.Time
}

// NewGuests wires the check.
func NewGuests(kinds MemberKinds, now func() time.Time) *Guests {
	return &Guests{kinds: kinds, now: now, cache: map[string]guestEntry{}}
}

// Guest reports whether user is a multi- or single-channel guest.
func (g *Guests) Guest(ctx context.Context, user string) (bool, error) {
	now := g.now()
	g.mu.Lock()
	e, ok := g.cache[user]
	g.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.guest, nil
	}
	m, err := g.kinds.MemberKind(ctx, user)
	if err != nil {
		return false, fmt.Errorf("users.info %s: %w", user, err)
	}
	g.mu.Lock()
	g.cache[user] = guestEntry{guest: m.Guest, until: now.Add(guestTTL)}
	g.mu.Unlock()
	return m.Guest, nil
}

// notGuest lets the asker see personal data unless they are a Slack guest
// (or that cannot be checked), and tells a guest why not. CLI operators
// are not Slack users.
func (h *Handlers) notGuest(ctx context.Context, r commands.Req, what string) bool {
	if r.Operator || h.guests == nil {
		return true
	}
	guest, err := h.guests.Guest(ctx, r.Who.ID)
	switch {
	case err != nil:
		h.log.WithError(err).WithField("user", r.Who.ID).Warn("could not check whether the asker is a Slack guest; personal data withheld")
		r.SetOutcome("refused: guest check failed")
		h.kit.ReplyText(ctx, r, fmt.Sprintf(":no_entry: %s shows personal data (e-mails, IPs, phones), and Slack did not say whether you are a guest of this workspace, so it is withheld. Try again in a moment. Nothing changed.", what))
		return false
	case guest:
		r.SetOutcome("refused: Slack guest")
		h.kit.ReplyText(ctx, r, fmt.Sprintf(":no_entry: %s shows personal data (e-mails, IPs, phones), which Slack guests of this workspace never get, whatever their role. Ask a responder who is a full member. Nothing changed.", what))
		return false
	}
	return true
}
