package vercel_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/vercel"
)

// Callers tell Vercel's answers apart by code and type, never by text.
func TestErrorsCarryCodes(t *testing.T) {
	for status, want := range map[int]apperr.Code{401: apperr.Invalid, 402: apperr.Invalid, 403: apperr.Invalid, 404: apperr.NotFound,
		409: apperr.Invalid, 429: apperr.UnavailableRemote, 500: apperr.UnavailableRemote, 503: apperr.UnavailableRemote} {
		err := error(&vercel.Error{Status: status, Op: "read the project"})
		if got := apperr.CodeOf(err); got != want {
			t.Errorf("%d: code %s, want %s", status, got, want)
		}
		var withStatus interface{ HTTPStatus() int }
		if !errors.As(err, &withStatus) || withStatus.HTTPStatus() != status {
			t.Errorf("%d: the status is not carried", status)
		}
	}
	// Nothing listens on port 1: no answer at all.
	c := vercel.New(vercel.Config{Token: "t", Project: "p", APIURL: "http://127.0.0.1:1"})
	_, err := c.Project(context.Background())
	var ve *vercel.Error
	if apperr.CodeOf(err) != apperr.UnavailableRemote || errors.As(err, &ve) || !strings.HasPrefix(err.Error(), "no answer from Vercel when asked to read the project") {
		t.Fatalf("no answer: %v (code %s)", err, apperr.CodeOf(err))
	}
}
