package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The hardening family (Procedure 2, steps 4 to 7): Clerk Protect, the
// instance's restrictions and blocklist, rotating exposed secrets, the
// access review and the notice to affected users. What adds protection
// acts at once; what weakens it or reaches many users (Protect off, a
// domain block, a rotation) waits for a second person.

// InstanceControls changes the instance's protection in Clerk and
// records each change on its incident (usecase.Controls).
type InstanceControls interface {
	Configured() bool
	Protect(ctx context.Context) (account.Protect, error)
	ProtectOn(ctx context.Context, inc *incident.Incident, who incident.Person) (account.Protect, error)
	Restrict(ctx context.Context, inc *incident.Incident, who incident.Person, what string, on bool) (account.Restrictions, error)
	Block(ctx context.Context, inc *incident.Incident, who incident.Person, ident string) (account.Blocked, error)
	Unblock(ctx context.Context, inc *incident.Incident, who incident.Person, ident string, domain bool) (account.Blocked, bool, error)
}

// Reviewer reads affected accounts for an access review
// (usecase.AccessReview).
type Reviewer interface {
	Configured() bool
	Review(ctx context.Context, users []incident.AffectedUser) []render.AccessReview
}

// HardeningPublisher hands private files and ticks the steps done.
type HardeningPublisher interface {
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
	UploadToUser(ctx context.Context, user, name, title, content, comment string) error
}

// AffectedReader reads an incident's affected accounts.
type AffectedReader interface {
	Affected(ctx context.Context, id string) ([]incident.AffectedUser, error)
}

// Hardening is the family's rows: the instance's protection (Protection),
// rotating secrets (Rotation), the access review (AccessReviews) and the
// notice to affected users (NoticeDrafts, and its buttons: Notices).
type Hardening struct {
	protection *Protection
	rotation   *Rotation
	reviews    *AccessReviews
	drafts     *NoticeDrafts
	notices    *Notices
}

// Protection is Clerk Protect, the sign-up restrictions and the
// blocklist: what adds protection acts at once, what weakens it asks.
type Protection struct {
	*Kit
	controls InstanceControls
	requests *Requests
}

// Rotation asks to rotate a machine's or OAuth application's secret.
type Rotation struct {
	*Kit
	clerkSet bool // CLERK_SECRET_KEY is set
	requests *Requests
}

// HardeningDeps lists what the family needs.
type HardeningDeps struct {
	Controls InstanceControls
	Reviews  Reviewer
	Pub      HardeningPublisher
	Affected AffectedReader
	Requests *Requests
	Notices  *Notices
}

// NewHardening wires the family.
func NewHardening(k *Kit, d HardeningDeps) *Hardening {
	return &Hardening{
		protection: &Protection{Kit: k, controls: d.Controls, requests: d.Requests},
		rotation:   &Rotation{Kit: k, clerkSet: configured(d.Controls), requests: d.Requests},
		reviews:    &AccessReviews{Kit: k, reviews: d.Reviews, affected: d.Affected, pub: d.Pub},
		drafts:     &NoticeDrafts{Kit: k, affected: d.Affected, pub: d.Pub, notices: d.Notices},
		notices:    d.Notices,
	}
}

// Title implements Family: listed with the security commands.
func (h *Hardening) Title() string { return "Security" }

