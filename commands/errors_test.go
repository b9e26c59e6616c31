package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/clerkops"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
	"github.com/clerk/clerk-sdk-go/v2"
)

// Every code reaches the user as its own sentence, and errors from the
// real adapters carry the right code.
func TestEveryErrorCodeHasItsOwnSentence(t *testing.T) {
	cases := []struct {
		code apperr.Code
		err  error
		want string
	}{
		{apperr.Invalid, apperr.New(apperr.Invalid, "the duration must be positive"), "not valid"},
		{apperr.NotFound, apperr.New(apperr.NotFound, "no such user"), "Not found"},
		{apperr.Conflict, apperr.New(apperr.Conflict, "already approved"), "already decided"},
		{apperr.UnavailableStore, fmt.Errorf("read INC-1: %w", redisx.StoreErr(&net.OpError{Op: "dial", Err: errors.New("connection refused")})), "incident store is unavailable"},
		{apperr.SlackUnavailable, apperr.Wrap(apperr.SlackUnavailable, "Slack did not answer", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), "Slack does not answer"},
		{apperr.UnavailableClerk, clerkops.Explain(&net.OpError{Op: "dial", Err: errors.New("connection refused")}, "list users"), "Clerk does not answer"},
		{apperr.UnavailableRemote, apperr.New(apperr.UnavailableRemote, "Statuspage answered 503"), "does not answer"},
		{apperr.ClerkUnauthorized, clerkops.Explain(clerkAPIError(401), "ban user_1"), "Clerk rejected the secret key"},
		{apperr.ClerkForbidden, clerkops.Explain(clerkAPIError(403), "unlock user_1"), "Clerk refused this operation"},
		{apperr.ClerkPlanRequired, clerkops.Explain(clerkAPIError(402), "ban user_1"), "plan does not include banning users (402)"},
		{apperr.ClerkRateLimited, clerkops.Explain(clerkAPIError(429), "ban user_1"), "rate limit"},
		{apperr.SlackChannel, apperr.New(apperr.SlackChannel, "not_in_channel"), "Invite it"},
		{apperr.SlackUser, apperr.New(apperr.SlackUser, "not found in Slack"), "cannot be reached"},
		{apperr.Timeout, fmt.Errorf("ban: %w", context.DeadlineExceeded), "took too long"},
		{apperr.Internal, errors.New("boom"), "Something went wrong"},
	}
	seen := map[string]apperr.Code{}
	for _, c := range cases {
		t.Run(string(c.code), func(t *testing.T) {
			if got := apperr.CodeOf(c.err); got != c.code {
				t.Fatalf("code %q, want %q", got, c.code)
			}
			msg, _ := Sentence(c.err)
			if !strings.Contains(msg, c.want) {
				t.Fatalf("sentence %q lacks %q", msg, c.want)
			}
			lead := CodeSentence(c.code, "")
			if other, dup := seen[lead]; dup {
				t.Fatalf("%s and %s share a sentence", other, c.code)
			}
			seen[lead] = c.code
			if strings.Contains(msg, "sk_") {
				t.Fatalf("secret-shaped text in %q", msg)
			}
		})
	}
}

func clerkAPIError(status int) error {
	e := &clerk.APIErrorResponse{HTTPStatusCode: status}
	e.Errors = []clerk.Error{{Message: "refused", LongMessage: "refused by test"}}
	return e
}
