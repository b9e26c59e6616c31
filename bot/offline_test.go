package bot

import (
	"testing"

	"github.com/slack-go/slack"
)

// The break-glass CLI prints what Slack would show: mentions and dates as
// words, and Slack's escapes as what was typed.
func TestPlainShowsWhatSlackWouldShow(t *testing.T) {
	for in, want := range map[string]string{
		"`/clerk-incident open &lt;outage|webhook&gt;`":   "`/clerk-incident open <outage|webhook>`",
		"paged <@U1> and <!subteam^S1|@oncall>":           "paged @U1 and @oncall",
		"at <!date^1700000000^{time}|14:02>":              "at 14:02",
		"a note typed as &lt;!channel&gt; &amp;&lt;b&gt;": "a note typed as <!channel> &<b>",
		"R&amp;D said &amp;lt; is an escape":              "R&D said &lt; is an escape",
	} {
		if got := Plain(in); got != want {
			t.Errorf("Plain(%q) = %q, want %q", in, got, want)
		}
	}
}

// A reply with blocks prints as Slack lays it out: the header, fields as
// "Label: value", context lines, and buttons as the commands that do
// the same; emphasis marks go, words keep their underscores.
func TestBlocksReadAsText(t *testing.T) {
	typed := func(actionID, value string) string {
		if actionID == "inc_ack" {
			return "ack " + value
		}
		return ""
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "INC-1 · Down", false, false)),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			slack.NewTextBlockObject(slack.MarkdownType, "*Lead*\n<@U1|alice>", false, false),
			slack.NewTextBlockObject(slack.MarkdownType, "*Status*\n:red_circle: Investigating", false, false)}, nil),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Timeline* _latest_ ~old~ *a* *b* user_abc_def &lt;x&gt;", false, false), nil,
			slack.NewAccessory(slack.NewButtonBlockElement("inc_ack", "INC-1", slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false)))),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "3/11 steps done", false, false)),
		slack.NewActionBlock("a", slack.NewButtonBlockElement("draft_edit", "INC-1", slack.NewTextBlockObject(slack.PlainTextType, "Edit", false, false))),
	}
	want := "INC-1 · Down\n============\nLead: alice\nStatus: 🔴 Investigating\n" +
		"Timeline latest old a b user_abc_def <x>   [Acknowledge] run: clerk-incident-bot do ack INC-1 --as <you>\n" +
		"3/11 steps done\n[Edit] (a button in Slack only)"
	if got := BlocksText(blocks, typed); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
