package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bypass"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/sirupsen/logrus"
)

// The bypass family: the emergency auth bypass, on (after approval), off, status.

func bypassCommands() []Sub {
	return []Sub{
		{Name: "bypass", Usage: "/clerk-incident bypass on [INC-n] [duration] [reason…] | extend <duration> [reason…] | off | status", Summary: "emergency auth bypass (on needs approval; off is immediate)", Who: Responder,
			ReadForms: []string{"", "status"}, Run: (*Handlers).bypassCmd,
			// Only `on` belongs to an incident; the others act on the one bypass.
			Verbs: []string{"on", "extend", "off", "status"}, NoIDVerbs: []string{"", "extend", "off", "status"}, Text: true},
	}
}

func (h *Handlers) bypassCmd(ctx context.Context, r req, p Parsed) {
	if h.bypass == nil {
		h.replyText(ctx, r, "The emergency bypass is not configured.")
		return
	}
	switch p.Form() {
	case "status", "":
		st, err := h.bypass.Get(ctx)
		if err != nil {
			h.fail(ctx, r, err)
			return
		}
		if !st.Enabled {
			h.replyText(ctx, r, ":lock: The emergency auth bypass is *off*: Clerk auth is enforced.")
			return
		}
		h.replyText(ctx, r, fmt.Sprintf(":rotating_light: The emergency auth bypass is *ON* for %s until %s (requested by <@%s>, approved by <@%s>). Reason: %s",
			st.Incident, render.SlackDate(st.ExpiresAt), st.RequestedBy, st.ApprovedBy, render.Esc(orNone(st.Reason))))
	case "off":
		was, found, err := h.bypass.Off(ctx)
		if err != nil {
			h.fail(ctx, r, err)
			return
		}
		// Off means off: a bypass still waiting for approval is void too.
		isBypass := func(ar *approval.Request) bool {
			return ar.Action == approval.BypassOn || ar.Action == approval.BypassExtend
		}
		h.voidApprovals(ctx, isBypass, approval.VoidBypassOff)
		// And one approved but not carried out yet (its replica died, or
		// the sweep has not picked it up): it must not turn it back on.
		h.cancelApproved(ctx, isBypass, approval.VoidBypassOff)
		if !found {
			h.replyText(ctx, r, "The emergency bypass is not on; nothing changed.")
			return
		}
		line := fmt.Sprintf(":lock: %s turned the emergency auth bypass *OFF*: Clerk auth is enforced again.", render.Who(r.who))
		h.pub.Notes.BypassNotice(ctx, was.Incident, r.who, "Emergency bypass turned off", line)
		h.replyText(ctx, r, ":white_check_mark: The emergency bypass is off.")
	case "on":
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(p.Rest), p.Args[0]))
		dur := 30 * time.Minute
		if w, after := splitWord(rest); w != "" {
			if d, err := time.ParseDuration(w); err == nil {
				dur, rest = d, after
			}
		}
		if dur <= 0 || dur > h.bypassMax {
			h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("The bypass may last from 1m to %s (BYPASS_MAX_DURATION).", render.ShortDuration(h.bypassMax)), Usage: p.Sub.Usage})
			return
		}
		if len([]rune(rest)) > MaxText {
			h.fail(ctx, r, &UsageError{Problem: "The reason is too long.", Usage: p.Sub.Usage})
			return
		}
		if cur, err := h.bypass.Get(ctx); err == nil && cur.Enabled {
			h.replyText(ctx, r, fmt.Sprintf("The bypass is already on for %s until %s; nothing was requested. `/clerk-incident bypass extend <duration>` asks to keep it on longer.", cur.Incident, render.SlackDate(cur.ExpiresAt)))
			return
		}
		h.withIncident(ctx, r, p, false, func(ctx context.Context, r req, id string) {
			summary := fmt.Sprintf("Turn ON the emergency auth bypass for %s: apps reading GET /v1/bypass let every request through without Clerk until it ends", render.ShortDuration(dur))
			h.requestApproval(ctx, r, id, approval.Request{Action: approval.BypassOn, Duration: dur, Reason: render.OneLine(rest), Summary: summary})
		})
	case "extend":
		h.bypassExtend(ctx, r, p)
	default:
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: say on, extend, off or status.", p.Args[0]), Usage: p.Sub.Usage})
	}
}

func orNone(s string) string {
	if s == "" {
		return "none given"
	}
	return s
}

// turnOffBypassFor ends a bypass that belongs to a resolved incident.
func (h *Handlers) turnOffBypassFor(ctx context.Context, inc *incident.Incident, by incident.Person) {
	if h.bypass == nil {
		return
	}
	cur, err := h.bypass.Get(ctx)
	if err != nil || !cur.Enabled || cur.Incident != inc.ID {
		return
	}
	if _, found, err := h.bypass.Off(ctx); err != nil || !found {
		return
	}
	h.pub.Notes.BypassNotice(ctx, inc.ID, by, "Emergency bypass turned off on resolve",
		fmt.Sprintf(":lock: Resolving %s turned the emergency auth bypass *OFF*: Clerk auth is enforced again.", inc.ID))
}

