package statuswatch_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// FuzzParse: any status page body parses or fails with a message; what
// parses is in one known format, deterministic, with normalised statuses,
// updates oldest first and an indicator the reporter knows.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"page":{"url":"https://status.clerk.com"},"status":{"indicator":"minor"},"components":[{"id":"c1","name":"Session management","status":"full_outage"}],"incidents":[{"id":"01K","name":"x","status":"investigating","impact":"minor","incident_updates":[{"id":"u1","body":"b","created_at":"2026-01-01T00:00:00Z"}],"components":[{"name":"Webhooks","status":"partial_outage"}]}]}`))
	f.Add([]byte(`{"page_title":"Clerk","ongoing_incidents":[{"id":"01K","name":"x","status":"identified","current_worst_impact":"degraded_performance","last_update_at":"2026-01-01T00:00:00Z","last_update_message":"m","affected_components":[{"id":"a","name":"Dashboard"}]}]}`))
	f.Add([]byte(`{"summary":{"components":[{"id":"a","name":"Dashboard"}],"affected_components":[{"component_id":"a","status":"full_outage"}],"ongoing_incidents":[{"id":"1","current_worst_impact":"partial_outage","affected_components":[{"component_id":"a"}]}]}}`))
	f.Add([]byte(`{"status":{"indicator":"none","description":"All Systems Operational"}}`))
	f.Add([]byte(`<?xml version="1.0"?><rss><channel><item><title>Sign-in errors</title><link>https://status.clerk.com/i/1</link><pubDate>Wed, 02 Dec 2026 10:00:00 +0000</pubDate><description>Investigating - major outage of Session management</description></item></channel></rss>`))
	f.Add([]byte(`[]`))
	now := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	comps := []string{"Session management", "Dashboard"}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 8192 {
			return // files this big are not what the loaders meet
		}
		s, err := statuswatch.ParseAt(body, now, comps)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a parse error with no message")
			}
			return
		}
		if again, _ := statuswatch.ParseAt(body, now, comps); !reflect.DeepEqual(s, again) {
			t.Fatalf("the same body parsed twice differs:\n%+v\n%+v", s, again)
		}
		switch s.Format {
		case statuswatch.FormatStatuspage:
			// Statuspage's own indicator is passed through as given.
		case statuswatch.FormatIndicator:
			if s.Indicator == "" {
				t.Fatal("an indicator-only page parsed without an indicator")
			}
		case statuswatch.FormatWidget, statuswatch.FormatPageData, statuswatch.FormatFeed:
			if !slices.Contains([]string{"none", "minor", "major", "critical", "maintenance"}, s.Indicator) {
				t.Fatalf("%s parsed to indicator %q", s.Format, s.Indicator)
			}
		default:
			t.Fatalf("unknown format %q", s.Format)
		}
		// Unknown upstream statuses pass through (and count as not
		// operational, the safe side); empty and incident.io's
		// full_outage never do.
		check := func(where string, cs []statuswatch.Component) {
			for _, c := range cs {
				if c.Status == "" || c.Status == "full_outage" {
					t.Fatalf("%s component %q has status %q", where, c.Name, c.Status)
				}
			}
		}
		check("page", s.Components)
		for _, c := range s.NotOperational() {
			if c.Status == statuswatch.Operational || !slices.Contains(s.Components, c) {
				t.Fatalf("NotOperational lists %+v", c)
			}
		}
		for _, in := range s.Incidents {
			check("incident "+in.ID, in.Components)
			if !slices.IsSortedFunc(in.Updates, func(a, b statuswatch.Update) int { return a.At.Compare(b.At) }) {
				t.Fatalf("incident %q updates are not oldest first", in.ID)
			}
			if len(in.Updates) > 0 && in.Latest() != in.Updates[len(in.Updates)-1] {
				t.Fatalf("incident %q Latest is not its last update", in.ID)
			}
		}
	})
}
