package bot

import "context"

// Without Slack nothing is shared: the CLI operator's terminal is private.

// ChannelPrivate implements commands.ShareSlack.
func (o *Offline) ChannelPrivate(ctx context.Context, id string) (bool, error) {
	return false, ErrOffline
}

// ChannelMembers implements commands.ShareSlack.
func (o *Offline) ChannelMembers(ctx context.Context, id string, max int) ([]string, bool, error) {
	return nil, false, ErrOffline
}

// MemberKind implements commands.ShareSlack.
func (o *Offline) MemberKind(ctx context.Context, id string) (Member, error) {
	return Member{ID: id}, ErrOffline
}

// OpenGroup implements commands.ShareSlack.
func (o *Offline) OpenGroup(ctx context.Context, users []string) (string, error) {
	return "", ErrOffline
}