// BypassOn carries out an approved emergency bypass.
type BypassOn struct {
	Bypass Bypass // nil when not configured
	Pub    *publish.Publisher
	Now    func() time.Time
	Log    logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (b BypassOn) CarryOut(ctx context.Context, ar *approval.Request) string {
	if b.Bypass == nil {
		return ":x: The bypass is not configured; nothing was done."
	}
	if cur, err := b.Bypass.Get(ctx); err == nil && cur.Enabled && cur.Incident != ar.Incident {
		return fmt.Sprintf(":x: A bypass for %s is already on until %s; nothing was done.", cur.Incident, render.SlackDate(cur.ExpiresAt))
	}
	st := bypass.State{ExpiresAt: b.Now().UTC().Add(ar.Duration).Truncate(time.Second), Incident: ar.Incident, Reason: ar.Reason,
		RequestedBy: ar.RequestedBy.ID, ApprovedBy: ar.DecidedBy.ID}
	if err := b.Bypass.On(ctx, st); err != nil {
		msg, _ := Sentence(err)
		return ":x: The bypass could not be turned on: " + msg
	}
	b.Log.WithField("incident", ar.Incident).WithField("expires_at", st.ExpiresAt).Warn("emergency auth bypass ON")
	b.Pub.Ticks.System(ctx, "bot", "bypass on", "until "+st.ExpiresAt.Format(time.RFC3339)+" approved by "+ar.DecidedBy.ID, ar.Incident)
	b.Pub.Ticks.AutoTick(ctx, ar.Incident, ar.RequestedBy, incident.StepEnableBypass, "bypass on")
	return fmt.Sprintf(":rotating_light: *Emergency auth bypass is ON* until %s (%s). Apps reading `GET /v1/bypass` let users in without Clerk. It ends by itself; `/clerk-incident bypass off` ends it now.",
		render.SlackDate(st.ExpiresAt), render.ShortDuration(ar.Duration))
}

// Bypass is what handlers need of the bypass store.
type Bypass interface {
	On(ctx context.Context, st bypass.State) error
	Off(ctx context.Context) (bypass.State, bool, error)
	Get(ctx context.Context) (bypass.State, error)
}

// bypassExtend asks, behind the same approval, to keep the bypass on
// longer; the total stays within BYPASS_MAX_DURATION from now.
func (h *Handlers) bypassExtend(ctx context.Context, r req, p Parsed) {
	if len(p.Args) < 2 {
		h.fail(ctx, r, &UsageError{Problem: "Say how much longer, such as `bypass extend 15m`.", Usage: p.Sub.Usage})
		return
	}
	dur, err := time.ParseDuration(p.Args[1])
	if err != nil || dur < time.Minute || dur > h.bypassMax {
		h.fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: extend by 1m to %s (BYPASS_MAX_DURATION).", p.Args[1], render.ShortDuration(h.bypassMax)), Usage: p.Sub.Usage})
		return
	}
	reason := strings.TrimSpace(strings.Join(p.Args[2:], " "))
	cur, err := h.bypass.Get(ctx)
	if err != nil {
		h.fail(ctx, r, err)
		return
	}
	if !cur.Enabled {
		h.replyText(ctx, r, "The emergency bypass is not on, so there is nothing to extend; `bypass on` asks for a new one.")
		return
	}
	summary := fmt.Sprintf("Keep the emergency auth bypass ON %s longer (it ends at %s now): apps reading GET /v1/bypass keep letting every request through without Clerk",
		render.ShortDuration(dur), cur.ExpiresAt.UTC().Format("15:04 UTC"))
	h.requestApproval(ctx, r, cur.Incident, approval.Request{Action: approval.BypassExtend, Duration: dur, Reason: render.OneLine(reason), Summary: summary})
}

// BypassExtend carries out an approved extension of the bypass.
type BypassExtend struct {
	Bypass Bypass // nil when not configured
	Max    time.Duration
	Now    func() time.Time
	Log    logrus.FieldLogger
}

// CarryOut implements approval.Doer.
func (b BypassExtend) CarryOut(ctx context.Context, ar *approval.Request) string {
	if b.Bypass == nil {
		return ":x: The bypass is not configured; nothing was done."
	}
	cur, err := b.Bypass.Get(ctx)
	if err != nil {
		msg, _ := Sentence(err)
		return ":x: The bypass could not be read: " + msg
	}
	if !cur.Enabled || cur.Incident != ar.Incident {
		return ":x: The bypass this extension was for is no longer on; nothing was done."
	}
	until := cur.ExpiresAt.Add(ar.Duration)
	if limit := b.Now().UTC().Add(b.Max).Truncate(time.Second); until.After(limit) {
		until = limit
	}
	cur.ExpiresAt = until
	cur.ApprovedBy = ar.DecidedBy.ID
	if err := b.Bypass.On(ctx, cur); err != nil {
		msg, _ := Sentence(err)
		return ":x: The bypass could not be extended: " + msg
	}
	b.Log.WithField("incident", ar.Incident).WithField("expires_at", until).Warn("emergency auth bypass extended")
	return fmt.Sprintf(":rotating_light: *Emergency auth bypass extended* until %s. `/clerk-incident bypass off` ends it now.", render.SlackDate(until))
}
