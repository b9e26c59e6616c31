package fakeslack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Slack's Block Kit limits, as documented (REFERENCE.md §1 and Slack's
// block and element reference). The fake refuses what Slack refuses, so
// a test catches a reply Slack would drop.
const (
	maxMessageBlocks = 50
	maxModalBlocks   = 100
	maxMessageText   = 40000 // top-level text: Slack truncates beyond this
)

// blockError is the first limit a block list breaks, in Slack's own
// form ("must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
// or "" when Slack would take it. Slack answers it as invalid_blocks.
func validBlocks(raw string) string {
	if raw == "" {
		return ""
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return "blocks is not a JSON array of objects [json-pointer:/blocks]"
	}
	return checkBlocks(blocks, maxMessageBlocks, "/blocks")
}

// validView checks a modal (views.open, views.update): 100 blocks, and
// the title, submit and close texts.
func validView(raw json.RawMessage) string {
	var v struct {
		Type            string           `json:"type"`
		Title           map[string]any   `json:"title"`
		Submit          map[string]any   `json:"submit"`
		Close           map[string]any   `json:"close"`
		CallbackID      string           `json:"callback_id"`
		PrivateMetadata string           `json:"private_metadata"`
		Blocks          []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "view is not a JSON object [json-pointer:/view]"
	}
	if v.Type != "modal" && v.Type != "home" {
		return "must be one of modal, home [json-pointer:/view/type]"
	}
	if v.Type == "modal" {
		if v.Title == nil {
			return "missing required field: title [json-pointer:/view]"
		}
		if e := checkText(v.Title, 24, true, "/view/title"); e != "" {
			return e
		}
	}
	for name, t := range map[string]map[string]any{"submit": v.Submit, "close": v.Close} {
		if t != nil {
			if e := checkText(t, 24, true, "/view/"+name); e != "" {
				return e
			}
		}
	}
	if e := maxLen(v.CallbackID, 255, "/view/callback_id"); e != "" {
		return e
	}
	if e := maxLen(v.PrivateMetadata, 3000, "/view/private_metadata"); e != "" {
		return e
	}
	return checkBlocks(v.Blocks, maxModalBlocks, "/view/blocks")
}

func checkBlocks(blocks []map[string]any, max int, at string) string {
	if len(blocks) > max {
		return fmt.Sprintf("no more than %d items allowed [json-pointer:%s]", max, at)
	}
	for i, b := range blocks {
		if e := checkBlock(b, fmt.Sprintf("%s/%d", at, i)); e != "" {
			return e
		}
	}
	return ""
}

func checkBlock(b map[string]any, at string) string {
	if id, _ := b["block_id"].(string); id != "" {
		if e := maxLen(id, 255, at+"/block_id"); e != "" {
			return e
		}
	}
	switch typ, _ := b["type"].(string); typ {
	case "section":
		text, hasText := b["text"].(map[string]any)
		fields, _ := b["fields"].([]any)
		if !hasText && len(fields) == 0 {
			return "must provide either text or fields [json-pointer:" + at + "]"
		}
		if hasText {
			if e := checkText(text, 3000, false, at+"/text"); e != "" {
				return e
			}
		}
		if len(fields) > 10 {
			return "no more than 10 items allowed [json-pointer:" + at + "/fields]"
		}
		for i, f := range fields {
			if e := checkText(asObject(f), 2000, false, fmt.Sprintf("%s/fields/%d", at, i)); e != "" {
				return e
			}
		}
		if acc, ok := b["accessory"].(map[string]any); ok {
			return checkElement(acc, at+"/accessory")
		}
	case "header":
		return checkText(asObject(b["text"]), 150, true, at+"/text")
	case "context":
		els, _ := b["elements"].([]any)
		if len(els) == 0 {
			return "must provide at least 1 item [json-pointer:" + at + "/elements]"
		}
		if len(els) > 10 {
			return "no more than 10 items allowed [json-pointer:" + at + "/elements]"
		}
		for i, el := range els {
			o := asObject(el)
			p := fmt.Sprintf("%s/elements/%d", at, i)
			if o["type"] == "image" {
				continue
			}
			if e := checkText(o, 3000, false, p); e != "" {
				return e
			}
		}
	case "actions":
		els, _ := b["elements"].([]any)
		if len(els) == 0 {
			return "must provide at least 1 item [json-pointer:" + at + "/elements]"
		}
		if len(els) > 25 {
			return "no more than 25 items allowed [json-pointer:" + at + "/elements]"
		}
		for i, el := range els {
			if e := checkElement(asObject(el), fmt.Sprintf("%s/elements/%d", at, i)); e != "" {
				return e
			}
		}
	case "input":
		if e := checkText(asObject(b["label"]), 2000, true, at+"/label"); e != "" {
			return e
		}
		if h, ok := b["hint"].(map[string]any); ok {
			if e := checkText(h, 2000, true, at+"/hint"); e != "" {
				return e
			}
		}
		return checkElement(asObject(b["element"]), at+"/element")
	case "divider", "image", "rich_text", "file", "video":
	case "":
		return "missing required field: type [json-pointer:" + at + "]"
	default:
		return fmt.Sprintf("unsupported type: %s [json-pointer:%s/type]", typ, at)
	}
	return ""
}

