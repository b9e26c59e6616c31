package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// Messages that break one of Slack's Block Kit limits, each just over it.
func overLimit() map[string][]slack.Block {
	text := func(n int) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", n), false, false)
	}
	plain := func(n int) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("x", n), false, false)
	}
	button := func(label, value, actionID int) slack.BlockElement {
		return slack.NewButtonBlockElement(strings.Repeat("a", actionID), strings.Repeat("v", value), plain(label))
	}
	many := func(n int, b func() slack.Block) []slack.Block {
		var out []slack.Block
		for range n {
			out = append(out, b())
		}
		return out
	}
	var ctxEls []slack.MixedElement
	for range 11 {
		ctxEls = append(ctxEls, text(5))
	}
	var buttons []slack.BlockElement
	for range 26 {
		buttons = append(buttons, button(5, 5, 5))
	}
	var fields []*slack.TextBlockObject
	for range 11 {
		fields = append(fields, text(5))
	}
	return map[string][]slack.Block{
		"section text 3001":  {slack.NewSectionBlock(text(3001), nil, nil)},
		"empty section text": {slack.NewSectionBlock(text(0), nil, nil)},
		"section field 2001": {slack.NewSectionBlock(nil, []*slack.TextBlockObject{text(2001)}, nil)},
		"11 section fields":  {slack.NewSectionBlock(nil, fields, nil)},
		"header text 151":    {slack.NewHeaderBlock(plain(151))},
		"header in mrkdwn":   {slack.NewHeaderBlock(text(5))},
		"11 context items":   {slack.NewContextBlock("", ctxEls...)},
		"26 actions":         {slack.NewActionBlock("", buttons...)},
		"button text 76":     {slack.NewActionBlock("", button(76, 5, 5))},
		"button value 2001":  {slack.NewActionBlock("", button(5, 2001, 5))},
		"action_id 256":      {slack.NewActionBlock("", button(5, 5, 256))},
		"block_id 256":       {slack.NewSectionBlock(text(5), nil, nil, slack.SectionBlockOptionBlockID(strings.Repeat("b", 256)))},
		"51 blocks":          many(51, func() slack.Block { return slack.NewDividerBlock() }),
	}
}

// Every method that takes blocks refuses a message over Slack's limits
// as Slack does, keeps nothing, and records why; at the limit it is taken.
func TestFakeSlackEnforcesBlockLimitsOnEveryMethod(t *testing.T) {
	s := New()
	t.Cleanup(s.Close)
	s.Unlimited()
	api := slack.New(s.BotToken, slack.OptionAPIURL(s.APIURL()))
	ctx := context.Background()
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]func(blocks []slack.Block) error{
		"chat.postMessage": func(b []slack.Block) error {
			_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false), slack.MsgOptionBlocks(b...))
			return err
		},
		"chat.postEphemeral": func(b []slack.Block) error {
			_, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("x", false), slack.MsgOptionBlocks(b...))
			return err
		},
		"chat.update": func(b []slack.Block) error {
			_, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("x", false), slack.MsgOptionBlocks(b...))
			return err
		},
		"response_url": func(b []slack.Block) error {
			return slack.PostWebhookContext(ctx, s.ResponseURL("U1", "C1"), &slack.WebhookMessage{Text: "x", Blocks: &slack.Blocks{BlockSet: b}})
		},
	}
	for name, blocks := range overLimit() {
		for method, call := range methods {
			before := len(s.Messages())
			err := call(blocks)
			var se slack.SlackErrorResponse
			var sc slack.StatusCodeError
			switch {
			case method == "response_url" && errors.As(err, &sc) && sc.Code == http.StatusBadRequest:
			case method != "response_url" && errors.As(err, &se) && se.Err == "invalid_blocks":
			default:
				t.Errorf("%s with %s: %v, want invalid_blocks", method, name, err)
			}
			if len(s.Messages()) != before {
				t.Errorf("%s with %s: a message was kept", method, name)
			}
		}
	}
	if n := len(s.Rejected()); n != len(overLimit())*len(methods) {
		t.Errorf("%d refusals recorded, want %d", n, len(overLimit())*len(methods))
	}
	atLimit := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", 3000), false, false), nil, nil),
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("x", 150), false, false))}
	for range 48 {
		atLimit = append(atLimit, slack.NewDividerBlock())
	}
	for method, call := range methods {
		if err := call(atLimit); err != nil {
			t.Errorf("%s at the limits: %v", method, err)
		}
	}
}

