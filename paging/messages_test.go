package paging_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
)

// The message list is newest first, holds what was sent too, and pages
// by next_page_uri: Received walks it back to since and gives the
// inbound messages to the number, oldest first.
func TestReceivedReadsInboundRepliesAcrossPages(t *testing.T) {
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	now := time.Date(2026, 12, 8, 23, 59, 0, 0, time.UTC)
	tw.SetClock(func() time.Time { return now })
	c := paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, nil)
	ctx := context.Background()
	tw.Reply("+15550000001", tw.From, "too old")
	now = now.Add(2 * time.Minute) // past midnight: the day filter alone would not do
	since := now
	var want []string
	for i := range 250 {
		now = now.Add(time.Second)
		want = append(want, tw.Reply(fmt.Sprintf("+1555000%04d", i), tw.From, "ack"))
		if i%50 == 0 {
			tw.Outbound(tw.From, tw.From, "sent by us")                // outbound, listed, not a reply
			tw.Reply("+15550000001", "+15559999999", "another number") // not ours
			if err := c.SMS(ctx, "+15550000001", "a page"); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, truncated, err := c.Received(ctx, tw.From, since)
	if err != nil || truncated {
		t.Fatal(err, truncated)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i, m := range got {
		if m.SID != want[i] || m.Body != "ack" || m.To != tw.From || m.Sent.Before(since) {
			t.Fatalf("message %d: %+v, want %s", i, m, want[i])
		}
	}
	pages := 0
	for _, r := range tw.Requests() {
		if r.Method == http.MethodGet {
			pages++
		}
	}
	if pages != 3 {
		t.Fatalf("read %d pages of 100 for 250 replies", pages)
	}
}

// twilioSchemas is what the answer check needs of Twilio's OpenAPI
// description: its resources' fields (testdata: the resources used, from
// twilio/twilio-oai, MIT). Requests are checked by internal/speccheck.
type twilioSchemas struct {
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

// Every request the client sends, through a number or a Messaging
// Service, is one Twilio's API description defines (speccheck), and the
// fake answers only with the fields Twilio's resources have.
func TestTwilioRequestsMatchTwilioOpenAPI(t *testing.T) {
	raw, err := os.ReadFile("testdata/twilio_api_v2010_subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var sp twilioSchemas
	if err := json.Unmarshal(raw, &sp); err != nil {
		t.Fatal(err)
	}
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	ctx := context.Background()
	c := paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, nil)
	mg := paging.NewTwilio(tw.URL(), tw.SID, tw.Token, "MG0123456789abcdef0123456789abcdef", nil).WithCallerID(tw.From)
	for i := range 120 {
		tw.Reply(fmt.Sprintf("+1555000%04d", i), tw.From, "ack")
	}
	if err := c.SMS(ctx, "+15550000001", "x"); err != nil {
		t.Fatal(err)
	}
	if err := mg.SMS(ctx, "+15550000001", "x"); err != nil {
		t.Fatal(err)
	}
	sid, err := mg.Call(ctx, "+15550000002", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CallStatus(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Received(ctx, tw.From, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	speccheck.Verify(t, speccheck.MustLoad(speccheck.Twilio), tw.SpecRequests(), "POST /2010-04-01/Accounts/{AccountSid}/Messages.json",
		"GET /2010-04-01/Accounts/{AccountSid}/Messages.json", "POST /2010-04-01/Accounts/{AccountSid}/Calls.json",
		"GET /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json")
	// The fake's answers carry only the resources' own fields.
	list := fetchJSON(t, tw, "/2010-04-01/Accounts/"+tw.SID+"/Messages.json?PageSize=2")
	fieldsIn(t, sp, "ListMessageResponse", list)
	for _, m := range list["messages"].([]any) {
		fieldsIn(t, sp, "api.v2010.account.message", m.(map[string]any))
		if _, err := time.Parse(time.RFC1123Z, m.(map[string]any)["date_sent"].(string)); err != nil {
			t.Errorf("date_sent is not RFC 2822: %v", err)
		}
	}
	fieldsIn(t, sp, "api.v2010.account.call", fetchJSON(t, tw, "/2010-04-01/Accounts/"+tw.SID+"/Calls/"+sid+".json"))
}

func fetchJSON(t *testing.T, tw *fakepaging.Twilio, path string) map[string]any {
	t.Helper()
	u, _ := url.Parse(tw.URL() + path)
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	req.SetBasicAuth(tw.SID, tw.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func fieldsIn(t *testing.T, sp twilioSchemas, schema string, obj map[string]any) {
	t.Helper()
	props := sp.Components.Schemas[schema].Properties
	for k := range obj {
		if _, ok := props[k]; !ok {
			t.Errorf("%s: field %q is not in Twilio's spec", schema, k)
		}
	}
}

// Twilio reports answered_by only for a call that asked for
// answering-machine detection: without it, a voicemail pickup is
// "completed" with answered_by null, like a person.
func TestAnsweredByOnlyWhenDetectionWasAsked(t *testing.T) {
	tw := fakepaging.NewTwilio()
	defer tw.Close()
	tw.ScriptCall("+15550000003", "completed:machine_start")
	form := url.Values{"To": {"+15550000003"}, "From": {tw.From}, "Twiml": {"<Response><Say>x</Say></Response>"}}
	req, _ := http.NewRequest(http.MethodPost, tw.URL()+"/2010-04-01/Accounts/"+tw.SID+"/Calls.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(tw.SID, tw.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var call struct{ SID string }
	_ = json.NewDecoder(resp.Body).Decode(&call)
	resp.Body.Close()
	got := fetchJSON(t, tw, "/2010-04-01/Accounts/"+tw.SID+"/Calls/"+call.SID+".json")
	if got["status"] != "completed" || got["answered_by"] != nil {
		t.Fatalf("without detection: %v", got)
	}
	c := paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, nil)
	sid, err := c.Call(context.Background(), "+15550000003", "x")
	if err != nil {
		t.Fatal(err)
	}
	if status, by, err := c.CallStatus(context.Background(), sid); err != nil || status != "completed" || by != "machine_start" {
		t.Fatalf("with detection: %s %s %v", status, by, err)
	}
}
