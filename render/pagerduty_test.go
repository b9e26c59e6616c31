package render

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// An ack made in PagerDuty shows on the card by the name PagerDuty gave:
// the lead, and the ladder stopped "acknowledged in PagerDuty by …".
func TestCardAckedInPagerDutyGolden(t *testing.T) {
	inc, rb, now := fixture()
	nora := incident.Person{ID: incident.PagerDutyPrefix + "PNORA01", Name: "Nora Oncall"}
	acked := *inc
	acked.AckedBy, acked.Commander, acked.AckedAt = &nora, &nora, now
	st := &escalation.State{Incident: inc.ID, Ladder: escalation.Ladder{Rungs: []escalation.Rung{{Level: 1, Name: "on_call"}, {Level: 2, Name: "Bob", Start: 15 * time.Minute}}},
		Base: inc.OpenedAt, Next: 1, Stopped: "acknowledged", StopBy: nora.ID,
		Log: []escalation.Paged{{Step: 0, Level: 1, Name: "on_call", At: inc.OpenedAt, Reached: []string{"U1"}}}}
	golden(t, "card_acked_pagerduty", Card(&acked, rb.Spec(inc.Category), st, now))
}

// Names from PagerDuty are text: never a mention, a link or formatting.
func TestPagerDutyLinesEscapeNames(t *testing.T) {
	inc, _, _ := fixture()
	evil := incident.Person{ID: incident.PagerDutyPrefix + "PX", Name: "<!channel> *Eve*"}
	for name, got := range map[string]string{
		"who":      Who(evil),
		"phrase":   AckedPhrase(evil),
		"ack line": PagerDutyAckLine(inc.ID, evil),
		"resolved": PagerDutyResolvedLine(inc, evil.Name),
		"auth":     PagerDutyAuthLine("PagerDuty rejected <key>"),
	} {
		if strings.Contains(got, "<!") || strings.Contains(got, "<key>") || strings.Contains(got, "*Eve*") {
			t.Errorf("%s: %q", name, got)
		}
	}
	if got := AckedPhrase(incident.Person{ID: "U2", Name: "bob"}); got != "acknowledged by <@U2>" {
		t.Errorf("Slack ack: %q", got)
	}
	if got := PagerDutyResolvedLine(inc, ""); !strings.HasPrefix(got, ":information_source: Resolved in PagerDuty. ") || !strings.Contains(got, "the commander's call") {
		t.Errorf("resolved without a person: %q", got)
	}
}
