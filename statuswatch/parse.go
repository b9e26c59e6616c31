// Package statuswatch watches Clerk's status page and the app's own health
// endpoint: it parses both status-page formats, confirms problems over
// several polls, and tells a Reporter to open incidents and post updates,
// once per upstream incident across restarts and replicas. It knows
// nothing of Slack.
package statuswatch

import (
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

// Summary is a status page in one shape, whichever format it came in.
type Summary struct {
	Format      string // "statuspage" or "incident.io"
	PageURL     string
	Indicator   string // none, minor, major, critical, maintenance
	Description string
	Components  []Component
	Incidents   []Incident
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
func Parse(body []byte) (Summary, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return Summary{}, fmt.Errorf("status page did not answer JSON: %w", err)
	}
	switch {
	case probe["ongoing_incidents"] != nil || probe["page_title"] != nil:
		return parseIncidentIO(body)
	case probe["status"] != nil || probe["components"] != nil || probe["page"] != nil:
		return parseStatuspage(body)
	}
	return Summary{}, errors.New("status page JSON is in neither known format (Statuspage summary or incident.io widget)")
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
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Summary{}, fmt.Errorf("status page (Statuspage format): %w", err)
	}
	s := Summary{Format: "statuspage", PageURL: raw.Page.URL, Indicator: raw.Status.Indicator, Description: raw.Status.Description}
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
		InProgressMaintenances []json.RawMessage `json:"in_progress_maintenances"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Summary{}, fmt.Errorf("status page (incident.io format): %w", err)
	}
	s := Summary{Format: "incident.io", PageURL: raw.PageURL, Indicator: "none", Description: "All systems operational"}
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
	return s, nil
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
