package app

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

// A whsec_ secret is standard base64: '+', '/' and '=' are part of it, and
// a mask that stops at them leaks the rest of the key.
func TestLogsRedactWholeBase64Secrets(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log := newLogger(Config{LogLevel: logrus.InfoLevel, LogFormat: format}, &buf)
		log.WithField("secret", "whsec_MfKQ9r8+GKYqrTwj/UPD8ILPZIo2LaLaSw==").Error("svix signing with whsec_Ab+cD/eF+gH/iJ==")
		out := buf.String()
		for _, tail := range []string{"GKYqrTwj", "UPD8ILPZ", "cD", "eF", "gH", "iJ", "=="} {
			if strings.Contains(out, tail) {
				t.Errorf("%s log line leaks %q of the secret: %s", format, tail, out)
			}
		}
		if strings.Count(out, "[redacted]") != 2 {
			t.Errorf("%s: want 2 redactions: %s", format, out)
		}
	}
}