// A top-level text over 40,000 characters is kept, cut, as Slack does.
func TestFakeSlackTruncatesLongText(t *testing.T) {
	s := New()
	t.Cleanup(s.Close)
	api := slack.New(s.BotToken, slack.OptionAPIURL(s.APIURL()))
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText(strings.Repeat("x", 40001), false)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Messages()[0].Text); n != 40000 {
		t.Fatalf("text of %d characters kept", n)
	}
}

// views.open and views.update take 100 blocks in a modal and a title of
// 24 characters, and answer invalid_arguments beyond.
func TestFakeSlackEnforcesModalLimits(t *testing.T) {
	s := New()
	t.Cleanup(s.Close)
	api := slack.New(s.BotToken, slack.OptionAPIURL(s.APIURL()))
	modal := func(title string, n int) slack.ModalViewRequest {
		var blocks []slack.Block
		for range n {
			blocks = append(blocks, slack.NewDividerBlock())
		}
		return slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
			Blocks: slack.Blocks{BlockSet: blocks}}
	}
	for name, v := range map[string]slack.ModalViewRequest{"101 blocks": modal("Draft", 101), "title of 25": modal(strings.Repeat("t", 25), 1)} {
		_, err := api.OpenView(s.newTrigger("U1"), v)
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != "invalid_arguments" {
			t.Errorf("%s: %v, want invalid_arguments", name, err)
		}
	}
	opened, err := api.OpenView(s.newTrigger("U1"), modal(strings.Repeat("t", 24), 100))
	if err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	_, err = api.UpdateView(modal("Draft", 101), "", "", opened.ID)
	if se := (slack.SlackErrorResponse{}); !errors.As(err, &se) || se.Err != "invalid_arguments" {
		t.Errorf("views.update with 101 blocks: %v, want invalid_arguments", err)
	}
	if _, err := api.UpdateView(modal("Draft", 100), "", "", opened.ID); err != nil {
		t.Errorf("views.update at the limits: %v", err)
	}
	if len(s.Rejected()) != 3 {
		t.Errorf("refusals %q", s.Rejected())
	}
}

// Slack reads every <…> in mrkdwn as one of its sequences: the fake
// notes a < that starts none of them, in the text or any mrkdwn block,
// and passes plain_text, mentions, commands, dates, links and escapes.
func TestMisrenderedFindsBareAngleBrackets(t *testing.T) {
	section := func(kind, text string) string {
		raw, _ := json.Marshal([]any{map[string]any{"type": "section", "text": map[string]any{"type": kind, "text": text}}})
		return string(raw)
	}
	for _, c := range []struct {
		text, blocks string
		bad          bool
	}{
		{"`open <outage|webhook>`", "", true},
		{"", section("mrkdwn", "record it with `impact INC-1 <affected users>`"), true},
		{"fine", section("plain_text", "Add details with resolve INC-1 <resolution>"), false},
		{"paged <@U1>, <#C1|incidents>, <!here>, <!subteam^S1|@oncall> at <!date^1700000000^{time}|14:02>", "", false},
		{"see <https://status.clerk.com|the status page> or <mailto:a@b.example|mail>", "", false},
		{"typed &lt;!channel&gt; and 3 > 2", section("mrkdwn", "&lt;outage&gt;"), false},
	} {
		if got := misrendered(c.text, c.blocks); (got != "") != c.bad {
			t.Errorf("misrendered(%q, %q) = %q, want bad=%v", c.text, c.blocks, got, c.bad)
		}
	}
}