// Commands implements Family.
func (h *Hardening) Commands() []Sub {
	return []Sub{
		{Name: "protect", Usage: "/clerk-incident protect on|status [INC-n] | protect off [INC-n] <reason…>", Summary: "Clerk Protect's bot and fraud rules: `on` at once, `off` needs a second person's approval", Who: Responder,
			ReadForms: []string{"", "status"}, Verbs: []string{"on", "off", "status"}, Text: true, Run: h.protection.protect},
		{Name: "restrict", Usage: "/clerk-incident restrict disposable|subaddresses on|off [INC-n]", Summary: "block sign-ups from disposable e-mail domains or with e-mail subaddresses (name+tag@)", Who: Responder,
			Verbs: []string{"disposable", "subaddresses"}, Run: h.protection.restrict},
		{Name: "block", Usage: "/clerk-incident block [INC-n] <e-mail | +phone | *@domain> [-- reason…]", Summary: "put an identifier on Clerk's blocklist (a whole domain needs a second person's approval)", Who: Responder,
			TextAfter: "--", Run: h.protection.block},
		{Name: "unblock", Usage: "/clerk-incident unblock [INC-n] <e-mail | +phone | *@domain>", Summary: "take an identifier off Clerk's blocklist", Who: Responder,
			Run: h.protection.unblock},
		{Name: "rotate", Usage: "/clerk-incident rotate machine|oauth [INC-n] <mch_… | oa_…> [--keep <duration>] [reason…]", Summary: "rotate an exposed machine key or OAuth client secret (needs approval; the new secret goes to you alone); bare `rotate`: the instance's own keys", Who: Responder,
			Verbs: []string{"machine", "oauth", "instance"}, NoIDVerbs: []string{"", "instance"}, Text: true, Run: h.rotation.rotate},
		{Name: "access", Usage: "/clerk-incident access review [INC-n]", Summary: "every affected account's sessions (IP, place, device), trusted devices and outliers, as a file for you alone", Who: Responder, Personal: true,
			Verbs: []string{"review"}, Run: h.reviews.accessReview},
		{Name: "notify", Usage: "/clerk-incident notify draft [INC-n]", Summary: "the affected users' e-mail addresses as CSV for you alone, and a draft notice to them in the thread to edit", Who: Responder, Personal: true,
			Verbs: []string{"draft"}, Run: h.drafts.notifyDraft},
	}
}

// Buttons implements Family.
func (h *Hardening) Buttons() []Button {
	if h.notices == nil {
		return (&Notices{}).Buttons()
	}
	return h.notices.Buttons()
}

// afterVerb is the text after the verb (and the ID), trimmed.
func afterVerb(p Parsed) string {
	rest := strings.TrimSpace(p.Rest)
	if p.Verb != "" {
		if w, after := SplitWord(rest); strings.EqualFold(w, p.Verb) {
			rest = after
		}
	}
	return strings.TrimSpace(rest)
}

func (pn *Protection) protect(ctx context.Context, r Req, p Parsed) {
	if !clerkReady(ctx, pn.Kit, r, configured(pn.controls)) {
		return
	}
	switch p.Verb {
	case "", "status":
		pr, err := pn.controls.Protect(ctx)
		if err != nil {
			pn.Fail(ctx, r, err)
			return
		}
		pn.ReplyText(ctx, r, ":shield: "+render.ProtectText(pr))
	case "on":
		if afterVerb(p) != "" {
			pn.Fail(ctx, r, &UsageError{Problem: "`protect on` takes nothing after it but an optional INC-n.", Usage: p.Sub.Usage})
			return
		}
		inc, err := pn.optionalIncident(ctx, p)
		if err != nil {
			pn.Fail(ctx, r, err)
			return
		}
		pr, err := pn.controls.ProtectOn(ctx, inc, r.Who)
		if err != nil {
			pn.Fail(ctx, r, err)
			return
		}
		pn.ReplyText(ctx, r, render.ProtectOnLine(r.Who, pr))
	case "off":
		reason := afterVerb(p)
		if reason == "" {
			pn.Fail(ctx, r, &UsageError{Problem: "Say why Protect's rules should go off: `protect off &lt;reason&gt;`. Nothing was requested.", Usage: p.Sub.Usage})
			return
		}
		pn.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
			pn.requests.request(ctx, r, id, approval.Request{Action: approval.ProtectOff, Reason: reason,
				Summary: "Turn Clerk Protect's bot and fraud rules off for the whole instance (PATCH /instance/protect rules_enabled false); sign-ups and sign-ins are no longer screened until `protect on`"})
		})
	}
}

