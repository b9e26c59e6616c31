// Package statuswatch watches Clerk's status page and the app's own health
// endpoint: it parses both status-page formats, confirms problems over
// several polls, and tells a Reporter to open incidents and post updates,
// once per upstream incident across restarts and replicas. It knows
// nothing of Slack.
package statuswatch

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Component status values (Statuspage's, with incident.io's full_outage
// folded into major_outage).
const (
	Operational = "operational"
	Degraded    = "degraded_performance"
	Partial     = "partial_outage"
	Major       = "major_outage"
	Maintenance = "under_maintenance"
)

// The formats a status page may be read in.
const (
	FormatStatuspage = "statuspage summary"        // /api/v2/summary.json
	FormatWidget     = "incident.io widget"        // /api/v1/summary
	FormatPageData   = "incident.io page data"     // /proxy/<host>
	FormatIndicator  = "statuspage indicator only" // /api/v2/status.json
	FormatFeed       = "RSS/Atom feed"             // /feed.rss, /history.rss
)

// Summary is a status page in one shape, whichever format it came in.
type Summary struct {
	Format      string
	PageURL     string
	Indicator   string // none, minor, major, critical, maintenance
	Description string
	Components  []Component
	Incidents   []Incident
	// Maintenances are scheduled or in progress; they never open an
	// incident.
	Maintenances []Planned
}

// Planned is maintenance on Clerk's side, scheduled or in progress.
type Planned struct {
	ID, Name, Status, URL string
	Components            []string
}

// Component is one part of Clerk.
type Component struct {
	ID, Name, Status string
}

// Incident is an upstream incident.
type Incident struct {
	ID         string
	Name       string
	Status     string // investigating, identified, monitoring, resolved
	Impact     string // none/minor/major/critical or degraded_performance/partial_outage/major_outage
	URL        string
	Components []Component
	// Updates, oldest first; incident.io's widget gives only the latest.
	Updates []Update
}

// Update is one upstream status update.
type Update struct {
	ID, Status, Body string
	At               time.Time
}

// Latest returns the newest update (or a zero one).
func (i Incident) Latest() Update {
	if len(i.Updates) == 0 {
		return Update{}
	}
	return i.Updates[len(i.Updates)-1]
}

// NotOperational lists components that are not operational.
func (s Summary) NotOperational() []Component {
	var out []Component
	for _, c := range s.Components {
		if c.Status != Operational && c.Status != "" {
			out = append(out, c)
		}
	}
	return out
}

// Parse detects the format from the body and reads it.
func Parse(body []byte) (Summary, error) { return ParseAt(body, time.Now(), nil) }

// ParseAt is Parse with the time (feeds hold history: only recent items
// count) and the component names a feed item may mention.
func ParseAt(body []byte, now time.Time, components []string) (Summary, error) {
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '<' {
		return parseFeed(t, now, components)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return Summary{}, fmt.Errorf("not JSON and not a feed: %w", err)
	}
	switch {
	case probe["ongoing_incidents"] != nil || probe["page_title"] != nil:
		return parseIncidentIO(body)
	case probe["summary"] != nil:
		return parsePageData(body)
	case probe["components"] != nil || probe["incidents"] != nil:
		return parseStatuspage(body)
	case probe["status"] != nil:
		s, err := parseStatuspage(body)
		s.Format = FormatIndicator
		if err == nil && s.Indicator == "" {
			return Summary{}, errors.New("JSON with a status but no indicator")
		}
		return s, err
	}
	return Summary{}, errors.New("JSON in none of the known formats (Statuspage summary or status, incident.io widget or page data)")
}

func normStatus(s string) string {
	switch s {
	case "full_outage":
		return Major
	case "":
		return Operational
	}
	return s
}

func parseStatuspage(body []byte) (Summary, error) {
	var raw struct {
		Page struct {
			URL string `json:"url"`
		} `json:"page"`
		Status struct {
			Indicator   string `json:"indicator"`
			Description string `json:"description"`
		} `json:"status"`
		Components []struct {
			ID, Name, Status string
			Group            bool `json:"group"`
		} `json:"components"`
		Incidents []struct {
			ID, Name, Status, Impact, Shortlink string
			IncidentUpdates                     []struct {
				ID        string    `json:"id"`
				Status    string    `json:"status"`
				Body      string    `json:"body"`
				CreatedAt time.Time `json:"created_at"`
			} `json:"incident_updates"`
			Components []struct{ ID, Name, Status string } `json:"components"`
		} `json:"incidents"`
		Maintenances []struct {
			ID, Name, Status, Shortlink string
			Components                  []struct{ Name string } `json:"components"`
		} `json:"scheduled_maintenances"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Summary{}, fmt.Errorf("status page (Statuspage format): %w", err)
	}
	s := Summary{Format: FormatStatuspage, PageURL: raw.Page.URL, Indicator: raw.Status.Indicator, Description: raw.Status.Description}
	for _, c := range raw.Components {
		if c.Group {
			continue
		}
		s.Components = append(s.Components, Component{ID: c.ID, Name: c.Name, Status: normStatus(c.Status)})
	}
	for _, in := range raw.Incidents {
		inc := Incident{ID: in.ID, Name: in.Name, Status: in.Status, Impact: in.Impact, URL: in.Shortlink}
		for _, c := range in.Components {
			inc.Components = append(inc.Components, Component{ID: c.ID, Name: c.Name, Status: normStatus(c.Status)})
		}
		for _, u := range in.IncidentUpdates {
			inc.Updates = append(inc.Updates, Update{ID: u.ID, Status: u.Status, Body: u.Body, At: u.CreatedAt})
		}
		// Statuspage lists updates newest first.
		sort.SliceStable(inc.Updates, func(a, b int) bool { return inc.Updates[a].At.Before(inc.Updates[b].At) })
		s.Incidents = append(s.Incidents, inc)
	}
	for _, m := range raw.Maintenances {
		if m.Status != "scheduled" && m.Status != "in_progress" && m.Status != "verifying" {
			continue
		}
		mt := Planned{ID: m.ID, Name: m.Name, Status: m.Status, URL: m.Shortlink}
		for _, c := range m.Components {
			mt.Components = append(mt.Components, c.Name)
		}
		s.Maintenances = append(s.Maintenances, mt)
	}
	return s, nil
}

func parseIncidentIO(body []byte) (Summary, error) {
	var raw struct {
		PageURL          string `json:"page_url"`
		OngoingIncidents []struct {
			ID                 string    `json:"id"`
			Name               string    `json:"name"`
			Status             string    `json:"status"`
			URL                string    `json:"url"`
			CurrentWorstImpact string    `json:"current_worst_impact"`
			LastUpdateAt       time.Time `json:"last_update_at"`
			LastUpdateMessage  string    `json:"last_update_message"`
			AffectedComponents []struct {
				ID, Name string
			} `json:"affected_components"`
		} `json:"ongoing_incidents"`
		InProgressMaintenances []widgetMaintenance `json:"in_progress_maintenances"`
		ScheduledMaintenances  []widgetMaintenance `json:"scheduled_maintenances"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Summary{}, fmt.Errorf("status page (incident.io format): %w", err)
	}
	s := Summary{Format: FormatWidget, PageURL: raw.PageURL, Indicator: "none", Description: "All systems operational"}
	worst := 0
	rank := map[string]int{Degraded: 1, Partial: 2, Major: 3}
	for _, in := range raw.OngoingIncidents {
		impact := normStatus(in.CurrentWorstImpact)
		inc := Incident{ID: in.ID, Name: in.Name, Status: in.Status, Impact: impact, URL: in.URL}
		for _, c := range in.AffectedComponents {
			comp := Component{ID: c.ID, Name: c.Name, Status: impact}
			inc.Components = append(inc.Components, comp)
			s.Components = append(s.Components, comp)
		}
		if in.LastUpdateMessage != "" {
			h := sha256.Sum256([]byte(in.LastUpdateAt.String() + in.LastUpdateMessage))
			inc.Updates = []Update{{ID: hex.EncodeToString(h[:8]), Status: in.Status, Body: in.LastUpdateMessage, At: in.LastUpdateAt}}
		}
		worst = max(worst, rank[impact])
		s.Incidents = append(s.Incidents, inc)
	}
	switch worst {
	case 1:
		s.Indicator, s.Description = "minor", "Degraded performance"
	case 2:
		s.Indicator, s.Description = "major", "Partial outage"
	case 3:
		s.Indicator, s.Description = "critical", "Full outage"
	}
	if worst == 0 && len(raw.InProgressMaintenances) > 0 {
		s.Indicator, s.Description = "maintenance", "Maintenance in progress"
	}
	s.Maintenances = append(maintenances(raw.InProgressMaintenances, "in_progress"), maintenances(raw.ScheduledMaintenances, "scheduled")...)
	return s, nil
}

// widgetMaintenance is a maintenance in incident.io's JSON.
type widgetMaintenance struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	URL                string `json:"url"`
	AffectedComponents []struct {
		Name string `json:"name"`
	} `json:"affected_components"`
}

