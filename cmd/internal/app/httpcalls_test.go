package app_test

import (
	"strings"
	"testing"
	"time"
)

// Every attempt of a call to an outside service is counted on /metrics
// by service and status: level 1's page texts (Alice and Dan) went to
// Twilio, which answered 201 to each.
func TestOutsideServiceCallsAreCounted(t *testing.T) {
	t.Parallel()
	h := startPaging(t, phoneContacts)
	h.openAndPage(t)
	h.waitTexts(t, alicePhone, "INC-1", 1)
	h.waitTexts(t, danPhone, "INC-1", 1)
	if n := len(h.twilio.Sent()); n != 2 {
		t.Fatalf("%d requests to Twilio: %+v", n, h.twilio.Sent())
	}
	// The fake records a text before its answer reaches the bot, which
	// counts it then: wait for the count.
	want := `clerk_incident_http_calls_total{service="twilio",status="201"} 2`
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, body := scrape(t, h.bot.HTTPAddr, "")
		if strings.Contains(body, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %s:\n%s", want, grepLines(body, "http_calls"))
		}
	}
}
