package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// sectionLimit is Slack's limit for one section's text; help is split
// into sections below it rather than cut.
const sectionLimit = 3000

// commandHelp is what `help <command>` adds to a row: whole commands as a
// user types them and, where the summary is not enough, a longer
// explanation. It is kept beside the table rather than in each row so the
// rows stay one line of contract each; TestEveryCommandHasExamples keeps
// it complete and every example parsing as its command.
var commandHelp = map[string]struct {
	examples []string
	detail   string
}{
	"help": {examples: []string{"/clerk-incident help", "/clerk-incident help bypass", "/clerk-incident help security"}},
	"open": {examples: []string{"/clerk-incident open outage P1 Sign-in failing for all users", "/clerk-incident open webhook P2 user.created deliveries failing"},
		detail: "Opens a new incident of that category and posts its card, with the runbook checklist, in the incident channel. The severity and the title are optional."},
	"list":       {examples: []string{"/clerk-incident list"}},
	"ack":        {examples: []string{"/clerk-incident ack", "/clerk-incident ack INC-2"}},
	"note":       {examples: []string{"/clerk-incident note Rolled back the 14:05 deploy", "/clerk-incident note INC-2 Clerk support ticket opened"}},
	"severity":   {examples: []string{"/clerk-incident severity P1", "/clerk-incident severity INC-2 P3"}},
	"impact":     {examples: []string{"/clerk-incident impact About 40% of sign-ins fail in the EU"}},
	"mitigated":  {examples: []string{"/clerk-incident mitigated Switched sign-in to the backup instance"}},
	"resolve":    {examples: []string{"/clerk-incident resolve Clerk fixed the upstream outage; sign-ins recovered", "/clerk-incident resolve INC-2"}},
	"postmortem": {examples: []string{"/clerk-incident postmortem", "/clerk-incident postmortem INC-2"}},
	"rootcause":  {examples: []string{"/clerk-incident rootcause An expired signing key at the edge"}},
	"prevention": {examples: []string{"/clerk-incident prevention Alert on JWKS fetch errors"}},
	"lessons":    {examples: []string{"/clerk-incident lessons The bypass runbook step was unclear"}},
	"checklist":  {examples: []string{"/clerk-incident checklist", "/clerk-incident checklist INC-2"}},
	"escalate":   {examples: []string{"/clerk-incident escalate", "/clerk-incident escalate INC-2"}},
	"contacts":   {examples: []string{"/clerk-incident contacts"}},
	"revoke": {examples: []string{"/clerk-incident revoke user_2abc123", "/clerk-incident revoke INC-2 alice@example.com bob@example.com"},
		detail: "Signs the users out everywhere at once; they can sign in again. Give Clerk user IDs or e-mail addresses, separated by spaces, or one per line to paste a list."},
	"lockout": {examples: []string{"/clerk-incident lockout user_2abc123 -- credential stuffing from one IP", "/clerk-incident lockout user_2abc123 sit_2xyz789 -- a sign-in token was minted for the attacker"},
		detail: "Asks a second person to approve; once approved the users are banned in Clerk (no sign-in), every session is revoked, their trusted devices (which skip MFA) are removed, and the sign-in (sit_…) and actor (act_…) tokens named with them are revoked: Clerk cannot list a user's outstanding tokens, so name them from your app's logs. MFA is never turned off. The reason after `--` goes on the request. `unlock` lifts the ban."},
	"unlock": {examples: []string{"/clerk-incident unlock user_2abc123"}},
	"protect": {examples: []string{"/clerk-incident protect status", "/clerk-incident protect on", "/clerk-incident protect off INC-2 bot rules block our load test"},
		detail: "Clerk Protect screens sign-ups and sign-ins for bots and fraud. `on` turns its rules on at once and ticks \"Enable additional verification\"; `off` weakens protection, so it needs a second person's approval (the reason is required); `status` shows the rules and specter switches as Clerk answers."},
	"restrict": {examples: []string{"/clerk-incident restrict disposable on", "/clerk-incident restrict subaddresses on INC-2"},
		detail: "Changes one of the instance's restrictions in Clerk and shows what Clerk answered: `disposable` blocks sign-ups from throwaway e-mail domains, `subaddresses` blocks addresses like name+tag@. Turning one on ticks \"Enable additional verification\"."},
	"block": {examples: []string{"/clerk-incident block attacker@example.net", "/clerk-incident block +15555550123", "/clerk-incident block INC-2 *@evil.example -- credential stuffing source"},
		detail: "Puts the identifier on Clerk's blocklist: it can no longer sign up or sign in. An address or phone number is blocked at once (the thread names only its kind and blocklist ID); a whole domain (`*@domain`) locks out every user of it, so it needs a second person's approval. `unblock` lifts either."},
	"unblock": {examples: []string{"/clerk-incident unblock attacker@example.net", "/clerk-incident unblock *@evil.example"}},
	"rotate": {examples: []string{"/clerk-incident rotate", "/clerk-incident rotate machine mch_2abc --keep 2h key in a public repo", "/clerk-incident rotate oauth oa_2abc secret leaked in a log"},
		detail: "Rotates an exposed machine secret key or OAuth application client secret after a second person's approval. The new secret goes to the requester alone, in a direct message, once; the thread says who rotated what and until when the old key works. `--keep` is how long the old machine key keeps working (default 1h, at most 8h, 0 ends it at once); an OAuth client secret ends at once. Bare `rotate` (or `rotate instance`) explains the instance's own `sk_live_` keys, which only the Clerk Dashboard rotates. Ticks \"Reset API keys if exposed\"."},
	"access": {examples: []string{"/clerk-incident access review", "/clerk-incident access review INC-2"},
		detail: "For every account on the incident's affected list: its active sessions with IP, city, country, device and last activity, its trusted devices, and the outliers `user` flags, in one file sent to you alone. Ticks \"Review access logs\"."},
	"notify": {examples: []string{"/clerk-incident notify draft", "/clerk-incident notify draft INC-2"},
		detail: "Sends you alone the affected users' e-mail addresses as CSV for your mail tool (this ticks \"Notify affected users\") and posts a draft notice from the runbook's template in the thread: Edit it like a customer update, then click Final. The bot never e-mails users itself."},
	"user":     {examples: []string{"/clerk-incident user alice@example.com", "/clerk-incident user INC-2 user_2abc123"}},
	"affected": {examples: []string{"/clerk-incident affected", "/clerk-incident affected add user_2abc123 alice@example.com", "/clerk-incident affected remove user_2abc123", "/clerk-incident affected export"}},
	"role": {examples: []string{"/clerk-incident role commander @dana", "/clerk-incident role INC-2 comms @sam"},
		detail: "The commander leads the response; the comms person posts customer updates and is reminded when one is due. Both show on the incident card."},
	"update": {examples: []string{"/clerk-incident update draft"}},
	"bypass": {examples: []string{"/clerk-incident bypass on 30m Clerk sign-in down", "/clerk-incident bypass extend 15m still down", "/clerk-incident bypass off", "/clerk-incident bypass status"},
		detail: "While it is on, apps that read the bot's GET /v1/bypass let every request through without Clerk. `on` lasts 30m unless you give a duration (at most BYPASS_MAX_DURATION); `on` and `extend` need a second person's approval; `off` is immediate. Resolving the incident turns it off."},
	"approve": {examples: []string{"/clerk-incident approve apr-k3x9q2m7w1ab"},
		detail: "The request ID is on the approval message, whose Approve button does the same. Nobody may approve their own request."},
	"deny":     {examples: []string{"/clerk-incident deny apr-k3x9q2m7w1ab"}},
	"status":   {examples: []string{"/clerk-incident status", "/clerk-incident status INC-2", "/clerk-incident status --chart"}},
	"diagnose": {examples: []string{"/clerk-incident diagnose", "/clerk-incident diagnose 10", "/clerk-incident diagnose INC-2 --chart"}},
	"check":    {examples: []string{"/clerk-incident check"}},
	"webhook":  {examples: []string{"/clerk-incident webhook check", "/clerk-incident webhook dashboard"}},
	"resync": {examples: []string{"/clerk-incident resync --dry-run", "/clerk-incident resync --since 2026-11-24T00:00:00Z", "/clerk-incident resync status", "/clerk-incident resync cancel"},
		detail: "Sends each Clerk user to the app's webhook endpoint as a signed user.updated event, so an app that missed deliveries catches up. `--dry-run` counts without sending; `--since` sends only users updated since that date."},
	"webhooks": {examples: []string{"/clerk-incident webhooks pause resync of users missing since Tuesday", "/clerk-incident webhooks resume INC-2", "/clerk-incident webhooks status"},
		detail: "While paused, apps that read the bot's GET /v1/webhooks answer Clerk's deliveries with 503 so Svix retries them later (for about a day), and still take the resync's own signed deliveries. Pause and resume tick the data-sync checklist's steps; a reminder comes every 30 minutes while paused."},
	"deploys": {examples: []string{"/clerk-incident deploys", "/clerk-incident deploys 10"},
		detail: "Reads the app's production deployments from Vercel (VERCEL_TOKEN, VERCEL_PROJECT_ID). The one serving production now is marked; a deploy shortly before an incident opened is named in its thread."},
	"env": {examples: []string{"/clerk-incident env check", "/clerk-incident env check INC-2"},
		detail: "Checks the app's production Clerk variables on Vercel without showing any value: both keys present, the same mode (no sk_test_ beside pk_live_), the same Clerk instance, the webhook secret present, and changes in the last 24 h or since the deploy now serving. Ticks \"Verify environment variables\"."},
	"rollback": {examples: []string{"/clerk-incident rollback previous -- sign-in broke after the last deploy", "/clerk-incident rollback INC-2 dpl_8fK2mNq -- middleware matcher change"},
		detail: "Asks a second person to approve; the request shows what serves production now and what it goes back to. Once approved, the bot asks Vercel to roll back, follows the job to its end and says how it ended in the thread. Ticks \"Rollback if necessary\"."},
	"followup": {examples: []string{"/clerk-incident followup add INC-2 alert when sign-in errors pass 1%", "/clerk-incident followup list", "/clerk-incident followup done 2", "/clerk-incident followup export INC-2"},
		detail: "Follow-ups are numbered 1, 2… per incident and fill the report's Prevention. `export` files each one not yet exported as a GitHub issue in GITHUB_REPOSITORY (done ones too, their title says done), with the incident, its summary and a link back; the report then links each issue. Run it again as often as you like: each follow-up gets exactly one issue."},
	"audit": {examples: []string{"/clerk-incident audit", "/clerk-incident audit INC-2"}},
	"milestone": {examples: []string{"/clerk-incident milestone detected 14:05", "/clerk-incident milestone INC-2 mitigated 09:40 +02:00", "/clerk-incident milestone detected 2026-11-24 23:50"},
		detail: "Moves when the incident was detected (the first signal) or mitigated; the report's durations and `stats` are measured from these. Times are UTC unless a zone follows (`UTC`, `+02:00`); a bare HH:MM is the one nearest the milestone as recorded, and a date may go first. Detected is at or before the open and at most 7 days before it; mitigated is between detected and the resolve, on an incident already mitigated or resolved; nothing is in the future. Resolved incidents can be corrected."},
	"stats": {examples: []string{"/clerk-incident stats", "/clerk-incident stats 90d"},
		detail: "Counts the incidents resolved in the last 30 (or 90) days and those opened in it that are still open, by category and severity, and gives the time from detection to acknowledgement (MTTA) and to resolve (MTTR) as p50 and p90, nearest-rank."},
}

