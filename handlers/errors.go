package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Sentence turns any error into what the user reads, in one place.
// internal is true when the detail belongs in the log rather than the reply.
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
		msg := fmt.Sprintf("`%s` is not a /clerk-incident subcommand.", unknown.Word)
		if unknown.Suggest != "" {
			msg += fmt.Sprintf(" Did you mean `%s`?", unknown.Suggest)
		}
		return msg + "\n\n" + HelpMsg().Text, false
	case errors.As(err, &usage):
		return usage.Problem + "\nUsage: `" + usage.Usage + "`", false
	case errors.Is(err, incident.ErrNotFound):
		return fmt.Sprintf("There is no incident %s. `/clerk-incident list` shows the incidents.", notFoundID(err)), false
	case errors.Is(err, incident.ErrAlreadyResolved):
		return fmt.Sprintf("%s is already resolved; nothing changed.", orIt(id)), false
	case errors.Is(err, incident.ErrUnknownStep):
		return fmt.Sprintf("That step is not on the checklist of %s; nothing changed.", orIt(id)), false
	case errors.Is(err, incident.ErrNoChange):
		detail := strings.TrimSuffix(err.Error(), ": "+incident.ErrNoChange.Error())
		if idErr != nil {
			detail = strings.TrimPrefix(detail, idErr.id+": ")
		}
		return fmt.Sprintf("%s: %s; nothing changed.", orIt(id), detail), false
	case isStoreDown(err):
		return ":warning: The incident store is unavailable, retrying; nothing changed. Try again in a moment.", true
	case errors.Is(err, context.DeadlineExceeded):
		return ":warning: That took too long and was stopped; check `/clerk-incident status` before retrying.", true
	}
	return ":warning: Something went wrong; the error was logged. Check `/clerk-incident status` before retrying.", true
}

func orIt(id string) string {
	if id == "" {
		return "The incident"
	}
	return id
}

func notFoundID(err error) string {
	s := err.Error()
	if i := strings.Index(s, ":"); i > 0 {
		if id, ok := incident.ParseID(s[:i]); ok {
			return id
		}
	}
	return "by that ID"
}

func isStoreDown(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.TxFailedErr) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "LOADING")
}
