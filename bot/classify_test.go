package bot

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// Each channel error Slack gives has its own sentence with the fix, and
// each unreachable-user error is a slack_user error (never retried).
func TestSlackErrorsBecomeInstructions(t *testing.T) {
	seen := map[string]bool{}
	for code, want := range map[string]string{
		"not_in_channel": "invite it", "channel_not_found": "check SLACK_CHANNEL_ID", "is_archived": "unarchive it",
		"restricted_action": "ask an admin",
	} {
		err := classify(slack.SlackErrorResponse{Err: code})
		msg := apperr.MessageOf(err)
		if apperr.CodeOf(err) != apperr.SlackChannel || !strings.Contains(msg, want) || seen[msg] {
			t.Errorf("%s: %v (%q)", code, apperr.CodeOf(err), msg)
		}
		seen[msg] = true
	}
	for _, code := range []string{"user_not_found", "user_disabled", "cannot_dm_bot", "user_not_visible"} {
		if err := classify(slack.SlackErrorResponse{Err: code}); apperr.CodeOf(err) != apperr.SlackUser || !strings.Contains(apperr.MessageOf(err), code) {
			t.Errorf("%s: %v", code, err)
		}
	}
}
