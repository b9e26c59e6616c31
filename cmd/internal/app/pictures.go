package app

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerk-incident-bot/clerk-incident-bot/pictures"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// maxCharts is how many chart programs may run at once.
const maxCharts = 2

// newPictures wires the charts: each is drawn by the chart program in its
// own process (the idle bot links no plotting library), latency comes from
// the poller's probe samples (none without a poller).
func newPictures(cfg Config, files *publish.Files, poll *statuswatch.Poller, rdb redis.UniversalClient, now func() time.Time) *pictures.Pictures {
	draw := pictures.NewProcess(pictures.ChartProgram(cfg.ChartProgram), maxCharts)
	if poll == nil {
		// No poller: `diagnose` timings alone fill the chart.
		return pictures.New(draw, files, statuswatch.NewSamples(rdb, cfg.RedisPrefix, 0), cfg.ProbeSlow, now)
	}
	return pictures.New(draw, files, poll.Samples(), poll.ProbeSlow(), now)
}
