package app

import (
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/pictures"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// newPictures wires the charts: latency comes from the poller's probe
// samples (none without a poller).
func newPictures(pub *publish.Publisher, poll *statuswatch.Poller, slow time.Duration, now func() time.Time) *pictures.Pictures {
	if poll == nil {
		return pictures.New(pub, nil, slow, now)
	}
	return pictures.New(pub, poll.Samples(), poll.ProbeSlow(), now)
}
