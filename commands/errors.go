package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/redis/go-redis/v9"
)

// Sentence turns any error into what the user reads, in one place, by its
// code (apperr). internal is true when the detail belongs in the log
// rather than the reply.
func Sentence(err error) (msg string, internal bool) {
	var usage *UsageError
	var unknown *UnknownError
	var idErr *idError
	id := ""
	if errors.As(err, &idErr) {
		id = idErr.id
	}
	switch {
	case errors.As(err, &unknown):
		return UnknownSentence("%s is not a /clerk-incident subcommand.", unknown.Word, unknown.Suggest), false
	case errors.As(err, &usage):
		return usage.Problem + "\nUsage: `" + render.Esc(usage.Usage) + "`", false
	case errors.Is(err, bot.ErrBusy):
		return ":hourglass: Slack is busy right now (the bot's share of its rate limit is spent); what you did is saved and Slack will catch up in a moment.", false
	case errors.Is(err, incident.ErrNotFound):
		return fmt.Sprintf("There is no incident %s. `/clerk-incident list` shows the incidents.", notFoundID(err)), false
	case errors.Is(err, incident.ErrAlreadyResolved):
		return fmt.Sprintf("%s is already resolved; nothing changed.", orIt(id)), false
	case errors.Is(err, incident.ErrUnknownStep):
		return fmt.Sprintf("That step is not on the checklist of %s; nothing changed.", orIt(id)), false
	case errors.Is(err, incident.ErrNoChange):
		detail := incident.ErrNoChange.Error()
		if nc := (*incident.NoChangeError)(nil); errors.As(err, &nc) {
			detail = nc.Why
		}
		return fmt.Sprintf("%s: %s; nothing changed.", orIt(id), detail), false
	case errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.TxFailedErr):
		return CodeSentence(apperr.UnavailableStore, ""), true
	}
	code := apperr.CodeOf(err)
	detail := apperr.MessageOf(err)
	if detail == "" && code != apperr.Internal && code != apperr.UnavailableStore && code != apperr.Timeout {
		detail = err.Error() // adapter errors (Clerk) are sentences already, without secrets
	}
	internal = code == apperr.Internal || code == apperr.UnavailableStore || code == apperr.Timeout || code == apperr.UnavailableClerk
	return CodeSentence(code, detail), internal
}

// CodeSentence is the sentence for each error code; detail, when given,
// says which thing failed.
func CodeSentence(code apperr.Code, detail string) string {
	with := func(s string) string {
		if detail == "" {
			return s
		}
		return s + " (" + strings.TrimSuffix(detail, ".") + ")"
	}
	switch code {
	case apperr.Invalid:
		return with(":x: That request is not valid and will not work on retry") + "; nothing changed."
	case apperr.NotFound:
		return with(":grey_question: Not found") + "; nothing changed."
	case apperr.Conflict:
		return with("That was already decided or changed by someone else") + "; nothing changed. Check `/clerk-incident status`."
	case apperr.UnavailableStore:
		return ":warning: The incident store is unavailable, retrying; nothing changed. Try again in a moment."
	case apperr.UnavailableClerk:
		return with(":warning: Clerk does not answer") + ". Nothing was done; check https://status.clerk.com and try again."
	case apperr.UnavailableRemote:
		return with(":warning: A service the bot posts to does not answer") + ". Nothing more was done; try again in a minute."
	case apperr.ClerkUnauthorized:
		return ":x: Clerk rejected the secret key (401): CLERK_SECRET_KEY is wrong, revoked or for another instance. Nothing was done; fix the key and restart the bot."
	case apperr.ClerkForbidden:
		return with(":x: Clerk refused this operation for this instance (403)") + ". Nothing was done; check the instance's settings and plan in the Clerk dashboard."
	case apperr.ClerkPlanRequired:
		return with(":x: This Clerk instance's plan does not include banning users (402)") + ". Nothing was done; upgrade the plan in the Clerk dashboard, or use `/clerk-incident revoke` to end the user's sessions."
	case apperr.ClerkRateLimited:
		return with(":hourglass: Clerk's rate limit is still exceeded after waiting") + ". Try again in a minute; the app shares this budget."
	case apperr.SlackChannel:
		return with(":x: The bot cannot post in the incident channel") + ". Invite it with `/invite @clerk-incident-bot`, or set SLACK_CHANNEL_ID to a channel it is in."
	case apperr.SlackUser:
		return with(":bust_in_silhouette: That Slack user cannot be reached") + ". Update contacts.yml or SLACK_RESPONDERS."
	case apperr.SlackUnavailable:
		return with(":warning: Slack does not answer the bot") + ". What was saved before stays saved; check `/clerk-incident status` before retrying, and https://slack-status.com."
	case apperr.Timeout:
		return ":warning: That took too long and was stopped; check `/clerk-incident status` before retrying."
	}
	return ":warning: Something went wrong; the error was logged. Check `/clerk-incident status` before retrying."
}

// UsageError carries the usage line of the subcommand that was misused.
type UsageError struct {
	Problem string
	Usage   string
}

func (u *UsageError) Error() string { return u.Problem }

// UnknownError is an unknown subcommand, with a suggestion.
type UnknownError struct {
	Word    string
	Suggest string
}

func (u *UnknownError) Error() string { return fmt.Sprintf("unknown subcommand %q", u.Word) }

// HelpPointer says where all commands are listed.
const HelpPointer = "`/clerk-incident help` lists all commands."

// UnknownSentence names a word that is not a command (format holds its
// %s), suggests the closest one and points at help. The word is what
// someone typed, so it is shown as plain text and kept short.
func UnknownSentence(format, word, near string) string {
	typed := "`" + render.Truncate(strings.ReplaceAll(render.Esc(word), "`", "'"), 60) + "`"
	msg := fmt.Sprintf(format, typed)
	if near != "" {
		msg += fmt.Sprintf(" Did you mean `%s`?", near)
	}
	return msg + " " + HelpPointer
}

func orIt(id string) string {
	if id == "" {
		return "The incident"
	}
	return id
}

// notFoundID names the missing incident from the error's field.
func notFoundID(err error) string {
	if nf := (*incident.NotFoundError)(nil); errors.As(err, &nf) && nf.ID != "" {
		return nf.ID
	}
	return "by that ID"
}
