package stats

import (
	"fmt"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Text renders a Summary as Slack mrkdwn (no user input in it, so
// nothing to escape).
func Text(s Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*Incidents, last %d days* (%s to %s UTC): %d", s.Period.Days,
		s.Period.From.Format("2006-01-02 15:04"), s.Period.To.Format("2006-01-02 15:04"), s.Incidents)
	if s.Open > 0 {
		fmt.Fprintf(&b, " (%d still open)", s.Open)
	}
	b.WriteString("\n")
	if s.Incidents == 0 {
		b.WriteString("No incident was resolved or opened in this period.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "*By category:* %s\n", counts(s.ByCategory))
	fmt.Fprintf(&b, "*By severity:* %s\n", counts(s.BySeverity))
	fmt.Fprintf(&b, "*MTTA* (detection to acknowledgement): %s\n", pcts(s.MTTA, "acknowledged"))
	fmt.Fprintf(&b, "*MTTR* (detection to resolve): %s\n", pcts(s.MTTR, "resolved"))
	b.WriteString("_Percentiles are nearest-rank: p90 is the time at rank ⌈0.9 × n⌉ of the n incidents, fastest first._\n")
	return b.String()
}

func counts(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", c.Name, c.N)
	}
	return strings.Join(parts, " · ")
}

func pcts(p Percentiles, what string) string {
	if p.N == 0 {
		return "none " + what + " in this period"
	}
	return fmt.Sprintf("p50 %s · p90 %s (n = %d %s)", incident.FormatSpan(p.P50), incident.FormatSpan(p.P90), p.N, what)
}
