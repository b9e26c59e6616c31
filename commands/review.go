package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// AccessReviews is `access review`: every affected account's sessions
// and trusted devices, as a file for the asker alone.
type AccessReviews struct {
	*Kit
	reviews  Reviewer
	affected AffectedReader
	pub      HardeningPublisher
}

// NoticeDrafts is `notify draft`: the addresses to notify, privately,
// and a draft notice in the thread (its buttons: Notices).
type NoticeDrafts struct {
	*Kit
	affected AffectedReader
	pub      HardeningPublisher
	notices  *Notices
}

// maxReview bounds one access review: two Clerk reads per account plus
// its sessions' pages, within the shared budget.
const maxReview = 200

// accessReview reads every affected account's sessions and trusted
// devices and sends the review, with the outliers flagged, to the asker
// alone: it names IPs and places.
func (a *AccessReviews) accessReview(ctx context.Context, r Req, p Parsed) {
	if p.Verb != "review" || afterVerb(p) != "" {
		a.Fail(ctx, r, &UsageError{Problem: "Say `access review`, optionally with the incident.", Usage: p.Sub.Usage})
		return
	}
	if !clerkReady(ctx, a.Kit, r, configured(a.reviews)) {
		return
	}
	a.withIncident(ctx, r, p, true, func(ctx context.Context, r Req, id string) {
		users, err := a.affected.Affected(ctx, id)
		if err != nil {
			a.Fail(ctx, r, err)
			return
		}
		if len(users) == 0 {
			a.ReplyText(ctx, r, fmt.Sprintf("No accounts are recorded as affected by %s, so there is nothing to review. `user`, `revoke`, `lockout` or `affected add` record them.", id))
			return
		}
		cut := ""
		if len(users) > maxReview {
			cut = fmt.Sprintf(" Only the first %d of %d accounts are in it; `affected remove` the ones already reviewed and run it again.", maxReview, len(users))
			users = users[:maxReview]
		}
		reviews := a.reviews.Review(ctx, users)
		name := strings.ToLower(id) + "-access-review.txt"
		file := render.AccessReviewFile(id, reviews, a.now())
		sessions, flagged, devices, failed := render.AccessReviewSummary(reviews)
		counts := fmt.Sprintf("%d account(s): %d active session(s), %d flagged as outliers, %d trusted device(s)", len(reviews), sessions, flagged, devices)
		if failed > 0 {
			counts += fmt.Sprintf(", %d could not be read", failed)
		}
		if !sendPrivately(ctx, a.Kit, a.pub, r, name, "Access review of "+id, file, counts) {
			return
		}
		_, _ = a.incidents.Update(ctx, id, incident.Record(r.Who, "Access review sent privately: "+counts))
		if failed < len(reviews) {
			a.pub.AutoTick(ctx, id, r.Who, incident.StepAccessLogs, "access review")
		}
		a.ReplyText(ctx, r, fmt.Sprintf(":mag: The access review of %s is in your direct messages with the bot: %s. :warning: It holds IP addresses and places; keep it private.%s", id, counts, cut))
	})
}

// sendPrivately hands a file of personal data to the asker alone: their
// direct message with the bot, or the CLI operator's terminal.
func sendPrivately(ctx context.Context, k *Kit, pub HardeningPublisher, r Req, name, title, content, comment string) bool {
	if r.Operator {
		k.ReplyText(ctx, r, name+"\n"+content)
		return true
	}
	if err := pub.UploadToUser(ctx, r.Who.ID, name, title, content, comment); err != nil {
		k.Fail(ctx, r, err)
		return false
	}
	return true
}

// notifyDraft sends the affected users' addresses to the asker as CSV
// (ticking "Notify affected users") and posts a draft notice, from the
// runbook's template, in the thread to edit and make final.
func (no *NoticeDrafts) notifyDraft(ctx context.Context, r Req, p Parsed) {
	if p.Verb != "draft" || afterVerb(p) != "" {
		no.Fail(ctx, r, &UsageError{Problem: "Say `notify draft`, optionally with the incident.", Usage: p.Sub.Usage})
		return
	}
	no.withIncident(ctx, r, p, true, func(ctx context.Context, r Req, id string) {
		inc, err := no.incidents.Current(ctx, id)
		if err != nil {
			no.Fail(ctx, r, withID(err, id))
			return
		}
		users, err := no.affected.Affected(ctx, id)
		if err != nil {
			no.Fail(ctx, r, err)
			return
		}
		csv, n := render.NoticeCSV(users)
		if n == 0 {
			no.ReplyText(ctx, r, fmt.Sprintf("No affected account of %s has an e-mail address on record, so there is no one to notify yet. `affected add` records accounts.", id))
			return
		}
		name := strings.ToLower(id) + "-notify-addresses.csv"
		if !sendPrivately(ctx, no.Kit, no.pub, r, name, "Addresses to notify for "+id, csv, fmt.Sprintf("%d address(es) of the users affected by %s, for your mail tool", n, id)) {
			return
		}
		_, _ = no.incidents.Update(ctx, id, incident.Record(r.Who, fmt.Sprintf("Addresses of %d affected users exported privately for the notice", n)))
		no.pub.AutoTick(ctx, id, r.Who, incident.StepNotifyAffected, "notify draft")
		tmpl, title := no.noticeTemplate(inc)
		text := render.NoticeDraft(inc, tmpl, title, doneTo(users), no.now())
		where := " The draft notice is below."
		switch {
		case r.Operator || inc.Channel == "" || no.notices == nil:
			where = "\n\nDraft notice:\n" + text
		default:
			if err := no.notices.keep(ctx, inc, text, r.Who); err != nil {
				msg, _ := Sentence(err)
				where = " The draft notice could not be posted in the thread (" + msg + "):\n" + render.Esc(text)
			} else {
				where = " The draft notice is in the " + id + " thread: Edit it, then click Final."
			}
		}
		no.ReplyText(ctx, r, fmt.Sprintf(":envelope: %s is in your direct messages with the bot: %d address(es). :warning: Personal data; delete it from Slack once the users are notified.%s", name, n, where))
	})
}

// noticeTemplate is the runbook's notice for the incident's category and
// the public name of the problem.
func (no *NoticeDrafts) noticeTemplate(inc *incident.Incident) (tmpl, title string) {
	title = "a security incident"
	if no.notices == nil || no.notices.rb == nil {
		return "", title
	}
	if spec := no.notices.rb.Spec(inc.Category); spec != nil {
		if t := spec.CustomerTitle(); t != "" {
			title = t
		}
		return spec.Notice, title
	}
	return "", title
}

// doneTo says what was done to the accounts, from their deeds.
func doneTo(users []incident.AffectedUser) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, u := range users {
		for _, d := range u.Deeds {
			switch {
			case strings.HasPrefix(d.What, "sessions revoked"):
				add("signed your account out everywhere")
			case strings.HasPrefix(d.What, "locked out"):
				add("temporarily locked your account")
			}
		}
	}
	return out
}
