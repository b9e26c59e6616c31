package usecase

import (
	"context"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// The approval doers: what a dangerous action does once a second person
// approved it (approval.Doer). Each returns what it did as data
// (approval.Outcome); the publisher words it for Slack.

// Ticker ticks a checklist step the action performed.
type Ticker interface {
	AutoTick(ctx context.Context, incidentID string, who incident.Person, step, what string)
}

// errSentence is an error as a plain sentence for an outcome: the
// adapter's own words (Clerk's, Vercel's errors carry no secrets), or,
// for a failure of the bot itself, that it was logged.
func errSentence(log logrus.FieldLogger, err error) string {
	ours := map[apperr.Code]string{
		apperr.Internal:         "something went wrong; the error was logged",
		apperr.UnavailableStore: "the incident store is unavailable; the error was logged",
		apperr.Timeout:          "it took too long and was stopped; the error was logged",
	}
	if s, ok := ours[apperr.CodeOf(err)]; ok {
		log.WithError(err).Warn("approved action failed")
		return s
	}
	if m := apperr.MessageOf(err); m != "" {
		return m
	}
	return err.Error()
}

// capital starts s with a capital letter.
func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
