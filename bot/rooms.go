package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// InviteFailure is one person conversations.invite could not add, with
// Slack's reason (already_in_channel, cant_invite_self, user_not_found…).
type InviteFailure struct {
	User, Error string
}

// CreateChannel creates a public or private channel (conversations.create,
// Tier 2); the bot is its first member. Slack's code (name_taken,
// restricted_action, invalid_name_*) stays readable with SlackCode.
func (s *Slack) CreateChannel(ctx context.Context, name string, private bool) (string, error) {
	var id string
	err := s.retry(ctx, "conversations.create", "", func() error {
		ch, err := s.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: private})
		if err == nil {
			id = ch.ID
		}
		return err
	})
	return id, err
}

// Invite adds people to a channel (conversations.invite, Tier 3) with
// force, so one bad ID does not keep the others out; each one Slack
// refused comes back with its reason. err is for the call as a whole.
func (s *Slack) Invite(ctx context.Context, channel string, users []string) ([]InviteFailure, error) {
	if len(users) == 0 {
		return nil, nil
	}
	var failed []InviteFailure
	err := s.retry(ctx, "conversations.invite", "", func() error {
		_, err := s.api.ForceInviteUsersToConversationContext(ctx, channel, users...)
		return err
	})
	var se slack.SlackErrorResponse
	if err == nil || !errors.As(err, &se) {
		return nil, err
	}
	for _, e := range se.Errors {
		if ci := e.ConversationsInviteResponseError; ci != nil {
			failed = append(failed, InviteFailure{User: ci.User, Error: ci.Error})
		}
	}
	if len(failed) == 0 {
		// One reason for everyone (a single invitee, or the channel itself).
		for _, u := range users {
			failed = append(failed, InviteFailure{User: u, Error: se.Err})
		}
		if se.Err != "already_in_channel" && se.Err != "cant_invite_self" && se.Err != "user_not_found" && se.Err != "no_user" && se.Err != "cant_invite" {
			return failed, err
		}
	}
	return failed, nil
}

// Archive archives a channel (conversations.archive, Tier 2);
// already_archived counts as done.
func (s *Slack) Archive(ctx context.Context, channel string) error {
	err := s.retry(ctx, "conversations.archive", "", func() error {
		return s.api.ArchiveConversationContext(ctx, channel)
	})
	if SlackCode(err) == "already_archived" {
		return nil
	}
	return err
}

// SlackCode is Slack's error code inside err ("" when it is not Slack's).
func SlackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// MissingScopes lists the scopes of need that granted (auth.test's
// X-OAuth-Scopes header, comma-separated) lacks.
func MissingScopes(granted string, need ...string) []string {
	have := map[string]bool{}
	for _, g := range strings.Split(granted, ",") {
		have[strings.TrimSpace(g)] = true
	}
	var missing []string
	for _, n := range need {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	return missing
}

// ScopeError says which scopes the bot token lacks for a feature.
func ScopeError(feature string, missing []string) error {
	return fmt.Errorf("%s needs the bot token scope(s) %s: add them in the app's OAuth & Permissions page (slack-app-manifest.yml lists them) and reinstall the app, or turn the option off",
		feature, strings.Join(missing, ", "))
}

// SetGroupMembers replaces a user group's members (usergroups.users.update,
// Tier 2, scope usergroups:write). Slack's code (no_such_subteam,
// permission_denied when the workspace keeps group edits to admins,
// missing_scope) comes back with a sentence saying what to fix.
func (s *Slack) SetGroupMembers(ctx context.Context, group string, users []string) error {
	err := s.retry(ctx, "usergroups.users.update", "", func() error {
		_, err := s.api.UpdateUserGroupMembersListContext(ctx, group, users)
		return err
	})
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "no_such_subteam":
			return apperr.Wrap(apperr.Invalid, "the user group "+group+" does not exist (no_such_subteam): check slack_usergroup in contacts.yml", err)
		case "permission_denied":
			return apperr.Wrap(apperr.Invalid, "the workspace does not let the bot edit user group "+group+" (permission_denied): an admin can allow it under user group settings", err)
		case "missing_scope":
			return apperr.Wrap(apperr.Invalid, "the bot token lacks usergroups:write (missing_scope): add it and reinstall the app", err)
		}
	}
	return err
}

// TimeZone is a user's Slack time zone (users.info `tz`, an IANA name).
func (s *Slack) TimeZone(ctx context.Context, user string) (string, error) {
	var u *slack.User
	err := s.retry(ctx, "users.info", "", func() error {
		var err error
		u, err = s.api.GetUserInfoContext(ctx, user)
		return err
	})
	if err != nil {
		return "", err
	}
	return u.TZ, nil
}
