package statuswatch

import (
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// signal fills in when and where an alert's problem was first seen, for
// the incident's detected milestone: the first of the Polls bad polls in
// a row, which ran Interval apart (an alert already dated keeps its
// date).
func signal(a Alert, now time.Time, interval time.Duration) Alert {
	if a.Detected.IsZero() {
		a.Detected = now.UTC()
		if a.Polls > 1 && interval > 0 {
			a.Detected = a.Detected.Add(-time.Duration(a.Polls-1) * interval)
		}
	}
	if a.Source == "" {
		a.Source = sourceOf(a.Key)
	}
	return a
}

// sourceOf names the signal behind a problem key.
func sourceOf(key string) string {
	switch {
	case key == "app-health":
		return incident.SourceAppHealth
	case strings.HasPrefix(key, "probe:"):
		return incident.SourceProbe
	case strings.HasPrefix(key, "upstream:"), strings.HasPrefix(key, "components:"), strings.HasPrefix(key, "indicator:"):
		return incident.SourceStatusPage
	}
	return ""
}
