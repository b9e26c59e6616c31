package app

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/alerts"
	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

type alertTaker interface {
	Take(ctx context.Context, b alerts.Batch) (usecase.AlertsTaken, error)
}

// alertsHandler is POST /v1/alerts: Alertmanager's webhook (version 4)
// and Grafana's webhook contact point, behind ALERTS_TOKEN (unset: 404,
// as if it were not there). Bad input is a 4xx saying what is wrong and
// changes nothing; a failure to open is a 503, which Alertmanager retries
// (each firing is taken once, so a retry never doubles an incident).
func alertsHandler(t alertTaker, token string, def incident.Category, log logrus.FieldLogger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if token == "" {
			jsonError(w, http.StatusNotFound, "not found: POST /v1/alerts is off until ALERTS_TOKEN is set")
			return
		}
		scheme, got, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		// The scheme is case-insensitive (RFC 9110 §11.1): Grafana's
		// contact point sends what its form was given.
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="alerts"`)
			jsonError(w, http.StatusUnauthorized, "unauthorized: send Authorization: Bearer <ALERTS_TOKEN> (http_config.authorization.credentials in Alertmanager)")
			return
		}
		if r.ContentLength > alerts.MaxBody {
			jsonError(w, http.StatusRequestEntityTooLarge, "the body is over 1 MiB: lower max_alerts in the receiver's webhook_config")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, alerts.MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				jsonError(w, http.StatusRequestEntityTooLarge, "the body is over 1 MiB: lower max_alerts in the receiver's webhook_config")
				return
			}
			jsonError(w, http.StatusBadRequest, "the body could not be read")
			return
		}
		batch, err := alerts.Parse(body, def)
		if err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, alerts.ErrTooMany) {
				code = http.StatusRequestEntityTooLarge
			}
			log.WithField("status", code).WithField("why", apperr.MessageOf(err)).Warn("alerts refused")
			jsonError(w, code, apperr.MessageOf(err))
			return
		}
		taken, err := t.Take(r.Context(), batch)
		fields := logrus.Fields{"sender": batch.Sender, "receiver": batch.Receiver, "alerts": len(batch.Alerts), "firing": taken.Firing,
			"resolved": taken.Resolved, "duplicates": taken.Duplicates, "incidents": taken.Incidents}
		if err != nil {
			log.WithFields(fields).WithError(err).Error("alerts not all taken; the sender will retry")
			jsonError(w, http.StatusServiceUnavailable, "not all alerts could be taken ("+string(apperr.CodeOf(err))+"); retry")
			return
		}
		log.WithFields(fields).Info("alerts taken")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(taken)
	})
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
