package render

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/slack-go/slack"
)

// Action IDs of a draft update's buttons (value: INC-n) and the modal's
// callback ID.
const (
	ActDraftEdit    = "draft_edit"
	ActDraftPost    = "draft_post"
	ActDraftDiscard = "draft_discard"
	ViewDraftEdit   = "draft_edit"
)

// DraftMsg shows a draft customer update with Edit, Post and Discard.
func DraftMsg(incID, text string) bot.Msg {
	body := fmt.Sprintf(":memo: *Draft customer update for %s* (not sent yet):\n>%s", incID, Esc(text))
	return bot.Msg{Text: "Draft customer update for " + incID, Blocks: []slack.Block{Section(body),
		slack.NewActionBlock("draft", Button(ActDraftEdit, "Edit", incID, ""), Button(ActDraftPost, "Post", incID, slack.StylePrimary),
			Button(ActDraftDiscard, "Discard", incID, slack.StyleDanger))}}
}

// DraftDoneMsg replaces a draft once posted or discarded.
func DraftDoneMsg(incID, text, outcome string) bot.Msg {
	body := fmt.Sprintf(":memo: *Customer update for %s* — %s\n>%s", incID, outcome, Esc(text))
	return bot.Msg{Text: "Customer update for " + incID + ": " + outcome, Blocks: []slack.Block{Section(body)}}
}

// DraftBlock is the block_id of the modal's input, where refusals show.
const DraftBlock = "update"

// DraftModal edits a draft; private_metadata carries the incident ID and
// the draft's version ("INC-n|version"), so a save onto a draft posted or
// replaced since is refused.
func DraftModal(incID, version, text string) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(plain("The update customers will read"), "text")
	input.Multiline = true
	input.InitialValue = text
	input.MaxLength = 2900
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: ViewDraftEdit, PrivateMetadata: incID + "|" + version,
		Title: plain("Customer update"), Submit: plain("Save draft"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock(DraftBlock, plain("Update for "+incID), nil, input)}}}
}

// DraftMeta reads a draft modal's private_metadata; version is "" in a
// modal opened before versions were carried.
func DraftMeta(meta string) (incID, version string, ok bool) {
	id, version, _ := strings.Cut(meta, "|")
	incID, ok = incident.ParseID(id)
	return incID, version, ok
}

// AnnouncementMsg is a customer update as posted in the announcement
// channel. The fallback text, shown in notifications, is escaped like the
// blocks: Slack parses it as mrkdwn too.
func AnnouncementMsg(incID, text string) bot.Msg {
	return bot.Msg{Text: Esc(text), Blocks: []slack.Block{Section(Esc(text)),
		contextBlock("Status update for " + incID + " from the incident team")}}
}