func maintenances(ms []widgetMaintenance, status string) []Planned {
	var out []Planned
	for _, m := range ms {
		mt := Planned{ID: m.ID, Name: m.Name, Status: status, URL: m.URL}
		for _, c := range m.AffectedComponents {
			mt.Components = append(mt.Components, c.Name)
		}
		out = append(out, mt)
	}
	return out
}

// parsePageData reads incident.io's page data (/proxy/<host>): components
// by ID, the affected ones with their status, and ongoing incidents. Its
// shape is not documented; unknown fields are ignored.
func parsePageData(body []byte) (Summary, error) {
	var raw struct {
		Summary *struct {
			Name       string `json:"name"`
			PublicURL  string `json:"public_url"`
			Components []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"components"`
			Affected []struct {
				ComponentID string `json:"component_id"`
				Status      string `json:"status"`
			} `json:"affected_components"`
			Ongoing []struct {
				ID                 string `json:"id"`
				Name               string `json:"name"`
				Status             string `json:"status"`
				URL                string `json:"url"`
				CurrentWorstImpact string `json:"current_worst_impact"`
				Affected           []struct {
					ComponentID string `json:"component_id"`
					ID          string `json:"id"`
					Name        string `json:"name"`
					Status      string `json:"status"`
				} `json:"affected_components"`
			} `json:"ongoing_incidents"`
			InProgress []widgetMaintenance `json:"in_progress_maintenances"`
			Scheduled  []widgetMaintenance `json:"scheduled_maintenances"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Summary{}, fmt.Errorf("status page (incident.io page data): %w", err)
	}
	if raw.Summary == nil || raw.Summary.Components == nil {
		return Summary{}, errors.New("incident.io page data without a component list")
	}
	sum := raw.Summary
	s := Summary{Format: FormatPageData, PageURL: sum.PublicURL, Indicator: "none", Description: "All systems operational"}
	names := map[string]string{}
	for _, c := range sum.Components {
		names[c.ID] = c.Name
	}
	status := map[string]string{}
	for _, a := range sum.Affected {
		status[a.ComponentID] = normStatus(a.Status)
	}
	rank := map[string]int{Degraded: 1, Partial: 2, Major: 3}
	worst := 0
	for _, c := range sum.Components {
		st := status[c.ID]
		if st == "" {
			st = Operational
		}
		s.Components = append(s.Components, Component{ID: c.ID, Name: c.Name, Status: st})
		worst = max(worst, rank[st])
	}
	for _, in := range sum.Ongoing {
		impact := normStatus(in.CurrentWorstImpact)
		inc := Incident{ID: in.ID, Name: in.Name, Status: in.Status, Impact: impact, URL: in.URL}
		for _, a := range in.Affected {
			id := cmp.Or(a.ComponentID, a.ID)
			st := cmp.Or(normStatus(a.Status), impact)
			if a.Status == "" {
				st = impact
			}
			inc.Components = append(inc.Components, Component{ID: id, Name: cmp.Or(a.Name, names[id]), Status: st})
		}
		worst = max(worst, rank[impact])
		s.Incidents = append(s.Incidents, inc)
	}
	s.Indicator, s.Description = indicatorOf(worst)
	if worst == 0 && len(sum.InProgress) > 0 {
		s.Indicator, s.Description = "maintenance", "Maintenance in progress"
	}
	s.Maintenances = append(maintenances(sum.InProgress, "in_progress"), maintenances(sum.Scheduled, "scheduled")...)
	return s, nil
}

func indicatorOf(worst int) (string, string) {
	switch worst {
	case 1:
		return "minor", "Degraded performance"
	case 2:
		return "major", "Partial outage"
	case 3:
		return "critical", "Full outage"
	}
	return "none", "All systems operational"
}

// componentKey names a problem without an upstream ID by its components.
func componentKey(cs []Component) string {
	var names []string
	for _, c := range cs {
		names = append(names, strings.ToLower(c.Name))
	}
	sort.Strings(names)
	return "components:" + strings.Join(names, "+")
}
