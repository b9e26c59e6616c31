package bot

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// usergroups.users.update through slack-go against the fake Slack, with
// Slack's errors each made a sentence: no_such_subteam, permission_denied
// (group edits kept to admins), missing_scope (no usergroups:write); and
// users.info's tz.
func TestGroupMembersAndTimeZoneAsSlackAnswers(t *testing.T) {
	fs := fakeslack.New()
	defer fs.Close()
	fs.Unlimited()
	fs.SetGroup("S0ONCALL", "U9")
	fs.SetGroup("S0ADMINS", "U9")
	fs.RestrictGroupEdits("S0ADMINS")
	fs.SetTimeZone("U1", "Europe/Berlin")
	s := NewSlack(slack.New(fs.BotToken, slack.OptionAPIURL(fs.APIURL())), nil, nil)
	ctx := context.Background()

	if err := s.SetGroupMembers(ctx, "S0ONCALL", []string{"U1"}); err != nil {
		t.Fatal(err)
	}
	if g := fs.Group("S0ONCALL"); !slices.Equal(g, []string{"U1"}) {
		t.Fatalf("members %v", g)
	}
	for group, want := range map[string]string{"S0NONE": "no_such_subteam", "S0ADMINS": "permission_denied"} {
		err := s.SetGroupMembers(ctx, group, []string{"U1"})
		if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), want) {
			t.Errorf("%s: %v, want %s", group, err, want)
		}
	}
	fs.SetScopes("commands", "chat:write", "usergroups:read")
	if err := s.SetGroupMembers(ctx, "S0ONCALL", []string{"U2"}); !strings.Contains(apperr.MessageOf(err), "usergroups:write") {
		t.Errorf("without the scope: %v", err)
	}
	if len(fs.GroupUpdates()) != 1 {
		t.Errorf("updates %+v", fs.GroupUpdates())
	}
	if tz, err := s.TimeZone(ctx, "U1"); err != nil || tz != "Europe/Berlin" {
		t.Errorf("tz %q %v", tz, err)
	}
	if tz, err := s.TimeZone(ctx, "U2"); err != nil || tz == "" {
		t.Errorf("every Slack user has a tz: %q %v", tz, err)
	}
}
