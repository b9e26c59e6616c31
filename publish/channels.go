package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/rooms"
)

// ChannelSlack is what incident channels need of Slack (bot.Slack, paced).
type ChannelSlack interface {
	CreateChannel(ctx context.Context, name string, private bool) (string, error)
	Invite(ctx context.Context, channel string, users []string) ([]bot.InviteFailure, error)
	Archive(ctx context.Context, channel string) error
	Post(ctx context.Context, channel, threadTS string, m bot.Msg) (string, error)
	Update(ctx context.Context, channel, ts string, m bot.Msg) error
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Channels is Slack for incident channels (rooms.Channels): it creates,
// fills, announces and archives them, and reads Slack's error codes so
// rooms never sees one.
type Channels struct {
	slack ChannelSlack
}

// NewChannels builds the Slack side of incident channels.
func NewChannels(slack ChannelSlack) *Channels { return &Channels{slack: slack} }

// ChannelScopes are the bot token scopes incident channels need.
func ChannelScopes(private bool) []string {
	if private {
		return []string{"groups:write"}
	}
	return []string{"channels:manage"}
}

// maxNameTries bounds the name_taken suffixes tried (name-2 … name-20).
const maxNameTries = 20

// Create makes a channel under name, or name-2 … name-20 while Slack says
// name_taken (conversations.create); used is the last name tried. A
// refusal is a *rooms.Refusal with the reason people read.
func (c *Channels) Create(ctx context.Context, name string, private bool) (id, used string, err error) {
	used = name
	for k := 1; k <= maxNameTries; k++ {
		if k > 1 {
			used = rooms.WithSuffix(name, k)
		}
		id, err = c.slack.CreateChannel(ctx, used, private)
		if bot.SlackCode(err) != "name_taken" {
			break
		}
	}
	if err != nil {
		return "", used, &rooms.Refusal{Reason: createRefused(err), Err: err}
	}
	return id, used, nil
}

// createRefused is the reason a person reads for a refused create.
func createRefused(err error) string {
	switch code := bot.SlackCode(err); code {
	case "restricted_action":
		return "restricted_action: the workspace lets only some people create channels; ask an admin to allow the app, or set INCIDENT_CHANNELS=off"
	case "name_taken":
		return fmt.Sprintf("name_taken: %d names with suffixes were taken", maxNameTries)
	case "missing_scope":
		return "missing_scope: the bot token lacks channels:manage (groups:write for private channels)"
	case "":
		if errors.Is(err, bot.ErrBusy) {
			return "Slack is busy: the bot's share of its rate limit is spent"
		}
		return "Slack did not answer"
	default:
		return code
	}
}

// Invite adds people to a channel; those already in it (or the bot
// itself) are not failures.
func (c *Channels) Invite(ctx context.Context, channel string, users []string) ([]rooms.InviteFailure, error) {
	failed, err := c.slack.Invite(ctx, channel, users)
	if err != nil {
		return nil, err
	}
	var out []rooms.InviteFailure
	for _, f := range failed {
		if f.Error == "already_in_channel" || f.Error == "cant_invite_self" {
			continue
		}
		out = append(out, rooms.InviteFailure{User: f.User, Why: f.Error})
	}
	return out, nil
}

// Announce posts the main channel's line about an incident with a room.
func (c *Channels) Announce(ctx context.Context, channel string, inc *incident.Incident) (string, error) {
	return c.slack.Post(ctx, channel, "", bot.Msg{Text: AnnounceText(inc)})
}

// Reannounce rewrites that line.
func (c *Channels) Reannounce(ctx context.Context, channel, ts string, inc *incident.Incident) error {
	return c.slack.Update(ctx, channel, ts, bot.Msg{Text: AnnounceText(inc)})
}

// Archive archives a channel; the codes that will not change on retry
// (the bot is not in it, it is gone, general or required, the workspace
// forbids it) come back as rooms.ErrArchiveRefused.
func (c *Channels) Archive(ctx context.Context, channel string) error {
	err := c.slack.Archive(ctx, channel)
	switch bot.SlackCode(err) {
	case "not_in_channel", "channel_not_found", "cant_archive_general", "cant_archive_required", "restricted_action":
		return fmt.Errorf("%w: %w", rooms.ErrArchiveRefused, err)
	}
	return err
}

// GroupMembers are a user group's members (usergroups.users.list).
func (c *Channels) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	return c.slack.GroupMembers(ctx, groupID)
}

// AnnounceText is the main channel's line about an incident with a room.
func AnnounceText(inc *incident.Incident) string {
	state := rooms.Progress(inc)
	icon := map[string]string{"resolved": ":white_check_mark:", "mitigated": ":large_yellow_circle:", "acknowledged": ":eyes:"}[state]
	if icon == "" {
		icon = ":rotating_light:"
	}
	if state == "acknowledged" {
		state += " by " + render.Esc(inc.AckedBy.Display())
	}
	return fmt.Sprintf("%s *%s* (%s, %s) %s — %s. Follow it in <#%s>.", icon, inc.ID, inc.Severity, inc.Category,
		render.Esc(inc.Title), state, inc.Room)
}
