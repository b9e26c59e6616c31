package commands

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// ShareSlack is what a responders-only share needs of Slack: who reads a
// channel, a group DM, and the post or file that carries the data
// (bot.Slack; at the CLI bot.Offline, which knows no channel's readers,
// so nothing is shared).
type ShareSlack interface {
	ChannelPrivate(ctx context.Context, id string) (bool, error)
	ChannelMembers(ctx context.Context, id string, max int) ([]string, bool, error)
	MemberKind(ctx context.Context, id string) (bot.Member, error)
	OpenGroup(ctx context.Context, users []string) (string, error)
	Post(ctx context.Context, channel, threadTS string, m bot.Msg) (string, error)
	Upload(ctx context.Context, channel, threadTS, filename, title, content, comment string) error
}

// Sharing shares personal data with the responders only: the use case
// (usecase.Sharing) picks where it may go, and Slack carries it there.
type Sharing struct {
	pick  *usecase.Sharing
	slack ShareSlack
}

// NewSharing wires the share over Slack.
func NewSharing(slack ShareSlack, responders usecase.ResponderCheck, log logrus.FieldLogger) *Sharing {
	return &Sharing{pick: usecase.NewSharing(audience{slack: slack}, responders, log), slack: slack}
}

// Readers is who reads channel (usecase.Sharing.Readers).
func (s *Sharing) Readers(ctx context.Context, channel string) (usecase.Readers, error) {
	return s.pick.Readers(ctx, channel)
}

// Destination is where the asker's data about inc may go
// (usecase.Sharing.Destination).
func (s *Sharing) Destination(ctx context.Context, inc *incident.Incident, asker string) (usecase.Destination, usecase.Readers, error) {
	return s.pick.Destination(ctx, inc, asker)
}

// Post posts m where d says.
func (s *Sharing) Post(ctx context.Context, d usecase.Destination, m bot.Msg) error {
	_, err := s.slack.Post(ctx, d.Channel, d.ThreadTS, m)
	return err
}

// Upload uploads a file where d says.
func (s *Sharing) Upload(ctx context.Context, d usecase.Destination, name, title, content, comment string) error {
	return s.slack.Upload(ctx, d.Channel, d.ThreadTS, name, title, content, comment)
}

// audience is Slack as the share's use case reads it: a member's kind in
// its terms.
type audience struct{ slack ShareSlack }

func (a audience) ChannelPrivate(ctx context.Context, id string) (bool, error) {
	return a.slack.ChannelPrivate(ctx, id)
}

func (a audience) ChannelMembers(ctx context.Context, id string, max int) ([]string, bool, error) {
	return a.slack.ChannelMembers(ctx, id, max)
}

func (a audience) MemberKind(ctx context.Context, id string) (usecase.Member, error) {
	m, err := a.slack.MemberKind(ctx, id)
	return usecase.Member{ID: m.ID, Guest: m.Guest, Bot: m.Bot, Deleted: m.Deleted}, err
}

func (a audience) OpenGroup(ctx context.Context, users []string) (string, error) {
	return a.slack.OpenGroup(ctx, users)
}
