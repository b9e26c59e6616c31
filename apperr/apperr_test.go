package apperr_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// A network error nobody coded is nobody's in particular: CodeOf does not
// guess it is the store's (or Slack's); each adapter codes its own at its
// edge, and that code wins however deep it is wrapped.
func TestCodeOfDoesNotGuessFromNetworkErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	var ne net.Error = refused
	for _, c := range []struct {
		err  error
		want apperr.Code
	}{
		{ne, apperr.Internal},
		{fmt.Errorf("post: %w", refused), apperr.Internal},
		{fmt.Errorf("slack chat.postMessage: %w", apperr.Wrap(apperr.SlackUnavailable, "Slack did not answer", refused)), apperr.SlackUnavailable},
		{fmt.Errorf("read INC-1: %w", apperr.Wrap(apperr.UnavailableStore, "", refused)), apperr.UnavailableStore},
		{fmt.Errorf("ban: %w", context.DeadlineExceeded), apperr.Timeout},
		{nil, ""},
	} {
		if got := apperr.CodeOf(c.err); got != c.want {
			t.Errorf("CodeOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