func (pn *Protection) restrict(ctx context.Context, r Req, p Parsed) {
	if !clerkReady(ctx, pn.Kit, r, configured(pn.controls)) {
		return
	}
	state := strings.ToLower(afterVerb(p))
	if p.Verb == "" || (state != "on" && state != "off") {
		pn.Fail(ctx, r, &UsageError{Problem: "Say which restriction and on or off, e.g. `restrict disposable on`.", Usage: p.Sub.Usage})
		return
	}
	inc, err := pn.optionalIncident(ctx, p)
	if err != nil {
		pn.Fail(ctx, r, err)
		return
	}
	on := state == "on"
	res, err := pn.controls.Restrict(ctx, inc, r.Who, p.Verb, on)
	if err != nil {
		pn.Fail(ctx, r, err)
		return
	}
	pn.ReplyText(ctx, r, render.RestrictLine(r.Who, p.Verb, on, res))
}

// blockTarget reads the one identifier of `block`/`unblock`.
func (pn *Protection) blockTarget(ctx context.Context, r Req, p Parsed, text string) (string, bool, bool) {
	fields := strings.Fields(text)
	if len(fields) != 1 {
		pn.Fail(ctx, r, &UsageError{Problem: "Give exactly one e-mail address, phone number (+15551234567) or domain (*@example.com). Nothing changed.", Usage: p.Sub.Usage})
		return "", false, false
	}
	id, domain, ok := account.BlockTarget(fields[0])
	if !ok {
		pn.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not an e-mail address, a phone number in +E.164 form or a domain as *@example.com. Nothing changed.", render.Esc(fields[0])), Usage: p.Sub.Usage})
		return "", false, false
	}
	return id, domain, true
}

func (pn *Protection) block(ctx context.Context, r Req, p Parsed) {
	if !clerkReady(ctx, pn.Kit, r, configured(pn.controls)) {
		return
	}
	text, reason := splitReason(p.Rest)
	ident, domain, ok := pn.blockTarget(ctx, r, p, text)
	if !ok {
		return
	}
	if domain {
		// Every address of the domain, including real users: a second
		// person looks first.
		pn.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
			pn.requests.request(ctx, r, id, approval.Request{Action: approval.BlockDomain, Targets: []string{ident}, Reason: reason,
				Summary: fmt.Sprintf("Put every address of %s on Clerk's blocklist: none of them can sign up or sign in, existing users included, until `unblock %s`", strings.TrimPrefix(ident, "*@"), ident)})
		})
		return
	}
	inc, err := pn.optionalIncident(ctx, p)
	if err != nil {
		pn.Fail(ctx, r, err)
		return
	}
	b, err := pn.controls.Block(ctx, inc, r.Who, ident)
	if err != nil {
		pn.Fail(ctx, r, err)
		return
	}
	pn.ReplyText(ctx, r, fmt.Sprintf(":lock: Clerk answered: `%s` is on the blocklist as %s (%s). `unblock %s` lifts it.", render.Esc(b.Identifier), b.ID, b.Type, render.Esc(b.Identifier)))
}

func (pn *Protection) unblock(ctx context.Context, r Req, p Parsed) {
	if !clerkReady(ctx, pn.Kit, r, configured(pn.controls)) {
		return
	}
	ident, domain, ok := pn.blockTarget(ctx, r, p, p.Rest)
	if !ok {
		return
	}
	inc, err := pn.optionalIncident(ctx, p)
	if err != nil {
		pn.Fail(ctx, r, err)
		return
	}
	b, found, err := pn.controls.Unblock(ctx, inc, r.Who, ident, domain)
	if err != nil {
		pn.Fail(ctx, r, err)
		return
	}
	if !found {
		pn.ReplyText(ctx, r, fmt.Sprintf("`%s` is not on Clerk's blocklist; nothing changed.", render.Esc(ident)))
		return
	}
	pn.ReplyText(ctx, r, fmt.Sprintf(":white_check_mark: Clerk answered: `%s` (%s) is off the blocklist.", render.Esc(b.Identifier), b.ID))
}

