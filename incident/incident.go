// Package incident holds the incident domain: categories, severities, the
// status lifecycle, the timeline, runbook checklists and the Redis store.
// It knows nothing of Slack.
package incident

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// Category is one of the runbook's four incident categories.
type Category string

const (
	Outage      Category = "outage"
	Webhook     Category = "webhook"
	Security    Category = "security"
	Performance Category = "performance"
)

// Categories lists the categories in the runbook's order.
var Categories = []Category{Outage, Webhook, Security, Performance}

// ParseCategory accepts a category name in any case.
func ParseCategory(s string) (Category, bool) {
	c := Category(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Categories {
		if c == k {
			return c, true
		}
	}
	return "", false
}

// Severity is P1 (worst) to P3.
type Severity string

const (
	P1 Severity = "P1"
	P2 Severity = "P2"
	P3 Severity = "P3"
)

// ParseSeverity accepts P1..P3 in any case.
func ParseSeverity(s string) (Severity, bool) {
	switch Severity(strings.ToUpper(strings.TrimSpace(s))) {
	case P1:
		return P1, true
	case P2:
		return P2, true
	case P3:
		return P3, true
	}
	return "", false
}

// DefaultSeverity follows the runbook: a full outage or a breach is P1.
func DefaultSeverity(c Category) Severity {
	if c == Outage || c == Security {
		return P1
	}
	return P2
}

// Status is the incident lifecycle: investigating → mitigated → resolved.
type Status string

const (
	Investigating Status = "investigating"
	Mitigated     Status = "mitigated"
	Resolved      Status = "resolved"
)

var idPattern = regexp.MustCompile(`^INC-([0-9]+)$`)

// ParseID normalises "inc-7" to "INC-7" and rejects anything else.
func ParseID(s string) (string, bool) {
	m := idPattern.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return "", false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return "", false
	}
	return FormatID(n), true
}

// FormatID renders the sequence number as an incident ID.
func FormatID(n int) string { return "INC-" + strconv.Itoa(n) }

