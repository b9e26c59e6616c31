// Package pictures turns an incident and the probes' samples into charts
// (drawn by package chart in its own process) and puts them in Slack: the report's timeline and
// latency, and the last hour's latency on request (`status --chart`,
// `diagnose --chart`). Nothing is kept between charts.
package pictures

import (
	"regexp"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// The timeline lines this reads are written by publish (pages, approval
// results, bypass notices) and handlers (approval requests, decisions).
var (
	// "Paged level 1 (Primary, business hours): alice", "Re-paged (2) level 1 …",
	// "Escalated: paged level 2 …"
	pageRe = regexp.MustCompile(`(?i)^(?:Paged|Re-paged \(\d+\)|Escalated: paged) level (\d+) \(([^,)]*)`)
	// "Requested emergency bypass (apr-…): …", "Approved lockout (apr-…)",
	// "Denied emergency bypass (apr-…)"
	approvalRe = regexp.MustCompile(`^(Requested|Approved|Denied) (.+?) \(apr-[a-z0-9]+\)`)
)

// TimelineInput reads the incident's milestones and its timeline's pages,
// approvals and bypass windows into a chart input. now closes an open
// bypass window of an incident still open.
func TimelineInput(inc *incident.Incident, now time.Time) chartdata.Timeline {
	in := chartdata.Timeline{
		Title: inc.ID + " " + inc.Title,
		// The open is the first signal the bot has of the incident.
		Milestones: map[string]time.Time{chartdata.Detected: inc.OpenedAt},
		End:        now,
	}
	for name, at := range map[string]time.Time{chartdata.Acknowledged: inc.AckedAt, chartdata.Mitigated: inc.MitigatedAt, chartdata.Resolved: inc.ResolvedAt} {
		if !at.IsZero() {
			in.Milestones[name] = at
		}
	}
	var bypassFrom time.Time
	for _, e := range inc.Timeline {
		text := e.Text
		switch {
		case pageRe.MatchString(text):
			m := pageRe.FindStringSubmatch(text)
			label := "L" + m[1]
			if name := strings.TrimSpace(m[2]); name != "" {
				label += " " + name
			}
			in.Pages = append(in.Pages, chartdata.Mark{At: e.At, Label: label})
		case approvalRe.MatchString(text):
			m := approvalRe.FindStringSubmatch(text)
			label := strings.ToLower(m[1]) + " " + m[2]
			if m[1] != "Requested" && e.Actor.Name != "" {
				label += " by " + e.Actor.Name
			}
			in.Approvals = append(in.Approvals, chartdata.Mark{At: e.At, Label: label})
		case strings.Contains(text, "result:") && strings.Contains(text, "bypass is ON"):
			// The approved bypass (or its extension) was turned on.
			if bypassFrom.IsZero() {
				bypassFrom = e.At
			}
		case strings.HasPrefix(text, "Emergency bypass turned off"), strings.HasPrefix(text, "Emergency bypass ended by itself"):
			if !bypassFrom.IsZero() {
				in.Bypass = append(in.Bypass, chartdata.Span{From: bypassFrom, To: e.At, Label: "bypass on"})
				bypassFrom = time.Time{}
			}
		}
	}
	if !bypassFrom.IsZero() {
		end := now
		if !inc.ResolvedAt.IsZero() {
			end = inc.ResolvedAt
		}
		in.Bypass = append(in.Bypass, chartdata.Span{From: bypassFrom, To: end, Label: "bypass on"})
	}
	return in
}
