// Package apperr is the one error type of the program (after WTF Dial's
// wtf.Error): adapters and domain packages wrap a failure with a code, and
// the Slack side turns the code into the sentence a responder reads.
package apperr

import (
	"context"
	"errors"
)

// Code says what kind of failure an error is, whatever its cause.
type Code string

// The codes; each has its own sentence (handlers.Sentence).
const (
	Invalid           Code = "invalid"            // bad input: will not change on retry
	NotFound          Code = "not_found"          // no such incident, request, user
	Conflict          Code = "conflict"           // state changed under us, or a decision already taken
	UnavailableStore  Code = "unavailable_store"  // Redis does not answer
	UnavailableClerk  Code = "unavailable_clerk"  // Clerk does not answer, or answers 5xx
	UnavailableRemote Code = "unavailable_remote" // another service (Statuspage) does not answer, or answers 5xx or 429
	ClerkUnauthorized Code = "clerk_unauthorized" // Clerk rejected CLERK_SECRET_KEY (401)
	ClerkForbidden    Code = "clerk_forbidden"    // Clerk refused the operation (403)
	ClerkRateLimited  Code = "clerk_rate_limited" // Clerk kept answering 429
	SlackChannel      Code = "slack_channel"      // the bot cannot post in the channel
	SlackUser         Code = "slack_user"         // a Slack user cannot be reached: left, deactivated, a bot, hidden
	SlackUnavailable  Code = "slack_unavailable"  // Slack does not answer (network), or answers 5xx or 429 until we give up
	Timeout           Code = "timeout"            // the work took too long and was stopped
	Internal          Code = "internal"           // anything else: a bug, logged
)

// ClerkPlanRequired: Clerk's plan lacks the feature (402, on ban and unban).
const ClerkPlanRequired Code = "clerk_plan_required"

// Error carries a code and, optionally, a message safe to show a user.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Message != "" && e.Err != nil:
		return e.Message + ": " + e.Err.Error()
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	}
	return string(e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// New is an error with a code and a user-safe message.
func New(code Code, msg string) error { return &Error{Code: code, Message: msg} }

// Wrap gives err a code (and a user-safe message, which may be empty).
func Wrap(code Code, msg string, err error) error {
	return &Error{Code: code, Message: msg, Err: err}
}

// CodeOf is the code of the outermost coded error in err's chain. Every
// adapter codes its own network failures at its edge (the store, Slack,
// Clerk, Statuspage); of the errors nobody coded, deadlines are timeouts
// and the rest internal: a network error here is not guessed to be any
// one peer's.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var c coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	return Internal
}

// coder is an adapter error that knows its code (clerkops.Error).
type coder interface{ ErrorCode() Code }

// MessageOf is the user-safe message of the outermost coded error, if any.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