const openIncidentNote = "When `INC-n` is left out, the command applies to the only open incident."

// help answers `help` with every command by family, and `help <command>`
// with that one command in full.
func (h *Handlers) help(ctx context.Context, r commands.Req, p commands.Parsed) {
	if len(p.Args) == 0 {
		h.kit.Reply(ctx, r, h.table.helpMsg())
		return
	}
	h.kit.Reply(ctx, r, h.table.helpFor(p.Args[0]))
}

// HelpMsg lists every subcommand, one section per family (more when a
// family outgrows a section), so nothing is cut at Slack's limits. The
// text carries it all too: the break-glass CLI prints the text.
func HelpMsg() bot.Msg { return unwired().helpMsg() }

func (t table) helpMsg() bot.Msg {
	parts := []string{"*/clerk-incident* runs the Clerk incident runbook from Slack. " +
		"`/clerk-incident help &lt;command&gt;` shows one command in full, with examples."}
	var title string
	var lines []string
	flush := func() {
		parts = append(parts, packLines("*"+title+"*", lines)...)
		lines = nil
	}
	for _, s := range t.subs {
		if s.Family != title && lines != nil {
			flush()
		}
		title = s.Family
		// Usage lines hold <placeholders>: escaped, or Slack reads them as links.
		lines = append(lines, fmt.Sprintf("`%s`\n\u2003%s", render.Esc(s.Usage), s.Summary))
	}
	flush()
	return withNote(parts, openIncidentNote+" "+IDRule)
}

