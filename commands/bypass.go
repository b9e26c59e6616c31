package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The bypass family: the emergency auth bypass, on (after approval), off, status.

// BypassSwitch is what the bypass family needs of the bypass store.
type BypassSwitch interface {
	Off(ctx context.Context) (bypass.State, bool, error)
	Get(ctx context.Context) (bypass.State, error)
}

// Voider voids approval requests that no longer apply (usecase.Voider).
type Voider interface {
	VoidApprovals(ctx context.Context, match func(*approval.Request) bool, reason string)
	CancelApproved(ctx context.Context, match func(*approval.Request) bool, reason string)
}

// Noticer tells the incident's thread and the channel about a switch.
type Noticer interface {
	BypassNotice(ctx context.Context, incID string, who incident.Person, entry, line string)
}

// Bypass switches the emergency auth bypass.
type Bypass struct {
	*Kit
	bypass    BypassSwitch // nil when not configured
	voider    Voider
	pub       Noticer
	requests  *Requests
	bypassMax time.Duration
}

// NewBypass wires the family; max is BYPASS_MAX_DURATION (default 2 h).
func NewBypass(k *Kit, sw BypassSwitch, voider Voider, pub Noticer, requests *Requests, max time.Duration) *Bypass {
	if max == 0 {
		max = 2 * time.Hour
	}
	return &Bypass{Kit: k, bypass: sw, voider: voider, pub: pub, requests: requests, bypassMax: max}
}

// Title implements Family.
func (b *Bypass) Title() string { return "Bypass" }

// Commands implements Family.
func (b *Bypass) Commands() []Sub {
	return []Sub{
		{Name: "bypass", Usage: "/clerk-incident bypass on [INC-n] [duration] [reason…] | extend <duration> [reason…] | off | status", Summary: "emergency auth bypass (on needs approval; off is immediate)", Who: Responder,
			ReadForms: []string{"", "status"}, Run: b.bypassCmd,
			// Only `on` belongs to an incident; the others act on the one bypass.
			Verbs: []string{"on", "extend", "off", "status"}, NoIDVerbs: []string{"", "extend", "off", "status"}, Text: true},
	}
}

// Buttons implements Family.
func (b *Bypass) Buttons() []Button { return nil }

func (b *Bypass) bypassCmd(ctx context.Context, r Req, p Parsed) {
	if b.bypass == nil {
		b.ReplyText(ctx, r, "The emergency bypass is not configured.")
		return
	}
	switch p.Form() {
	case "status", "":
		st, err := b.bypass.Get(ctx)
		if err != nil {
			b.Fail(ctx, r, err)
			return
		}
		if !st.Enabled {
			b.ReplyText(ctx, r, ":lock: The emergency auth bypass is *off*: Clerk auth is enforced.")
			return
		}
		b.ReplyText(ctx, r, fmt.Sprintf(":rotating_light: The emergency auth bypass is *ON* for %s until %s (requested by <@%s>, approved by <@%s>). Reason: %s",
			st.Incident, render.SlackDate(st.ExpiresAt), st.RequestedBy, st.ApprovedBy, render.Esc(orNone(st.Reason))))
	case "off":
		was, found, err := b.bypass.Off(ctx)
		if err != nil {
			b.Fail(ctx, r, err)
			return
		}
		// Off means off: a bypass still waiting for approval is void too.
		isBypass := func(ar *approval.Request) bool {
			return ar.Action == approval.BypassOn || ar.Action == approval.BypassExtend
		}
		b.voider.VoidApprovals(ctx, isBypass, approval.VoidBypassOff)
		// And one approved but not carried out yet (its replica died, or
		// the sweep has not picked it up): it must not turn it back on.
		b.voider.CancelApproved(ctx, isBypass, approval.VoidBypassOff)
		if !found {
			b.ReplyText(ctx, r, "The emergency bypass is not on; nothing changed.")
			return
		}
		line := fmt.Sprintf(":lock: %s turned the emergency auth bypass *OFF*: Clerk auth is enforced again.", render.Who(r.Who))
		b.pub.BypassNotice(ctx, was.Incident, r.Who, "Emergency bypass turned off", line)
		b.ReplyText(ctx, r, ":white_check_mark: The emergency bypass is off.")
	case "on":
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(p.Rest), p.Args[0]))
		dur := 30 * time.Minute
		if w, after := SplitWord(rest); w != "" {
			if d, err := time.ParseDuration(w); err == nil {
				dur, rest = d, after
			}
		}
		if dur <= 0 || dur > b.bypassMax {
			b.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("The bypass may last from 1m to %s (BYPASS_MAX_DURATION).", render.ShortDuration(b.bypassMax)), Usage: p.Sub.Usage})
			return
		}
		if len([]rune(rest)) > MaxText {
			b.Fail(ctx, r, &UsageError{Problem: "The reason is too long.", Usage: p.Sub.Usage})
			return
		}
		if cur, err := b.bypass.Get(ctx); err == nil && cur.Enabled {
			b.ReplyText(ctx, r, fmt.Sprintf("The bypass is already on for %s until %s; nothing was requested. `/clerk-incident bypass extend &lt;duration&gt;` asks to keep it on longer.", cur.Incident, render.SlackDate(cur.ExpiresAt)))
			return
		}
		b.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
			summary := fmt.Sprintf("Turn ON the emergency auth bypass for %s: apps reading GET /v1/bypass let every request through without Clerk until it ends", render.ShortDuration(dur))
			b.requests.request(ctx, r, id, approval.Request{Action: approval.BypassOn, Duration: dur, Reason: render.OneLine(rest), Summary: summary})
		})
	case "extend":
		b.bypassExtend(ctx, r, p)
	default:
		b.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: say on, extend, off or status.", render.Esc(p.Args[0])), Usage: p.Sub.Usage})
	}
}

func orNone(s string) string {
	if s == "" {
		return "none given"
	}
	return s
}

// bypassExtend asks, behind the same approval, to keep the bypass on
// longer; the total stays within BYPASS_MAX_DURATION from now.
func (b *Bypass) bypassExtend(ctx context.Context, r Req, p Parsed) {
	if len(p.Args) < 2 {
		b.Fail(ctx, r, &UsageError{Problem: "Say how much longer, such as `bypass extend 15m`.", Usage: p.Sub.Usage})
		return
	}
	dur, err := time.ParseDuration(p.Args[1])
	if err != nil || dur < time.Minute || dur > b.bypassMax {
		b.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: extend by 1m to %s (BYPASS_MAX_DURATION).", render.Esc(p.Args[1]), render.ShortDuration(b.bypassMax)), Usage: p.Sub.Usage})
		return
	}
	reason := strings.TrimSpace(strings.Join(p.Args[2:], " "))
	cur, err := b.bypass.Get(ctx)
	if err != nil {
		b.Fail(ctx, r, err)
		return
	}
	if !cur.Enabled {
		b.ReplyText(ctx, r, "The emergency bypass is not on, so there is nothing to extend; `bypass on` asks for a new one.")
		return
	}
	summary := fmt.Sprintf("Keep the emergency auth bypass ON %s longer (it ends at %s now): apps reading GET /v1/bypass keep letting every request through without Clerk",
		render.ShortDuration(dur), cur.ExpiresAt.UTC().Format("15:04 UTC"))
	b.requests.request(ctx, r, cur.Incident, approval.Request{Action: approval.BypassExtend, Duration: dur, Reason: render.OneLine(reason), Summary: summary})
}
