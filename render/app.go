package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/probe"
)

// Ago is a short age: "just now", "12 min ago", "5 h ago", "3 d ago".
func Ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d ago", int(d/(24*time.Hour)))
}

// EnvText renders the findings of `env check`; problems counts the
// failures.
func EnvText(fs []probe.EnvFinding) (text string, problems int) {
	var b strings.Builder
	b.WriteString(":mag: *The app's production Clerk variables on Vercel* (values never shown)")
	icons := map[string]string{probe.EnvOK: ":white_check_mark:", probe.EnvWarn: ":warning:", probe.EnvFail: ":x:", probe.EnvInfo: ":information_source:"}
	for _, f := range fs {
		if f.Level == probe.EnvFail {
			problems++
		}
		fmt.Fprintf(&b, "\n%s %s", icons[f.Level], f.Text)
	}
	return b.String(), problems
}
