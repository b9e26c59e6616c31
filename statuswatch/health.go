package statuswatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
)

// appHealth probes the app's health endpoint (APP_HEALTH_URL) and judges
// the answers: HealthConfirm failures in a row open an outage.
type appHealth struct {
	url       string
	confirm   int
	hc        *http.Client
	streaks   *streaks
	incidents *incidentMap
	snaps     *snapshots
	rep       Reporter
	obs       PollObserver
	now       func() time.Time
	log       logrus.FieldLogger
}

// poll probes the app's health and judges the answer.
func (ah *appHealth) poll(ctx context.Context) {
	ah.Judge(ctx, ah.Probe(ctx))
}

// Judge records one health probe: HealthConfirm failures in a row
// within the window open an outage; the first pass after it says the
// recovery.
func (ah *appHealth) Judge(ctx context.Context, h Health) {
	ah.obs.Poll("health", h.OK)
	ah.snaps.save(ctx, func(s *Snapshot) { s.Health = &h })
	key := "app-health"
	r := roundOK
	if !h.OK {
		r = roundFailed
	}
	st, err := ah.streaks.record(ctx, key, r)
	if err != nil {
		ah.log.WithError(err).Warn("app health streak not recorded")
		return
	}
	if h.OK {
		if st.Recovered {
			if id := ah.incidents.mapped(ctx, key); id != "" {
				ah.rep.Note(ctx, Note{Kind: AppRecovered, Incident: id, HTTPStatus: h.Status, Latency: h.Latency})
			}
		}
		return
	}
	if !st.Confirmed(ah.confirm) {
		return
	}
	ah.streaks.markDown(ctx, key)
	if ah.incidents.mapped(ctx, key) != "" {
		return
	}
	what := h.Err
	if what == "" {
		what = fmt.Sprintf("status %d", h.Status)
	}
	ah.incidents.open(ctx, key, Alert{Key: key, Category: incident.Outage, Severity: incident.P1, Polls: st.Failed, Detected: backdated(st.First(ah.confirm), ah.now()),
		Title:  "App health check failing",
		Impact: fmt.Sprintf("GET %s failed %d times in a row; last: %s after %s", ah.url, st.Failed, what, probe.Ms(h.Latency)),
		Link:   ah.url})
}

// backdated is a streak's first round when it is before now (the zero
// time otherwise: signal then dates the alert from its rounds).
func backdated(first, now time.Time) time.Time {
	if first.Before(now) {
		return first.UTC()
	}
	return time.Time{}
}

// Probe calls the app's health endpoint with a 5 s timeout.
func (ah *appHealth) Probe(ctx context.Context) Health {
	h := Health{URL: ah.url, At: ah.now().UTC()}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ah.url, nil)
	if err != nil {
		h.Err = "bad APP_HEALTH_URL"
		return h
	}
	start := time.Now()
	resp, err := ah.hc.Do(req)
	h.Latency = time.Since(start)
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			h.Err = "timed out after 5 s"
		default:
			h.Err = "connection failed: " + rootCause(err)
		}
		return h
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	h.Status = resp.StatusCode
	h.OK = resp.StatusCode/100 == 2
	return h
}

func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
