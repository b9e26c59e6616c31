package app

import (
	"strings"
	"testing"
)

// The probes' and the alerts' settings: each mistake is said, by name,
// before the bot starts.
func TestProbeAndAlertSettingsAreChecked(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		says string
	}{
		{map[string]string{"CLERK_PROBE_SCHEDULE": "every ten seconds"}, `CLERK_PROBE_SCHEDULE "every ten seconds" is not a cron schedule`},
		{map[string]string{"CLERK_PROBE_CONFIRM_POLLS": "1"}, "one failed probe never opens an incident"},
		{map[string]string{"APP_HEALTH_CONFIRM_POLLS": "1"}, "APP_HEALTH_CONFIRM_POLLS \"1\" must be a whole number from 2 to 100"},
		{map[string]string{"CLERK_PROBE_CONFIRM_WINDOW": "30s"}, "CLERK_PROBE_CONFIRM_WINDOW 30s cannot hold CLERK_PROBE_CONFIRM_POLLS=4 probe rounds 10s apart"},
		{map[string]string{"CLERK_PROBE_SCHEDULE": "off"}, "cannot hold CLERK_PROBE_CONFIRM_POLLS=4 probe rounds 1m0s apart"},
		{map[string]string{"ALERTS_TOKEN": "short", "SLACK_CHANNEL_ID": "CINC"}, "ALERTS_TOKEN must be at least 16 characters"},
		{map[string]string{"ALERTS_TOKEN": "a-long-enough-alerts-token"}, "ALERTS_TOKEN needs SLACK_CHANNEL_ID"},
		{map[string]string{"ALERTS_DEFAULT_CATEGORY": "database"}, `ALERTS_DEFAULT_CATEGORY "database" must be outage, webhook, security or performance`},
	} {
		env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-abc"}
		for k, v := range c.env {
			env[k] = v
		}
		_, err := Load(func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%v: %v", c.env, err)
		}
		if err != nil && strings.Contains(err.Error(), "short") {
			t.Errorf("the token's value is echoed: %v", err)
		}
	}
	// The defaults load, with the probes on their own schedule.
	cfg, err := Load(func(k string) string {
		return map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-abc", "CLERK_PROBE_SCHEDULE": "off",
			"CLERK_PROBE_CONFIRM_WINDOW": "5m"}[k]
	})
	if err != nil || cfg.ProbeSchedule != "" {
		t.Fatalf("probes riding the status poll: %+v %v", cfg.ProbeSchedule, err)
	}
}
