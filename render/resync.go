package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// WebhookCheckText renders the webhook endpoint check for Slack.
func WebhookCheckText(c resync.CheckResult) string {
	return slackLines(":satellite_antenna: *Webhook endpoint check*", webhookCheck(c))
}

// WebhookCheckPlain is the check as the timeline keeps it: one plain line.
func WebhookCheckPlain(c resync.CheckResult) string {
	var parts []string
	for _, l := range webhookCheck(c) {
		parts = append(parts, l.plain())
	}
	return OneLine("Webhook check: " + strings.Join(parts, "; "))
}

func webhookCheck(c resync.CheckResult) []line {
	var signed, unsigned line
	switch {
	case c.Signed.Problem != "":
		signed = line{":x:", "", "Signed test event: " + c.Signed.Problem}
	case c.Signed.Status/100 == 2:
		signed = line{":white_check_mark:", "", fmt.Sprintf("Signed test event: %d in %s", c.Signed.Status, Ms(c.Signed.Latency))}
	case c.Signed.Status == 401 || c.Signed.Status == 403:
		signed = line{":x:", "", fmt.Sprintf("Signed test event: %d in %s: the endpoint rejects our signature, so APP_WEBHOOK_SECRET is probably not its signing secret", c.Signed.Status, Ms(c.Signed.Latency))}
	default:
		signed = line{":warning:", "", fmt.Sprintf("Signed test event: %d in %s (reachable; it may not handle ping events)", c.Signed.Status, Ms(c.Signed.Latency))}
	}
	switch {
	case c.Finding:
		unsigned = line{":rotating_light:", "Security finding:", fmt.Sprintf("a request with a wrong signature was accepted (%d). The endpoint must verify svix-signature, or anyone can forge user events.", c.Unsigned.Status)}
	case c.Unsigned.Problem != "":
		unsigned = line{":x:", "", "Wrong-signature test: " + c.Unsigned.Problem}
	default:
		unsigned = line{":white_check_mark:", "", fmt.Sprintf("Wrong signature rejected (%d)", c.Unsigned.Status)}
	}
	return []line{signed, unsigned}
}

// ResyncText renders a job's progress or result.
func ResyncText(j *resync.Job, rate float64, now time.Time) string {
	// Done can pass the first count (users imported during the run, a
	// count that lags the list): the total grows with it.
	total := max(j.Total, j.Done)
	pct := 0.0
	if total > 0 {
		pct = min(max(float64(j.Done)/float64(total), 0), 1)
	}
	if j.Status == resync.Done {
		pct = 1
	}
	const width = 20
	filled := int(pct * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	kind := "Resync"
	if j.DryRun {
		kind = "Resync dry run"
	}
	switch j.Status {
	case resync.Running:
		s := fmt.Sprintf(":hourglass_flowing_sand: %s %s `[%s]` %.0f%% · %d/%d users", kind, j.ID, bar, pct*100, j.Done, total)
		if rate > 0 {
			eta := time.Duration(float64(total-j.Done)/rate) * time.Second
			s += fmt.Sprintf(" · %.0f users/s · ETA %s", rate, eta.Round(time.Second))
		}
		return s + fmt.Sprintf(" · %d failed", j.Failed)
	case resync.Done:
		dur := j.FinishedAt.Sub(j.StartedAt).Round(time.Second)
		if j.DryRun {
			return fmt.Sprintf(":white_check_mark: %s %s `[%s]` 100%%: %d users would be sent (%d skipped by --since); nothing was sent.", kind, j.ID, bar, j.Delivered, j.Skipped)
		}
		icon := ":white_check_mark:"
		if j.Failed > 0 {
			icon = ":warning:"
		}
		return fmt.Sprintf("%s %s %s `[%s]` 100%%: %d delivered, %d failed, %d skipped by --since, in %s.", icon, kind, j.ID, bar, j.Delivered, j.Failed, j.Skipped, dur)
	}
	why := j.Error
	if why == "" {
		why = j.Status
	}
	return fmt.Sprintf(":octagonal_sign: %s %s stopped at %d/%d (%d delivered, %d failed): %s", kind, j.ID, j.Done, total, j.Delivered, j.Failed, why)
}

// VerifiedText says what a finished resync proved and what it did not.
func VerifiedText(j *resync.Job) string { return verified(j, "*") }

// VerifiedPlain is VerifiedText as the timeline keeps it: the same words,
// no bold.
func VerifiedPlain(j *resync.Job) string { return verified(j, "") }

// verified says what a finished resync proves and what it does not, its
// labels wrapped in bold.
func verified(j *resync.Job, bold string) string {
	if j.DryRun {
		return bold + "Verified:" + bold + " nothing was sent (dry run)."
	}
	if j.Status != resync.Done {
		return fmt.Sprintf("%sNot verified:%s the resync stopped after delivering %d of %d users; the app may still lack users. Fix the cause and run `/clerk-incident resync` again.",
			bold, bold, j.Delivered, max(j.Total, j.Done))
	}
	return fmt.Sprintf("%sVerified:%s %d of %d users were delivered as signed user.updated events and the endpoint answered 2xx. "+
		"%sNot verified:%s that the app stored them correctly. Compare your database's user count and a few recent users with Clerk, then tick \"Verify data integrity\".",
		bold, bold, j.Delivered, max(j.Total, j.Done), bold, bold)
}

// ResyncTimeline is a finished resync's timeline entry: its counts and
// duration, then what it verified, in words that read outside Slack.
func ResyncTimeline(j *resync.Job) string {
	summary := fmt.Sprintf("Resync %s %s: delivered %d, failed %d, skipped %d, duration %s", j.ID, j.Status, j.Delivered, j.Failed, j.Skipped,
		j.FinishedAt.Sub(j.StartedAt).Round(time.Second))
	if j.Error != "" {
		summary += " (" + j.Error + ")"
	}
	return summary + ". " + OneLine(VerifiedPlain(j))
}