// defaultKeep is how long a rotated machine key keeps working by default.
const defaultKeep = time.Hour

func (ro *Rotation) rotate(ctx context.Context, r Req, p Parsed) {
	rest := afterVerb(p)
	if p.Verb == "" || p.Verb == "instance" {
		if p.Verb == "" && rest != "" {
			// A pasted key is never echoed back.
			ro.Fail(ctx, r, &UsageError{Problem: "Say `rotate machine &lt;mch_…&gt;` or `rotate oauth &lt;oa_…&gt;`; bare `rotate` explains the instance's own keys. If you pasted a secret key here, rotate it now: it is in Slack.", Usage: p.Sub.Usage})
			return
		}
		ro.ReplyText(ctx, r, render.InstanceKeyAdvice())
		return
	}
	if !clerkReady(ctx, ro.Kit, r, ro.clerkSet) {
		return
	}
	target, keep, reason, problem := parseRotate(p.Verb, rest)
	if problem != "" {
		ro.Fail(ctx, r, &UsageError{Problem: problem + " Nothing was requested.", Usage: p.Sub.Usage})
		return
	}
	if r.Operator || r.Who.CLI() {
		ro.ReplyText(ctx, r, "Rotate from Slack: the new secret goes to the requester's direct message with the bot, which the CLI does not have. Nothing was requested.")
		return
	}
	summary := fmt.Sprintf("Rotate the secret key of machine %s in Clerk; the old key keeps working for %s; the new secret goes to the requester alone, in a direct message, once", target, render.ShortDuration(keep))
	if keep == 0 {
		summary = fmt.Sprintf("Rotate the secret key of machine %s in Clerk; the old key stops working at once; the new secret goes to the requester alone, in a direct message, once", target)
	}
	if p.Verb == "oauth" {
		summary = fmt.Sprintf("Rotate the client secret of OAuth application %s in Clerk; the old secret stops working at once, so its clients fail until updated; the new secret goes to the requester alone, in a direct message, once", target)
	}
	ro.withIncident(ctx, r, p, false, func(ctx context.Context, r Req, id string) {
		ro.requests.request(ctx, r, id, approval.Request{Action: approval.Rotate, Targets: []string{p.Verb + " " + target}, Duration: keep, Reason: reason, Summary: summary})
	})
}

// parseRotate reads `<id> [--keep <duration>] [reason…]`.
func parseRotate(kind, rest string) (target string, keep time.Duration, reason, problem string) {
	target, rest = SplitWord(rest)
	valid := account.IsMachineID(target)
	if kind == "oauth" {
		valid = account.IsOAuthAppID(target)
	}
	if !valid {
		want := map[string]string{"machine": "a machine ID (mch_…)", "oauth": "an OAuth application ID (oa_…)"}[kind]
		return "", 0, "", fmt.Sprintf("Give %s first, not %q.", want, render.Esc(target))
	}
	keep = defaultKeep
	if w, after := SplitWord(rest); w == "--keep" {
		d, after2 := SplitWord(after)
		v, err := time.ParseDuration(d)
		if err != nil || v < 0 || v > account.MaxKeep {
			return "", 0, "", fmt.Sprintf("--keep takes a duration from 0 to 8h (Clerk keeps an old key at most 8 hours), not %q.", render.Esc(d))
		}
		if kind == "oauth" {
			return "", 0, "", "--keep is for machine keys: Clerk ends an OAuth client secret at once."
		}
		keep, rest = v, after2
	}
	if kind == "oauth" {
		keep = 0
	}
	return target, keep, strings.TrimSpace(rest), ""
}
