package render

import (
	"fmt"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// AckedPhrase says who acknowledged and where: "acknowledged in
// PagerDuty by Nora Oncall" for someone who did it in PagerDuty,
// "acknowledged by <@U1>" otherwise.
func AckedPhrase(by incident.Person) string {
	if by.PagerDuty() {
		return "acknowledged in PagerDuty by " + PlainName(by.Name)
	}
	return "acknowledged by " + Who(by)
}

// PagerDutyAckLine is the thread line when someone acknowledged the
// incident in PagerDuty.
func PagerDutyAckLine(id string, by incident.Person) string {
	return fmt.Sprintf(":raising_hand: Acknowledged in PagerDuty by %s: %s is acknowledged here too and its escalation has stopped.", PlainName(by.Name), id)
}

// PagerDutyResolvedLine is the thread line when PagerDuty's incident was
// resolved there while ours is open: resolving here stays the
// commander's call. by is who resolved it ("" when PagerDuty did not
// say a person).
func PagerDutyResolvedLine(inc *incident.Incident, by string) string {
	who := ""
	if by != "" {
		who = " by " + PlainName(by)
	}
	lead := "the commander's"
	if c := inc.Commander; c != nil {
		lead = Who(*c) + "'s"
	}
	return fmt.Sprintf(":information_source: Resolved in PagerDuty%s. %s stays open here: resolving it is %s call (`/clerk-incident resolve %s &lt;resolution&gt;`).",
		who, inc.ID, lead, inc.ID)
}

// PagerDutyAuthLine is the channel line when PagerDuty refuses
// PAGERDUTY_API_TOKEN; reason is the client's sentence (no key in it).
func PagerDutyAuthLine(reason string) string {
	return ":warning: " + Esc(reason) + ". Acknowledgements made in PagerDuty are not read here until PAGERDUTY_API_TOKEN is fixed; pages to PagerDuty still go out."
}
