package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/alerts"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

type countingTaker struct{ n int }

func (c *countingTaker) Take(context.Context, alerts.Batch) (usecase.AlertsTaken, error) {
	c.n++
	return usecase.AlertsTaken{}, nil
}

// The Authorization scheme is case-insensitive, so "bearer <token>" is
// let in; the token itself must match exactly, and nothing else passes.
func TestAlertsTokenSchemeIsCaseInsensitive(t *testing.T) {
	const token = "0123456789abcdef-alerts"
	taker := &countingTaker{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	h := alertsHandler(taker, token, incident.Outage, log)
	body := `{"version":"4","receiver":"r","alerts":[{"status":"firing","labels":{"alertname":"X"},"startsAt":"2026-11-26T02:58:30Z","fingerprint":"00000000000000d1"}]}`
	for _, c := range []struct {
		auth string
		code int
	}{
		{"Bearer " + token, http.StatusOK},
		{"bearer " + token, http.StatusOK},
		{"BEARER  " + token + " ", http.StatusOK},
		{"Bearer " + strings.ToUpper(token), http.StatusUnauthorized},
		{"Basic " + token, http.StatusUnauthorized},
		{token, http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
		{"", http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(http.MethodPost, "/v1/alerts", strings.NewReader(body))
		req.Header.Set("Authorization", c.auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.code {
			t.Errorf("Authorization %q: %d, want %d (%s)", c.auth, w.Code, c.code, w.Body)
		}
	}
	if taker.n != 3 {
		t.Fatalf("%d requests taken, want 3", taker.n)
	}
}
