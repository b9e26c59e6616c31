package app

import (
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/pictures"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// newPictures wires the charts: each is drawn by the chart program in its
// own process (the idle bot links no plotting library), latency comes from
// the poller's probe samples (none without a poller).
func newPictures(cfg Config, pub *publish.Publisher, poll *statuswatch.Poller, now func() time.Time) *pictures.Pictures {
	draw := pictures.Process{Path: pictures.ChartProgram(cfg.ChartProgram)}
	if poll == nil {
		return pictures.New(draw, pub.Files, nil, cfg.ProbeSlow, now)
	}
	return pictures.New(draw, pub.Files, poll.Samples(), poll.ProbeSlow(), now)
}
