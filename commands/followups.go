package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/followup"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// The follow-ups family: an incident's action items, kept in Redis, listed
// in the report's Prevention and exported to GitHub as one issue each
// (followup.Exporter does the exactly-once part).

// FollowupStore is what the family needs of the follow-ups
// (incident.FollowupStore).
type FollowupStore interface {
	Add(ctx context.Context, id, text string, by incident.Person) (incident.Followup, error)
	List(ctx context.Context, id string) ([]incident.Followup, error)
	Done(ctx context.Context, id string, n int, by incident.Person) (incident.Followup, bool, error)
}

// FollowupLister lists an incident's follow-ups (for its report).
type FollowupLister interface {
	List(ctx context.Context, id string) ([]incident.Followup, error)
}

// FollowupExporter files follow-ups as issues (followup.Exporter).
type FollowupExporter interface {
	Export(ctx context.Context, id string) ([]followup.Result, error)
}

// FollowupDeps is the family's part of Deps.
type FollowupDeps struct {
	Store  FollowupStore    // nil: follow-ups are off
	Export FollowupExporter // nil: GITHUB_TOKEN or GITHUB_REPOSITORY unset
	Repo   string           // GITHUB_REPOSITORY, for replies
}

// Followups keeps an incident's follow-ups and exports them.
type Followups struct {
	*Kit
	followups FollowupDeps
}

// NewFollowups wires the family.
func NewFollowups(k *Kit, d FollowupDeps) *Followups { return &Followups{Kit: k, followups: d} }

// Title implements Family.
func (fo *Followups) Title() string { return "Follow-ups" }

// Buttons implements Family.
func (fo *Followups) Buttons() []Button { return nil }

// Commands implements Family.
func (fo *Followups) Commands() []Sub {
	return []Sub{
		{Name: "followup", Usage: "/clerk-incident followup add [INC-n] <text…> | list [INC-n] | done [INC-n] <n> | export [INC-n]",
			Summary: "the incident's follow-ups (action items): add, list, mark done, and export each to GitHub as one issue; they fill the report's Prevention",
			Who:     OnIncident, ReadForms: []string{"", "list"}, Run: fo.followupCmd,
			Verbs: []string{"add", "list", "done", "export"}, Text: true},
	}
}

func (fo *Followups) followupCmd(ctx context.Context, r Req, p Parsed) {
	if fo.followups.Store == nil {
		fo.ReplyText(ctx, r, "Follow-ups are not configured in this bot. Nothing changed.")
		return
	}
	_, rest := SplitWord(p.Rest) // the verb's argument
	switch p.Form() {
	case "", "list":
		if rest != "" {
			fo.Fail(ctx, r, &UsageError{Problem: "`followup list` takes only an incident ID.", Usage: p.Sub.Usage})
			return
		}
		fo.withIncident(ctx, r, p, true, fo.followupList)
	case "add":
		text := strings.TrimSpace(rest)
		if text == "" {
			fo.Fail(ctx, r, &UsageError{Problem: "Say what should be done, such as `followup add alert when sign-in errors pass 1%`.", Usage: p.Sub.Usage})
			return
		}
		if n := len([]rune(text)); n > MaxText {
			fo.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("The follow-up is %d characters; the limit is %d. Nothing changed.", n, MaxText), Usage: p.Sub.Usage})
			return
		}
		fo.withIncident(ctx, r, p, true, func(ctx context.Context, r Req, id string) { fo.followupAdd(ctx, r, id, text) })
	case "done":
		n, err := strconv.Atoi(strings.TrimPrefix(rest, "#"))
		if err != nil || n < 1 {
			fo.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q is not a follow-up number; `followup list` shows them.", render.Esc(render.Truncate(rest, 40))), Usage: p.Sub.Usage})
			return
		}
		fo.withIncident(ctx, r, p, true, func(ctx context.Context, r Req, id string) { fo.followupDone(ctx, r, id, n) })
	case "export":
		if rest != "" {
			fo.Fail(ctx, r, &UsageError{Problem: "`followup export` takes only an incident ID.", Usage: p.Sub.Usage})
			return
		}
		if fo.followups.Export == nil {
			r.SetOutcome("refused: github not configured")
			fo.ReplyText(ctx, r, "GitHub is not configured: set GITHUB_TOKEN and GITHUB_REPOSITORY (owner/name). Nothing was exported.")
			return
		}
		fo.withIncident(ctx, r, p, true, fo.followupExport)
	default:
		fo.Fail(ctx, r, &UsageError{Problem: fmt.Sprintf("%q: say add, list, done or export.", render.Esc(render.Truncate(p.Args[0], 40))), Usage: p.Sub.Usage})
	}
}

func (fo *Followups) followupAdd(ctx context.Context, r Req, id, text string) {
	f, err := fo.followups.Store.Add(ctx, id, text, r.Who)
	if err != nil {
		fo.Fail(ctx, r, err)
		return
	}
	if _, err := fo.incidents.Update(ctx, id, incident.Record(r.Who, fmt.Sprintf("Follow-up %d: %s", f.N, f.Text))); err != nil {
		fo.log.WithError(err).WithField("incident", id).Warn("could not record a follow-up on the timeline")
	}
	fo.ReplyText(ctx, r, fmt.Sprintf(":memo: Follow-up %d added to %s: %s\n`/clerk-incident followup export %s` files each follow-up as a GitHub issue.", f.N, id, render.Esc(f.Text), id))
}

