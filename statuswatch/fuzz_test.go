package statuswatch_test

import (
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// FuzzParse: any status page body parses or fails cleanly.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"page":{"url":"https://status.clerk.com"},"status":{"indicator":"minor"},"components":[{"id":"c1","name":"Session management","status":"full_outage"}],"incidents":[{"id":"01K","name":"x","status":"investigating","impact":"minor","incident_updates":[{"id":"u1","body":"b","created_at":"2026-01-01T00:00:00Z"}],"components":[{"name":"Webhooks","status":"partial_outage"}]}]}`))
	f.Add([]byte(`{"page_title":"Clerk","ongoing_incidents":[{"id":"01K","name":"x","status":"identified","current_worst_impact":"degraded_performance","last_update_at":"2026-01-01T00:00:00Z","last_update_message":"m","affected_components":[{"id":"a","name":"Dashboard"}]}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 8192 {
			return // files this big are not what the loaders meet
		}
		s, err := statuswatch.Parse(body)
		if err != nil {
			return
		}
		_ = s.NotOperational()
		for _, in := range s.Incidents {
			_ = in.Latest()
		}
	})
}
