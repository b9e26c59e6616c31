package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// The security family: revoke sessions, lock users out (after approval), unlock.

// SessionActions revokes sessions and unlocks users, and records both
// on the incident (usecase.Sessions).
type SessionActions interface {
	Configured() bool
	Revoke(ctx context.Context, inc *incident.Incident, who incident.Person, refs, invalid []string) (usecase.Revoked, error)
	Unlock(ctx context.Context, inc *incident.Incident, who incident.Person, ref string) (usecase.Unlocked, error)
}

// Security revokes sessions, asks to lock users out, and unlocks them.
type Security struct {
	*Kit
	sessions SessionActions
	targets  usecase.UserFinder // nil when CLERK_SECRET_KEY is unset
	requests *Requests
}

// NewSecurity wires the family; targets is nil when CLERK_SECRET_KEY is
// unset.
func NewSecurity(k *Kit, sessions SessionActions, targets usecase.UserFinder, requests *Requests) *Security {
	return &Security{Kit: k, sessions: sessions, targets: targets, requests: requests}
}

// Title implements Family.
func (s *Security) Title() string { return "Security" }

// Commands implements Family.
func (s *Security) Commands() []Sub {
	return []Sub{
		{Name: "revoke", Usage: "/clerk-incident revoke [INC-n] <users…>", Summary: "revoke every active session of Clerk users (user_… IDs or e-mails, one per line for bulk)", Who: Responder,
			TextAfter: "--", // the reason (splitReason)
			Run:       s.revoke},
		{Name: "lockout", Usage: "/clerk-incident lockout [INC-n] <users…> [sit_…|act_… tokens] [-- reason…]", Summary: "ban users, revoke their sessions, remove their trusted devices and the named sign-in/actor tokens (needs a second person's approval)", Who: Responder,
			TextAfter: "--", // the reason (splitReason)
			Run:       s.lockout},
		{Name: "unlock", Usage: "/clerk-incident unlock [INC-n] <user>", Summary: "lift a user's ban and lockout", Who: Responder,
			Run: s.unlock},
	}
}

// Buttons implements Family.
func (s *Security) Buttons() []Button { return nil }

// longWork bounds Clerk work that may outlast HANDLER_TIMEOUT (bulk revokes).
const longWork = 30 * time.Minute

const clerkUnset = "Clerk is not configured: set CLERK_SECRET_KEY (and CLERK_API_URL for a proxy). Nothing was done."

// configured reports whether a use case over Clerk has Clerk (nil: the
// family was wired without it).
func configured(uc interface{ Configured() bool }) bool {
	return uc != nil && uc.Configured()
}

// clerkReady tells the asker when Clerk is not configured.
func clerkReady(ctx context.Context, k *Kit, r Req, configured bool) bool {
	if !configured {
		k.ReplyText(ctx, r, clerkUnset)
		return false
	}
	return true
}

// oneUser reads a command about exactly one Clerk user (an ID or an
// e-mail) and the incident it is for, if any; false: the person was told
// why not.
func oneUser(ctx context.Context, k *Kit, r Req, p Parsed, configured bool) ([]string, *incident.Incident, bool) {
	if !clerkReady(ctx, k, r, configured) {
		return nil, nil, false
	}
	refs, invalid := account.ParseRefs(p.Rest)
	if len(refs) != 1 || len(invalid) > 0 {
		k.Fail(ctx, r, &UsageError{Problem: "Give exactly one Clerk user ID (user_…) or e-mail address.", Usage: p.Sub.Usage})
		return nil, nil, false
	}
	inc, err := k.optionalIncident(ctx, p)
	if err != nil {
		k.Fail(ctx, r, err)
		return nil, nil, false
	}
	return refs, inc, true
}

// splitReason separates "users… -- reason".
func splitReason(rest string) (string, string) {
	if i := strings.Index(rest, "--"); i >= 0 {
		return rest[:i], strings.TrimSpace(rest[i+2:])
	}
	return rest, ""
}

