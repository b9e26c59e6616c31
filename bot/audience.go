package bot

import (
	"context"

	"github.com/slack-go/slack"
)

// Who reads a channel: what "Share in thread" must warn about before
// personal data goes there.

// ChannelPrivate reports whether a channel is private (conversations.info,
// channels:read and groups:read).
func (s *Slack) ChannelPrivate(ctx context.Context, id string) (bool, error) {
	var ch *slack.Channel
	err := s.retry(ctx, "conversations.info", "", func() error {
		var err error
		ch, err = s.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		return err
	})
	if err != nil {
		return false, err
	}
	return ch.IsPrivate || ch.IsGroup || ch.IsMpIM || ch.IsIM, nil
}

// ChannelMembers lists a channel's members (conversations.members, paged
// by cursor, at most max of them; more reports whether there were more).
func (s *Slack) ChannelMembers(ctx context.Context, id string, max int) (members []string, more bool, err error) {
	cursor := ""
	for {
		var page []string
		var next string
		err := s.retry(ctx, "conversations.members", "", func() error {
			var err error
			page, next, err = s.api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: id, Cursor: cursor, Limit: 200})
			return err
		})
		if err != nil {
			return nil, false, err
		}
		members = append(members, page...)
		if len(members) >= max {
			return members[:max], len(members) > max || next != "", nil
		}
		if next == "" {
			return members, false, nil
		}
		cursor = next
	}
}

// Member is what users.info says of one channel member.
type Member struct {
	ID string
	// Guest: a multi-channel (is_restricted) or single-channel
	// (is_ultra_restricted) guest.
	Guest, Bot, Deleted bool
}

// MemberKind reads one user's kind (users.info, Tier 4).
func (s *Slack) MemberKind(ctx context.Context, id string) (Member, error) {
	var u *slack.User
	err := s.retry(ctx, "users.info", "", func() error {
		var err error
		u, err = s.api.GetUserInfoContext(ctx, id)
		return err
	})
	if err != nil {
		return Member{ID: id}, err
	}
	return Member{ID: id, Guest: u.IsRestricted || u.IsUltraRestricted, Bot: u.IsBot, Deleted: u.Deleted}, nil
}

// OpenGroup opens (or finds) a group DM of the bot with users
// (conversations.open; Slack takes at most 8 users besides the bot).
func (s *Slack) OpenGroup(ctx context.Context, users []string) (string, error) {
	var id string
	err := s.retry(ctx, "conversations.open", "", func() error {
		ch, _, _, err := s.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: users})
		if err == nil {
			id = ch.ID
		}
		return err
	})
	return id, err
}
