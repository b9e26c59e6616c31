// Package paging reaches people beyond Slack: SMS and voice calls through
// Twilio's REST API, and PagerDuty's Events API v2. Each error is a coded
// sentence: a wrong number or an unverified one never changes on retry
// (apperr.Invalid), a 429 or 5xx may (apperr.UnavailableRemote). The
// Twilio auth token and the PagerDuty routing key never appear in errors.
package paging

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
)

// TwilioURL is Twilio's API.
const TwilioURL = "https://api.twilio.com"

// Twilio sends SMS and places calls.
type Twilio struct {
	base, sid, token, from string
	callerID               string
	hc                     *http.Client
	count                  httpx.Counter
}

// NewTwilio builds a client; from is a number or a Messaging Service SID
// (MG…), which SMS use instead of From.
func NewTwilio(base, sid, token, from string, hc *http.Client) *Twilio {
	if base == "" {
		base = TwilioURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Twilio{base: strings.TrimRight(base, "/"), sid: sid, token: token, from: from, hc: hc}
}

// WithCounter counts every request (metrics).
func (t *Twilio) WithCounter(n httpx.Counter) *Twilio {
	t.count = n
	return t
}

// WithCallerID makes calls come from id (E.164): a call's From must be a
// phone number, so a Messaging Service SID in from cannot place one.
func (t *Twilio) WithCallerID(id string) *Twilio {
	t.callerID = id
	return t
}

// SMS texts body to a number.
func (t *Twilio) SMS(ctx context.Context, to, body string) error {
	f := url.Values{"To": {to}, "Body": {body}}
	if strings.HasPrefix(t.from, "MG") {
		f.Set("MessagingServiceSid", t.from)
	} else {
		f.Set("From", t.from)
	}
	return t.post(ctx, "Messages.json", f)
}

// Call rings a number and says text twice. It returns the call's SID
// (CA…): Twilio's 201 only means queued, CallStatus tells what became of it.
func (t *Twilio) Call(ctx context.Context, to, text string) (string, error) {
	say := "<Say>" + html.EscapeString(text) + "</Say>"
	from := t.from
	if t.callerID != "" {
		from = t.callerID
	}
	f := url.Values{"To": {to}, "From": {from}, "Twiml": {"<Response>" + say + "<Pause length=\"1\"/>" + say + "</Response>"},
		// Answering-machine detection, so a voicemail pickup is not taken
		// for an answer. Synchronous: Twilio records answered_by on the
		// call; AsyncAmd would only post it to a callback URL, and the bot
		// has no public URL.
		"MachineDetection": {"Enable"}}
	var call struct {
		SID string `json:"sid"`
	}
	if err := t.do(ctx, http.MethodPost, "Calls.json", f, &call); err != nil {
		return "", err
	}
	return call.SID, nil
}

// CallStatus reads a call's status (queued, ringing, in-progress,
// completed, busy, failed, no-answer or canceled) and who answered it as
// answering-machine detection decided (human, machine_start,
// machine_end_beep, machine_end_silence, machine_end_other, fax, unknown;
// "" until it has decided).
func (t *Twilio) CallStatus(ctx context.Context, sid string) (status, answeredBy string, err error) {
	var call struct {
		Status     string  `json:"status"`
		AnsweredBy *string `json:"answered_by"`
	}
	if err := t.do(ctx, http.MethodGet, "Calls/"+url.PathEscape(sid)+".json", nil, &call); err != nil {
		return "", "", err
	}
	if call.AnsweredBy != nil {
		answeredBy = *call.AnsweredBy
	}
	return call.Status, answeredBy, nil
}

func (t *Twilio) post(ctx context.Context, what string, f url.Values) error {
	return t.do(ctx, http.MethodPost, what, f, nil)
}

// do sends one request, once: a text or a call sent again after a lost
// answer could reach the person twice. out, if not nil,
// receives a 2xx answer's JSON. what is a path under the account, or a
// path from the host (a next_page_uri, which starts with /2010-04-01/).
func (t *Twilio) do(ctx context.Context, method, what string, f url.Values, out any) error {
	u := fmt.Sprintf("%s/2010-04-01/Accounts/%s/%s", t.base, url.PathEscape(t.sid), what)
	if strings.HasPrefix(what, "/2010-04-01/Accounts/") {
		u = t.base + what
	}
	h := http.Header{}
	var body []byte
	if f != nil {
		body = []byte(f.Encode())
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(t.sid+":"+t.token)))
	svc := httpx.Service{Name: "twilio", HTTP: t.hc, Timeout: 10 * time.Second, Count: t.count, Policy: httpx.Policy{Classify: httpx.Never}}
	a, err := svc.Do(ctx, httpx.Request{Method: method, URL: u, Route: twilioRoute(what), Header: h, Body: body})
	var bad *httpx.RequestError
	switch {
	case errors.As(err, &bad):
		return apperr.Wrap(apperr.Invalid, "TWILIO_API_URL is not a valid URL", bad.Err)
	case err != nil:
		return apperr.New(apperr.UnavailableRemote, "Twilio did not answer")
	case a.Status/100 == 2:
		if out != nil {
			if err := json.Unmarshal(a.Body, out); err != nil {
				return apperr.Wrap(apperr.UnavailableRemote, "Twilio answered something that is not JSON", err)
			}
		}
		return nil
	}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(a.Body, &e)
	return twilioError(a.Status, e.Code, e.Message)
}

// twilioRoute is a request's resource as counted: Messages or Calls (a
// call's SID and a page's query left out).
func twilioRoute(what string) string {
	what, _, _ = strings.Cut(what, "?")
	if strings.Contains(what, "Calls") {
		return "/2010-04-01/Accounts/{AccountSid}/Calls"
	}
	return "/2010-04-01/Accounts/{AccountSid}/Messages"
}

// twilioError turns Twilio's error codes into sentences.
func twilioError(status, code int, msg string) error {
	switch code {
	case 21211:
		return apperr.New(apperr.Invalid, "Twilio says the phone number is not valid (21211): fix it in contacts.yml")
	case 21217:
		return apperr.New(apperr.Invalid, "Twilio says the phone number cannot be called (21217): fix it in contacts.yml")
	case 21212:
		return apperr.New(apperr.Invalid, "Twilio will not place a call from this caller ID (21212): a call must come from a phone number (E.164) you own or have verified, not a Messaging Service SID: set TWILIO_CALLER_ID")
	case 21608:
		return apperr.New(apperr.Invalid, "Twilio will not text or call an unverified number from a trial account (21608): verify it in Twilio or upgrade the account")
	case 21610:
		return apperr.New(apperr.Invalid, "the number has opted out of messages from this sender (21610): they must text START to it")
	case 20003:
		return apperr.New(apperr.Invalid, "Twilio rejected the credentials (20003): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	case 20429:
		return apperr.New(apperr.UnavailableRemote, "Twilio is rate limiting this account (20429)")
	}
	switch {
	case status == http.StatusTooManyRequests:
		return apperr.New(apperr.UnavailableRemote, "Twilio is rate limiting this account (429)")
	case status >= 500:
		return apperr.New(apperr.UnavailableRemote, fmt.Sprintf("Twilio answered %d", status))
	case status == http.StatusUnauthorized:
		return apperr.New(apperr.Invalid, "Twilio rejected the credentials (401): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return apperr.New(apperr.Invalid, fmt.Sprintf("Twilio refused it (%d, code %d): %s", status, code, msg))
}
