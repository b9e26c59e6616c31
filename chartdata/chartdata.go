// Package chartdata is what a chart shows, as plain data: the bot builds
// it and the chart drawer (package chart, run as its own process by
// cmd/clerk-incident-chart) draws it. It imports nothing of the plotting
// library, so the bot links no fonts and pays for them only while a chart
// is drawn.
package chartdata

import (
	"errors"
	"time"
)

// ErrNoData means there is nothing to draw; callers say so in words.
var ErrNoData = errors.New("chart: nothing to draw")

// Milestone names, in the order an incident reaches them.
const (
	Detected     = "detected"
	Acknowledged = "acknowledged"
	Mitigated    = "mitigated"
	Resolved     = "resolved"
)

// Mark is one moment on a timeline.
type Mark struct {
	At    time.Time `json:"at"`
	Label string    `json:"label"`
}

// Span is a stretch of time, e.g. a bypass window.
type Span struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Label string    `json:"label"`
}

// Timeline is what an incident's timeline shows. Milestones maps a
// milestone name (Detected …) to when it was reached; a missing one is not
// drawn. End closes the axis (and open spans) for an incident still open:
// the time of drawing.
type Timeline struct {
	Title      string               `json:"title"`
	Milestones map[string]time.Time `json:"milestones"`
	Pages      []Mark               `json:"pages,omitempty"`     // Label: level and who, "L1 Primary"
	Approvals  []Mark               `json:"approvals,omitempty"` // Label: "requested emergency bypass"
	Bypass     []Span               `json:"bypass,omitempty"`    // shaded
	End        time.Time            `json:"end"`
}

// Sample is one timed probe call.
type Sample struct {
	At time.Time `json:"at"`
	Ms float64   `json:"ms"`
	OK bool      `json:"ok"` // false: it failed (5xx, timeout, connection error)
}

// Series is one probe target's samples, e.g. "Backend API GET /jwks".
type Series struct {
	Name    string   `json:"name"`
	Samples []Sample `json:"samples"`
}

// Latency is Clerk's probe latency over [From, To] beside the slow
// threshold.
type Latency struct {
	Title  string        `json:"title"`
	From   time.Time     `json:"from"`
	To     time.Time     `json:"to"`
	Slow   time.Duration `json:"slow"`
	Series []Series      `json:"series"`
}

// Count is one bar: how many incidents had Label (a category or severity).
type Count struct {
	Label string `json:"label"`
	N     int    `json:"n"`
}

// Duration is one bar of the response-time panel, e.g. "MTTA p50".
type Duration struct {
	Label string        `json:"label"`
	D     time.Duration `json:"d"`
}

// Stats is what `stats` shows: incident counts and, when given, response
// times in minutes beside them.
type Stats struct {
	Title     string     `json:"title"`
	Counts    []Count    `json:"counts"`
	Durations []Duration `json:"durations,omitempty"`
}

// Request asks the drawer for one chart: exactly one field is set.
type Request struct {
	Timeline *Timeline `json:"timeline,omitempty"`
	Latency  *Latency  `json:"latency,omitempty"`
	Stats    *Stats    `json:"stats,omitempty"`
}
