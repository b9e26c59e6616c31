package app

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// newRoster is the on-call schedules of contacts.yml over Redis (nil
// when there are none).
func newRoster(c *escalation.Contacts, rdb redis.UniversalClient, cfg Config, opt Options, log logrus.FieldLogger) *oncall.Roster {
	if c == nil || len(c.Schedules) == 0 {
		return nil
	}
	log.WithField("schedules", len(c.Schedules)).Info("on-call schedules loaded")
	return oncall.NewRoster(c.Schedules, rdb, cfg.RedisPrefix, opt.Now, log.WithField("component", "oncall"))
}

// userGroups are the user groups the schedules keep (slack_usergroup).
func userGroups(c *escalation.Contacts) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, s := range c.Schedules {
		if s.UserGroup != "" {
			out = append(out, s.UserGroup)
		}
	}
	return out
}

// checkGroupScopes fails start-up when a schedule keeps a user group and
// the token cannot edit groups (usergroups:write), as checkRoomScopes
// does for incident channels.
func checkGroupScopes(groups []string, g *grantedScopes) error {
	g.mu.Lock()
	scopes, seen := g.scopes, g.seen
	g.mu.Unlock()
	if len(groups) == 0 || !seen {
		return nil
	}
	if missing := bot.MissingScopes(scopes, "usergroups:write"); len(missing) > 0 {
		return bot.ScopeError(fmt.Sprintf("contacts.yml slack_usergroup (%v)", groups), missing)
	}
	return nil
}

// oncallSlack is the on-call side of Slack: DMs, the user groups, and
// the channel told when a group cannot be set.
type oncallSlack struct {
	out     slackSide
	channel string
	log     logrus.FieldLogger
}

// DM sends a direct message.
func (o oncallSlack) DM(ctx context.Context, user, text string) error {
	ch, err := o.out.OpenDM(ctx, user)
	if err != nil {
		return err
	}
	_, err = o.out.Post(ctx, ch, "", render.Text(text))
	return err
}

// TimeZone is the user's Slack time zone.
func (o oncallSlack) TimeZone(ctx context.Context, user string) (string, error) {
	return o.out.TimeZone(ctx, user)
}

// CheckUser reports whether the user can be paged.
func (o oncallSlack) CheckUser(ctx context.Context, id string) error { return o.out.CheckUser(ctx, id) }

// OnCallNow tells the incoming person.
func (o oncallSlack) OnCallNow(ctx context.Context, user string, n oncall.Now) error {
	var reader *time.Location
	if tz, err := o.out.TimeZone(ctx, user); err == nil && tz != "" {
		reader, _ = time.LoadLocation(tz) // nil when Slack names a zone we lack: UTC is shown
	}
	return o.DM(ctx, user, render.HandoffText(n, reader))
}

// SetGroup replaces the group's members.
func (o oncallSlack) SetGroup(ctx context.Context, group string, users []string) error {
	return o.out.SetGroupMembers(ctx, group, users)
}

// GroupRefused says in the channel (once per handoff: the roster claims
// it) that the user group still names someone else.
func (o oncallSlack) GroupRefused(ctx context.Context, s *oncall.Schedule, who oncall.Member, err error) {
	why := apperr.MessageOf(err)
	if why == "" {
		why = "Slack did not take it; the error was logged"
	}
	if o.channel == "" {
		return
	}
	text := fmt.Sprintf(":warning: %s is on call in *%s*, but %s could not be set to them: %s.",
		render.Esc(who.Name), render.Esc(s.Name), render.Mention(s.UserGroup), render.Esc(why))
	if _, perr := o.out.Post(ctx, o.channel, "", render.Text(text)); perr != nil {
		o.log.WithError(perr).Warn("could not say that the on-call user group was not set")
	}
}