func (s *Security) revoke(ctx context.Context, r Req, p Parsed) {
	if !clerkReady(ctx, s.Kit, r, configured(s.sessions)) {
		return
	}
	users, _ := splitReason(p.Rest)
	refs, invalid := account.ParseRefs(users)
	if len(refs) == 0 {
		s.Fail(ctx, r, &UsageError{Problem: "Give Clerk user IDs (user_…) or e-mail addresses, several at once or one per line.", Usage: p.Sub.Usage})
		return
	}
	inc, err := s.optionalIncident(ctx, p)
	if err != nil {
		s.Fail(ctx, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), longWork)
	defer cancel()
	out, err := s.sessions.Revoke(ctx, inc, r.Who, refs, invalid)
	if err != nil {
		s.Fail(ctx, r, err)
		return
	}
	if len(out.Users) == 0 {
		// Nothing to act on: say so per target, post nothing, change nothing.
		s.ReplyText(ctx, r, render.RevokeNoneFound(out.Outcome.Unknown, invalid))
		return
	}
	// The asker reads e-mails; the thread, guests included, read user IDs
	// and initials, and only counts of what was not found.
	labels := make(map[string]string, len(out.Users))
	for _, u := range out.Users {
		labels[u.ID] = u.Label()
	}
	s.ReplyText(ctx, r, render.RevokeReply(render.Revoke{By: r.Who, Outcome: &out.Outcome, Sessions: out.Sessions, Failed: out.Failed, Emails: labels, Invalid: invalid}))
}

// refsText lists pasted refs (account.ParseRefs tokens) for a reply:
// Slack's control characters escaped, so a pasted x<!channel>y or
// <https://…|label> inside a token shows as text, not a broadcast or link.
func refsText(refs []string) string { return render.Esc(approval.Describe(refs)) }

func (s *Security) lockout(ctx context.Context, r Req, p Parsed) {
	if !clerkReady(ctx, s.Kit, r, s.targets != nil) {
		return
	}
	users, reason := splitReason(p.Rest)
	refs, invalid := account.ParseRefs(users)
	// Sign-in and actor tokens are named by ID: Clerk cannot list a user's.
	tokens, invalid := splitTokens(invalid)
	if len(refs) == 0 {
		s.Fail(ctx, r, &UsageError{Problem: "Give the Clerk user IDs (user_…) or e-mail addresses to lock out.", Usage: p.Sub.Usage})
		return
	}
	if len(invalid) > 0 {
		s.Fail(ctx, r, &UsageError{Problem: "These are not user IDs or e-mail addresses (nor sign-in/actor token IDs, sit_… or act_…): " + refsText(invalid) + ". Nothing was requested.", Usage: p.Sub.Usage})
		return
	}
	s.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
		// The approver decides on what is real: each target is looked up
		// now, and only the accounts found are asked for and counted.
		t, err := usecase.ResolveTargets(ctx, s.targets, refs)
		if err != nil {
			s.Fail(ctx, r, err)
			return
		}
		if len(t.Found) == 0 {
			r.SetOutcome("refused: no target found in Clerk")
			s.ReplyText(ctx, r, render.LockoutRefused(t.NotFound, t.Ambiguous))
			return
		}
		summary := fmt.Sprintf("Ban %d user(s) in Clerk, which blocks their sign-in and revokes their sessions, then revoke any session still active and remove their trusted devices (which skip MFA); their MFA stays on", len(t.Found))
		if len(tokens) > 0 {
			summary += fmt.Sprintf("; revoke %d named sign-in/actor token(s): %s", len(tokens), strings.Join(tokens, ", "))
		}
		s.requests.request(ctx, r, id, approval.Request{Action: approval.Lockout, Targets: t.IDs(), Accounts: t.Found, NotFound: t.NotFound, Ambiguous: t.Ambiguous,
			Tokens: tokens, Reason: reason, Summary: summary})
	})
}

func (s *Security) unlock(ctx context.Context, r Req, p Parsed) {
	refs, inc, ok := oneUser(ctx, s.Kit, r, p, configured(s.sessions))
	if !ok {
		return
	}
	out, err := s.sessions.Unlock(ctx, inc, r.Who, refs[0])
	if err != nil {
		s.Fail(ctx, r, err)
		return
	}
	if out.User.ID == "" {
		s.ReplyText(ctx, r, fmt.Sprintf("No Clerk user matches %s; nothing changed.", refsText(out.Unknown)))
		return
	}
	// The asker reads the e-mail; the thread the user ID and initials.
	s.ReplyText(ctx, r, render.UnlockedLine(r.Who, render.Esc(out.User.Label()), out.LockoutOff))
}

// splitTokens takes the sign-in (sit_…) and actor (act_…) token IDs out
// of the words that are not users.
func splitTokens(words []string) (tokens, rest []string) {
	for _, w := range words {
		if account.IsTokenID(w) {
			if !slices.Contains(tokens, w) {
				tokens = append(tokens, w)
			}
			continue
		}
		rest = append(rest, w)
	}
	return tokens, rest
}