// Number returns the numeric part of a valid ID (0 when invalid).
func Number(id string) int {
	m := idPattern.FindStringSubmatch(id)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Person identifies whoever did something: a Slack user, or a component
// such as the status poller.
type Person struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Display is the one way a person is named where people read it (the
// timeline, the report, page DMs): their name (Slack display name or
// contacts.yml name, resolved when recorded), "(CLI)" for someone acting
// through the CLI's --as, the ID only when there is no name.
func (p Person) Display() string {
	name := p.Name
	if name == "" {
		name = strings.TrimPrefix(p.ID, "cli:")
	}
	if p.CLI() {
		name += " (CLI)"
	}
	if p.PagerDuty() {
		name += " (PagerDuty)"
	}
	return name
}

// CLI reports whether the person acted through the CLI (`do --as`).
func (p Person) CLI() bool { return strings.HasPrefix(p.ID, "cli:") }

// PagerDutyPrefix starts the ID of someone known only from PagerDuty
// (who acknowledged there): "pagerduty:" and their PagerDuty user ID.
const PagerDutyPrefix = "pagerduty:"

// PagerDuty reports whether the person acted in PagerDuty, not here.
func (p Person) PagerDuty() bool { return strings.HasPrefix(p.ID, PagerDutyPrefix) }

// Plain is Display with the Slack ID in parentheses, for the report's
// people section, files and logs, where the ID says exactly who.
func (p Person) Plain() string {
	if p.Name != "" && p.ID != "" && p.Name != p.ID && !p.CLI() && !p.PagerDuty() {
		return p.Name + " (" + p.ID + ")"
	}
	return p.Display()
}

// Entry is one timeline line.
type Entry struct {
	At    time.Time `json:"at"`
	Actor Person    `json:"actor"`
	Text  string    `json:"text"`
}

// Tick records who ticked a checklist step and when.
type Tick struct {
	By Person    `json:"by"`
	At time.Time `json:"at"`
}

// Incident is the whole state of one incident. The timeline is stored
// beside it (a Redis list) and filled in by Store.Get.
type Incident struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Category Category `json:"category"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	// Version counts writes; renderers use it to detect a stale snapshot.
	Version int `json:"version"`

	OpenedBy Person    `json:"opened_by"`
	OpenedAt time.Time `json:"opened_at"`
	AckedBy  *Person   `json:"acked_by,omitempty"`
	AckedAt  time.Time `json:"acked_at"`
	// AckedVia is how the acknowledgement came when not from Slack
	// ("SMS": a reply to a page text).
	AckedVia string `json:"acked_via,omitempty"`
	// Lead is whoever acknowledged first; until then the opener leads.
	MitigatedAt time.Time `json:"mitigated_at"`
	ResolvedAt  time.Time `json:"resolved_at"`
	ResolvedBy  *Person   `json:"resolved_by,omitempty"`

	Impact string `json:"impact,omitempty"`
	// Link is where the alert that opened it came from (its
	// generatorURL), shown on the card.
	Link string `json:"link,omitempty"`

	// Marks are the milestones as recorded (nil on incidents written
	// before they existed); read them through Timings.
	Marks *Milestones `json:"milestones,omitempty"`

	// Roles: the commander leads (whoever acknowledges, unless set); comms
	// writes the updates. Either may be nil.
	Commander *Person `json:"commander,omitempty"`
	Comms     *Person `json:"comms,omitempty"`
	// LastUpdateAt is the last note, update, severity, impact or status
	// change; RemindedAt the last update reminder; SnoozedUntil holds
	// reminders off.
	LastUpdateAt time.Time `json:"last_update_at,omitempty"`
	// Posted is the last customer update as posted (comms' wording) and
	// the status it was posted under: the next draft starts from it.
	Posted       string    `json:"posted,omitempty"`
	PostedStatus Status    `json:"posted_status,omitempty"`
	RemindedAt   time.Time `json:"reminded_at,omitempty"`
	SnoozedUntil time.Time `json:"snoozed_until,omitempty"`
	// StatuspageID is the Atlassian Statuspage incident our customer
	// updates go to (resolved with ours).
	StatuspageID string `json:"statuspage_id,omitempty"`

	Channel     string `json:"channel,omitempty"`
	CardTS      string `json:"card_ts,omitempty"`
	ChecklistTS string `json:"checklist_ts,omitempty"`
	// Room is the incident's own channel (INCIDENT_CHANNELS); empty for
	// incidents opened without one.
	Room string `json:"room,omitempty"`

	Checklist map[string]Tick `json:"checklist,omitempty"`

	RootCause  string   `json:"root_cause,omitempty"`
	Resolution string   `json:"resolution,omitempty"`
	Prevention []string `json:"prevention,omitempty"`
	Lessons    string   `json:"lessons,omitempty"`
	// ReportFinalAt is when a post-incident report was written with every
	// field filled in on a resolved incident: from then on its checklist
	// is what the report says, and no step can be ticked or unticked.
	ReportFinalAt time.Time `json:"report_final_at,omitzero"`

	// Work are the long actions carried out for it (work.go); ReportedAt
	// is when its report was last written, so one that ends later can
	// update it.
	Work       []Work    `json:"work,omitempty"`
	ReportedAt time.Time `json:"reported_at,omitzero"`

	Timeline []Entry `json:"-"`
}

// Tickable reports whether the checklist may still change: until the
// report of a resolved incident is final.
func (i *Incident) Tickable() bool { return i.ReportFinalAt.IsZero() }

// Open reports whether the incident is not yet resolved.
func (i *Incident) Open() bool { return i.Status != Resolved }

// Lead is who is leading the response.
func (i *Incident) Lead() Person {
	if i.AckedBy != nil {
		return *i.AckedBy
	}
	return i.OpenedBy
}

// Duration is from opening to resolution (or to now while open).
func (i *Incident) Duration(now time.Time) time.Duration {
	end := now
	if !i.ResolvedAt.IsZero() {
		end = i.ResolvedAt
	}
	return end.Sub(i.OpenedAt)
}

// Errors the store and the transitions return; handlers turn them into
// sentences in one place.
var (
	ErrNotFound        = apperr.New(apperr.NotFound, "incident not found")
	ErrAlreadyResolved = apperr.New(apperr.Conflict, "incident already resolved")
	ErrUnknownStep     = apperr.New(apperr.Invalid, "unknown checklist step")
	ErrNoChange        = apperr.New(apperr.Conflict, "nothing to change")
)

// DuplicateError says an open incident of the same category exists.
type DuplicateError struct{ Existing *Incident }

func (d *DuplicateError) Error() string {
	return fmt.Sprintf("%s (%s) is already open", d.Existing.ID, d.Existing.Category)
}