// checkElement checks the interactive elements the bot uses.
func checkElement(el map[string]any, at string) string {
	if id, _ := el["action_id"].(string); id != "" {
		if e := maxLen(id, 255, at+"/action_id"); e != "" {
			return e
		}
	}
	switch el["type"] {
	case "button":
		if e := checkText(asObject(el["text"]), 75, true, at+"/text"); e != "" {
			return e
		}
		v, _ := el["value"].(string)
		if e := maxLen(v, 2000, at+"/value"); e != "" {
			return e
		}
		u, _ := el["url"].(string)
		if e := maxLen(u, 3000, at+"/url"); e != "" {
			return e
		}
		if c, ok := el["confirm"].(map[string]any); ok {
			for _, f := range []struct {
				name  string
				limit int
			}{{"title", 100}, {"text", 300}, {"confirm", 30}, {"deny", 30}} {
				if e := checkText(asObject(c[f.name]), f.limit, f.name != "text", at+"/confirm/"+f.name); e != "" {
					return e
				}
			}
		}
	case "plain_text_input":
		if p, ok := el["placeholder"].(map[string]any); ok {
			if e := checkText(p, 150, true, at+"/placeholder"); e != "" {
				return e
			}
		}
		if n, ok := el["max_length"].(float64); ok && n > 3000 {
			return "must be less than 3001 [json-pointer:" + at + "/max_length]"
		}
	case nil:
		return "missing required field: type [json-pointer:" + at + "]"
	}
	return ""
}

// checkText checks a text object: present, not empty, within limit, and
// plain_text where Slack requires it.
func checkText(t map[string]any, limit int, plainOnly bool, at string) string {
	if t == nil {
		return "missing required field: text [json-pointer:" + at + "]"
	}
	typ, _ := t["type"].(string)
	if typ != "plain_text" && (plainOnly || typ != "mrkdwn") {
		return "must be a valid enum value [json-pointer:" + at + "/type]"
	}
	s, _ := t["text"].(string)
	if strings.TrimSpace(s) == "" {
		return "must be more than 0 characters [json-pointer:" + at + "/text]"
	}
	return maxLen(s, limit, at+"/text")
}

func maxLen(s string, limit int, at string) string {
	if n := len([]rune(s)); n > limit {
		return fmt.Sprintf("must be less than %d characters (got %d) [json-pointer:%s]", limit+1, n, at)
	}
	return ""
}

func asObject(v any) map[string]any {
	o, _ := v.(map[string]any)
	return o
}

// truncText is Slack's handling of a long top-level text: kept, cut.
func truncText(s string) string {
	if r := []rune(s); len(r) > maxMessageText {
		return string(r[:maxMessageText])
	}
	return s
}

// controlStart is how each of Slack's own <…> sequences starts: user and
// channel mentions, commands (<!here>, <!subteam^…>, <!date^…>) and links.
var controlStart = regexp.MustCompile(`^<([@#!]|https?://|mailto:)`)

// misrendered returns the text around the first < in the message's
// mrkdwn (its text and every mrkdwn object of its blocks) that starts
// none of Slack's sequences, or "".
func misrendered(text, blocks string) string {
	texts := []string{text}
	var v any
	if json.Unmarshal([]byte(blocks), &v) == nil {
		texts = append(texts, mrkdwnTexts(v)...)
	}
	for _, t := range texts {
		for i := strings.IndexByte(t, '<'); i >= 0; {
			if !controlStart.MatchString(t[i:]) {
				return strings.TrimSpace(t[max(0, i-40):min(len(t), i+40)])
			}
			next := strings.IndexByte(t[i+1:], '<')
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
	return ""
}

// mrkdwnTexts collects the text of every {"type":"mrkdwn"} object.
func mrkdwnTexts(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "mrkdwn" {
			if t, ok := x["text"].(string); ok {
				out = append(out, t)
			}
		}
		for _, c := range x {
			out = append(out, mrkdwnTexts(c)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, mrkdwnTexts(c)...)
		}
	}
	return out
}