func (fo *Followups) followupList(ctx context.Context, r Req, id string) {
	list, err := fo.followups.Store.List(ctx, id)
	if err != nil {
		fo.Fail(ctx, r, err)
		return
	}
	fo.ReplyText(ctx, r, FollowupsText(id, list))
}

// FollowupsText lists an incident's follow-ups.
func FollowupsText(id string, list []incident.Followup) string {
	if len(list) == 0 {
		return fmt.Sprintf("%s has no follow-ups yet. Add one: `/clerk-incident followup add %s &lt;text&gt;`.", id, id)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Follow-ups of %s* (%d):", id, len(list))
	for _, f := range list {
		mark := ":white_square:"
		if f.Done {
			mark = ":white_check_mark:"
		}
		fmt.Fprintf(&b, "\n%s %d. %s · added by %s", mark, f.N, render.Esc(render.OneLine(f.Text)), render.Esc(f.By.Name))
		switch {
		case f.Exported():
			fmt.Fprintf(&b, " · <%s|issue #%d>", f.Export.URL, f.Export.Number)
		case f.Export != nil:
			b.WriteString(" · export interrupted (the next export looks for it first)")
		}
	}
	return b.String()
}

func (fo *Followups) followupDone(ctx context.Context, r Req, id string, n int) {
	f, already, err := fo.followups.Store.Done(ctx, id, n, r.Who)
	if err != nil {
		fo.Fail(ctx, r, err)
		return
	}
	if already {
		fo.ReplyText(ctx, r, fmt.Sprintf("Follow-up %d of %s was already done; nothing changed.", n, id))
		return
	}
	if _, err := fo.incidents.Update(ctx, id, incident.Record(r.Who, fmt.Sprintf("Follow-up %d done", n))); err != nil {
		fo.log.WithError(err).WithField("incident", id).Warn("could not record a follow-up on the timeline")
	}
	fo.ReplyText(ctx, r, fmt.Sprintf(":white_check_mark: Follow-up %d of %s is done: %s", n, id, render.Esc(render.OneLine(f.Text))))
}

func (fo *Followups) followupExport(ctx context.Context, r Req, id string) {
	res, err := fo.followups.Export.Export(ctx, id)
	if err != nil {
		fo.Fail(ctx, r, err)
		return
	}
	var filed []string
	for _, x := range res {
		if x.Outcome == followup.Created || x.Outcome == followup.Found {
			filed = append(filed, fmt.Sprintf("%d → #%d", x.N, x.Number))
		}
		if x.Outcome == followup.Failed {
			r.SetOutcome("failed: " + render.Truncate(x.Err.Error(), 150))
		}
	}
	if len(filed) > 0 {
		if _, err := fo.incidents.Update(ctx, id, incident.Record(r.Who, "Follow-ups exported to GitHub "+fo.followups.Repo+": "+strings.Join(filed, ", "))); err != nil {
			fo.log.WithError(err).WithField("incident", id).Warn("could not record the export on the timeline")
		}
	}
	fo.ReplyText(ctx, r, ExportText(id, fo.followups.Repo, res))
}

// ExportText says how each follow-up's export ended.
func ExportText(id, repo string, res []followup.Result) string {
	if len(res) == 0 {
		return fmt.Sprintf("%s has no follow-ups to export. Add one: `/clerk-incident followup add %s &lt;text&gt;`.", id, id)
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":outbox_tray: Follow-ups of %s → GitHub %s:", id, render.Esc(repo))
	for _, x := range res {
		done := ""
		if x.Done {
			done = " (done)"
		}
		fmt.Fprintf(&b, "\n• %d%s %s → ", x.N, done, render.Esc(render.Truncate(render.OneLine(x.Text), 80)))
		switch x.Outcome {
		case followup.Created:
			fmt.Fprintf(&b, "created <%s|issue #%d>", x.URL, x.Number)
		case followup.Found:
			fmt.Fprintf(&b, "<%s|issue #%d> (created by an interrupted export; recorded now)", x.URL, x.Number)
		case followup.Already:
			fmt.Fprintf(&b, "already <%s|issue #%d>", x.URL, x.Number)
		case followup.Busy:
			b.WriteString(":hourglass: another replica is exporting it right now; `followup list` shows its issue in a moment")
		case followup.Pending:
			fmt.Fprintf(&b, ":hourglass: an interrupted export may have created it and GitHub's search does not show it yet; nothing was created twice. Run `followup export %s` again in %s.", id, max(x.RetryIn.Round(1e9), 1e9))
		case followup.Failed:
			b.WriteString(":x: " + githubSentence(x.Err))
		case followup.Skipped:
			b.WriteString("not tried (after the failure above)")
		}
	}
	return b.String()
}

// githubSentence is GitHub's refusal as its own sentence, else the code's.
func githubSentence(err error) string {
	if refusal, ok := refusalOf(err); ok {
		return render.Esc(refusal.Error())
	}
	msg, _ := Sentence(err)
	return strings.TrimPrefix(msg, ":warning: ")
}

// followupsFor is the follow-ups the report lists (none when unreadable:
// the report is still written).
func (re *Reports) followupsFor(ctx context.Context, id string) []incident.Followup {
	if re.followups == nil {
		return nil
	}
	list, err := re.followups.List(ctx, id)
	if err != nil {
		re.log.WithError(err).WithField("incident", id).Warn("could not read the follow-ups for the report")
	}
	return list
}
