package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

type fakePinger struct{ err error }

func (f fakePinger) Ping(context.Context) error { return f.err }

type fakeSock bool

func (f fakeSock) Connected() bool { return bool(f) }

func TestHealthzSaysWhichPartIsDown(t *testing.T) {
	cases := []struct {
		name      string
		redisErr  error
		socket    bool
		code      int
		redis, ws string
	}{
		{"all up", nil, true, 200, "up", "up"},
		{"redis down", errors.New("dial tcp: connection refused"), true, 503, "down", "up"},
		{"socket down", nil, false, 503, "up", "down"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			healthMux(fakePinger{c.redisErr}, fakeSock(c.socket), nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != c.code || body["redis"] != c.redis || body["slack_socket"] != c.ws {
				t.Fatalf("got %d %v", rec.Code, body)
			}
		})
	}
}

func TestLogsRedactSecrets(t *testing.T) {
	var buf bytes.Buffer
	// Secrets without a recognizable shape are masked by value.
	log := newLogger(Config{LogLevel: logrus.InfoLevel, LogFormat: "json", TwilioToken: "0123456789abcdef0123456789abcdef",
		PagerDutyKey: "R0UTINGKEY0123456789abcdefABCDEF", PagerDutyToken: "u+PDRESTkey_abc123XYZ", StatuspageKey: "statuspage-api-key-42",
		AlertsToken: "am-token-4f9c2e7a1b3d5c6e"}, &buf)
	log.WithField("token", "xoxb-123-456-abcdef").WithField("url", "redis://user:hunter2@redis:6379/0").
		Error("failed with sk_live_abcDEF123 and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw and xapp-1-A1-xyz, " +
			"Twilio 0123456789abcdef0123456789abcdef, PagerDuty R0UTINGKEY0123456789abcdefABCDEF, Token token=u+PDRESTkey_abc123XYZ, Statuspage statuspage-api-key-42, " +
			"alerts Bearer am-token-4f9c2e7a1b3d5c6e")
	out := buf.String()
	for _, secret := range []string{"xoxb-123", "hunter2", "sk_live_abc", "whsec_MfK", "xapp-1", "0123456789abcdef0123", "R0UTINGKEY", "PDRESTkey", "statuspage-api-key", "am-token-4f9c"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "[redacted]") {
		t.Fatalf("nothing redacted: %s", out)
	}
}
