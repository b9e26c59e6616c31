package render

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// A page is announced with mentions in the thread and with names on the
// timeline, each with how the person was reached; whoever could not be
// reached is named with why (PagerDuty by its name, not a mention).
func TestPageAnnouncementMentionsInThreadNamesOnTimeline(t *testing.T) {
	pg := escalation.Page{Level: 2, Name: "secondary", Window: "15 min", Repeat: 1, Reached: []string{"U2"},
		Channels: []string{escalation.ViaSlack, escalation.ViaSMS}, Sent: map[string][]string{"U2": {escalation.ViaSlack, escalation.ViaSMS}},
		Unreachable: []escalation.Unreached{{ID: "U3", Why: "no phone"}, {ID: "pagerduty", Why: "refused"}}}
	names := map[string]string{"U2": "Bob", "U3": "Carol"}
	line, plain := PageAnnouncement(pg, func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	})
	wantLine := ":rotating_light: Re-paged (1) level 2 (secondary, 15 min): <@U2> (Slack, SMS)\n:warning: Could not reach <@U3>: no phone.\n:warning: Could not reach pagerduty: refused."
	wantPlain := "Re-paged (1) level 2 (secondary, 15 min): Bob (Slack, SMS); could not reach Carol: no phone; could not reach pagerduty: refused"
	if line != wantLine || plain != wantPlain {
		t.Fatalf("line %q\nplain %q", line, plain)
	}
	line, plain = PageAnnouncement(escalation.Page{Level: 1, Name: "primary", Skipped: true}, func(id string) string { return id })
	if plain != "Level 1 (primary) has nobody reachable in Slack; skipped to the next level at once." || line != ":warning: "+plain {
		t.Fatalf("skipped: %q / %q", line, plain)
	}
}

// An update reminder names who owes it, with Draft and Snooze buttons.
func TestReminderMsgGolden(t *testing.T) {
	inc := &incident.Incident{ID: "INC-4", Severity: incident.P1}
	m := ReminderMsg(inc, incident.Person{ID: "U2", Name: "bob"}, 35*time.Minute)
	golden(t, "reminder", m)
	if !strings.Contains(m.Text, "<@U2>, no update on INC-4") {
		t.Fatalf("text %q", m.Text)
	}
}
