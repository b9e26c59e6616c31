package statuswatch

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Meaning is what a problem with a component means here.
type Meaning string

// What a component's problem may mean.
const (
	// MeansOutage: on the sign-in path; an outage, or a performance
	// incident when only degraded.
	MeansOutage Meaning = "outage"
	// MeansWebhook: user sync breaks; a webhook incident.
	MeansWebhook Meaning = "webhook"
	// MeansAdvisory (Dashboard, e-mail and SMS delivery, unknown names):
	// a line in the channel; nobody is paged.
	MeansAdvisory Meaning = "advisory"
)

// DefaultComponents is what each component of Clerk's page means unless
// STATUS_COMPONENTS_FILE says otherwise; every other name is advisory.
const DefaultComponents = `# What a problem with each component of Clerk's status page means here:
#   outage   - on the sign-in path: an outage (P1 for major/full outages,
#              P2 otherwise), or a performance incident when only degraded
#   webhook  - user sync breaks: a webhook incident
#   advisory - a line in the channel, no incident and no page
# Components not listed are advisory. Account Portal is the hosted sign-in
# and sign-up pages; Machine authentication is M2M and API-key sign-in.
components:
  User and authentication: outage
  Session management: outage
  Account Portal: outage
  Machine authentication: outage
  Frontend API: outage
  Backend API: outage
  Webhooks: webhook
  Dashboard: advisory
  Email delivery: advisory
  SMS delivery: advisory
`

// ComponentMap decides what a status-page problem means.
type ComponentMap struct {
	meaning map[string]Meaning // lower-cased name → meaning
	names   []string           // as written, in file order
}

// LoadComponentMap reads a component map; errors name the line.
func LoadComponentMap(name string, src []byte) (*ComponentMap, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line 1: want a mapping with a `components:` key", name)
	}
	top := doc.Content[0]
	var comps *yaml.Node
	var errs []error
	for i := 0; i+1 < len(top.Content); i += 2 {
		k := top.Content[i]
		if k.Value != "components" {
			errs = append(errs, fmt.Errorf("line %d: unknown key %q (want components)", k.Line, k.Value))
			continue
		}
		comps = top.Content[i+1]
	}
	if comps == nil {
		errs = append(errs, fmt.Errorf("line %d: no `components:` key", top.Line))
	} else if comps.Kind != yaml.MappingNode {
		errs = append(errs, fmt.Errorf("line %d: components must map each component's name to outage, webhook or advisory", comps.Line))
	}
	m := &ComponentMap{meaning: map[string]Meaning{}}
	if comps != nil && comps.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(comps.Content); i += 2 {
			k, v := comps.Content[i], comps.Content[i+1]
			key := strings.ToLower(strings.TrimSpace(k.Value))
			switch {
			case key == "":
				errs = append(errs, fmt.Errorf("line %d: a component with no name", k.Line))
			case m.meaning[key] != "":
				errs = append(errs, fmt.Errorf("line %d: component %q is listed twice", k.Line, k.Value))
			case v.Kind != yaml.ScalarNode || (Meaning(v.Value) != MeansOutage && Meaning(v.Value) != MeansWebhook && Meaning(v.Value) != MeansAdvisory):
				errs = append(errs, fmt.Errorf("line %d: component %q: %q is not a meaning (want outage, webhook or advisory)", v.Line, k.Value, v.Value))
			default:
				m.meaning[key] = Meaning(v.Value)
				m.names = append(m.names, k.Value)
			}
		}
		if len(m.names) == 0 && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("line %d: no components listed", comps.Line))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(errs...))
	}
	return m, nil
}

// DefaultComponentMap is the built-in map.
func DefaultComponentMap() *ComponentMap {
	m, err := LoadComponentMap("built-in component map", []byte(DefaultComponents))
	if err != nil {
		panic(err) // a test covers the constant
	}
	return m
}

// Names lists the components the map knows, as written.
func (co *ComponentMap) Names() []string { return co.names }

// Meaning says what a problem with the named component means.
func (co *ComponentMap) Meaning(name string) Meaning {
	if mn := co.meaning[strings.ToLower(strings.TrimSpace(name))]; mn != "" {
		return mn
	}
	return MeansAdvisory
}

// Decide maps a problem's components and worst status to an incident
// category and severity, or to an advisory (ok false).
func (co *ComponentMap) Decide(components []string, worst string) (incident.Category, incident.Severity, bool) {
	signIn, webhooks := false, false
	for _, c := range components {
		switch co.Meaning(c) {
		case MeansOutage:
			signIn = true
		case MeansWebhook:
			webhooks = true
		}
	}
	switch {
	case signIn && worst == Degraded:
		return incident.Performance, incident.DefaultSeverity(incident.Performance), true
	case signIn && worst == Major:
		return incident.Outage, incident.P1, true
	case signIn:
		return incident.Outage, incident.P2, true
	case webhooks:
		return incident.Webhook, incident.DefaultSeverity(incident.Webhook), true
	}
	return "", "", false
}

// DecideIndicator maps the page's overall indicator alone: minor is an
// advisory, major a P2 outage, critical a P1 outage.
func DecideIndicator(indicator string) (incident.Category, incident.Severity, bool) {
	switch indicator {
	case "major":
		return incident.Outage, incident.P2, true
	case "critical":
		return incident.Outage, incident.P1, true
	}
	return "", "", false
}
