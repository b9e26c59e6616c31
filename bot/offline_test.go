package bot

import "testing"

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