// withNote is sections of text and a closing context line, as blocks and
// as one text.
func withNote(sections []string, note string) bot.Msg {
	var blocks []slack.Block
	for _, text := range sections {
		blocks = append(blocks, render.Section(text))
	}
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, note, false, false)))
	return bot.Msg{Text: strings.Join(append(sections, note), "\n\n"), Blocks: blocks}
}

// packLines joins lines under a title into as few texts as fit a section,
// repeating the title, marked continued, on each further one.
func packLines(title string, lines []string) []string {
	var out []string
	cur, n := title, 0
	for _, l := range lines {
		if n > 0 && len([]rune(cur))+1+len([]rune(l)) > sectionLimit {
			out = append(out, cur)
			cur, n = strings.TrimSuffix(title, "*")+" (continued)*", 0
		}
		cur += "\n" + l
		n++
	}
	return append(out, cur)
}

// familyHelp lists one family's commands (`help security`), each with
// its usage, summary and first example.
func (t table) familyHelp(name string) (bot.Msg, bool) {
	var lines []string
	title := ""
	for _, s := range t.subs {
		if strings.ToLower(s.Family) != name || s.Name == "help" {
			continue
		}
		title = s.Family
		line := fmt.Sprintf("`%s`\n\u2003%s", render.Esc(s.Usage), s.Summary)
		if len(s.Examples) > 0 {
			line += fmt.Sprintf("\n\u2003e.g. `%s`", render.Esc(s.Examples[0]))
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return bot.Msg{}, false
	}
	return withNote(packLines("*"+title+"*", lines), openIncidentNote+" "+commands.HelpPointer), true
}

// HelpFor shows one command in full: usage, what it does, who may run
// it and examples. An unknown word gets the closest command.
func HelpFor(word string) bot.Msg { return unwired().helpFor(word) }

func (t table) helpFor(word string) bot.Msg {
	name := strings.ToLower(word)
	s, ok := t.lookup(name)
	if !ok {
		if m, ok := t.familyHelp(name); ok {
			return m
		}
		return render.Text(commands.UnknownSentence("There is no command %s.", word, t.suggest(name)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* (%s): %s\n`%s`", s.Name, s.Family, s.Summary, render.Esc(s.Usage))
	if s.Detail != "" {
		b.WriteString("\n\n" + s.Detail)
	}
	b.WriteString("\n\n*Who:* " + whoSentence(s))
	if len(s.Examples) > 0 {
		b.WriteString("\n*Examples:*")
		for _, e := range s.Examples {
			b.WriteString("\n`" + render.Esc(e) + "`")
		}
	}
	return withNote([]string{b.String()}, openIncidentNote+" "+commands.HelpPointer)
}

func whoSentence(s commands.Sub) string {
	who := map[commands.Who]string{
		commands.Anyone:    "anyone in the workspace.",
		commands.Responder: "incident responders (SLACK_RESPONDERS).",
		commands.Approver:  "approvers (SLACK_APPROVERS).",
		commands.Decider:   "approvers, or a responder; whoever made the request may withdraw it.",
		commands.OnIncident: "incident responders (SLACK_RESPONDERS); on one incident also whoever its escalation ladder pages, " +
			"and its commander and comms person (`role`).",
		commands.OnRota: "incident responders (SLACK_RESPONDERS), and members of the schedule changed.",
	}[s.Who]
	if s.Who != commands.Anyone && len(s.ReadForms) > 0 {
		var reads []string
		for _, f := range s.ReadForms {
			reads = append(reads, "`"+strings.TrimSpace("/clerk-incident "+s.Name+" "+f)+"`")
		}
		who += " Anyone may run " + strings.Join(reads, " and ") + "."
	}
	return who
}
