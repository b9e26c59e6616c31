package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// CanTell opens the direct message a new secret will go to, before the
// secret exists: a rotation nobody can be given is not done.
func (f *Files) CanTell(ctx context.Context, user string) error {
	if user == "" || user[0] != 'U' && user[0] != 'W' {
		return errors.New("not a Slack user: the CLI cannot receive a secret")
	}
	if _, err := f.dms.get(ctx, user); err != nil {
		return fmt.Errorf("open a direct message with %s: %w", user, err)
	}
	return nil
}

// TellSecret posts a new secret in the person's direct message with the
// bot, once: never in a channel, a thread line, the timeline or a log.
func (f *Files) TellSecret(ctx context.Context, user string, s render.Secret) error {
	ch, err := f.dms.get(ctx, user)
	if err != nil {
		return fmt.Errorf("open a direct message with %s: %w", user, err)
	}
	if _, err := f.slack.Post(ctx, ch, "", render.SecretMsg(s)); err != nil {
		return fmt.Errorf("send the new secret to %s: %w", user, err)
	}
	return nil
}
