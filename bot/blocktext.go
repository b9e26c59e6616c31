package bot

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/slack-go/slack"
)

// BlocksText renders Block Kit as terminal text, block by block as Slack
// lays them out: a header, sections with their fields as "Label: value"
// lines, context lines, and each button as the command that does the
// same (typed gives the words after `do`; "" when only a click in Slack
// can). Mentions, dates, escapes and the common emoji read as words.
func BlocksText(blocks []slack.Block, typed func(actionID, value string) string) string {
	var out []string
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if t := objText(b.Text); t != "" {
				out = append(out, t, strings.Repeat("=", min(len([]rune(t)), 72)))
			}
		case *slack.SectionBlock:
			out = append(out, sectionText(b, typed)...)
		case *slack.ContextBlock:
			var parts []string
			for _, e := range b.ContextElements.Elements {
				switch e := e.(type) {
				case *slack.TextBlockObject:
					parts = append(parts, objText(e))
				case *slack.ImageBlockElement:
					parts = append(parts, e.AltText)
				}
			}
			if len(parts) > 0 {
				out = append(out, strings.Join(parts, " · "))
			}
		case *slack.ActionBlock:
			if b.Elements != nil {
				for _, e := range b.Elements.ElementSet {
					if btn, ok := e.(*slack.ButtonBlockElement); ok {
						out = append(out, buttonText(btn, typed))
					}
				}
			}
		case *slack.DividerBlock:
			out = append(out, "---")
		case *slack.ImageBlock:
			out = append(out, "[image: "+b.AltText+"]")
		}
	}
	return strings.Join(out, "\n")
}

func sectionText(b *slack.SectionBlock, typed func(actionID, value string) string) []string {
	var out []string
	if t := objText(b.Text); t != "" {
		line := t
		if b.Accessory != nil && b.Accessory.ButtonElement != nil {
			// A step with its Tick button: the command on the same line.
			line += "   " + buttonText(b.Accessory.ButtonElement, typed)
		}
		out = append(out, line)
	}
	for _, f := range b.Fields {
		// A field is "*Label*\nvalue": one "Label: value" line.
		t := objText(f)
		if f != nil {
			label, value, ok := strings.Cut(f.Text, "\n")
			if ok && len(label) > 2 && strings.HasPrefix(label, "*") && strings.HasSuffix(label, "*") {
				v := *f
				v.Text = value
				t = objText(&slack.TextBlockObject{Type: f.Type, Text: label[1 : len(label)-1]}) + ": " + strings.ReplaceAll(objText(&v), "\n", " ")
			}
		}
		out = append(out, t)
	}
	return out
}

// buttonText is a button as the command that does the same.
func buttonText(b *slack.ButtonBlockElement, typed func(actionID, value string) string) string {
	label := objText(b.Text)
	cmd := ""
	if typed != nil {
		cmd = typed(b.ActionID, b.Value)
	}
	if cmd == "" {
		return fmt.Sprintf("[%s] (a button in Slack only)", label)
	}
	return fmt.Sprintf("[%s] run: clerk-incident-bot do %s --as <you>", label, cmd)
}

func objText(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	s := t.Text
	if t.Type == slack.MarkdownType {
		// A match takes the character after it, so neighbours ("*a* *b*")
		// need another pass.
		for range 3 {
			s = emphasisRe.ReplaceAllString(s, "${1}${3}${4}")
		}
	}
	return emoji.Replace(Plain(s))
}

// emphasisRe finds *bold*, _italic_ and ~struck~ words as Slack reads
// them: the marks at word edges only (user_abc stays as it is).
var emphasisRe = regexp.MustCompile(`(^|[\s(\[>•])([*_~])([^*_~\n]+?)[*_~]([\s).,:;!?\]]|$)`)

// emoji are the shortcodes the bot writes, as a terminal shows them.
var emoji = strings.NewReplacer(
	":white_check_mark:", "✅", ":x:", "❌", ":warning:", "⚠️", ":red_circle:", "🔴",
	":large_orange_circle:", "🟠", ":large_green_circle:", "🟢", ":white_large_square:", "⬜",
	":no_entry:", "⛔", ":hourglass:", "⌛", ":rotating_light:", "🚨", ":memo:", "📝",
	":page_facing_up:", "📄", ":pencil:", "✏️", ":bell:", "🔔", ":mega:", "📣", ":lock:", "🔒",
	":raising_hand:", "🙋", ":information_source:", "ℹ️", ":busts_in_silhouette:", "👥",
	":stopwatch:", "⏱️", ":zzz:", "💤", ":clipboard:", "📋", ":mag:", "🔍",
)
