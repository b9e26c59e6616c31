package paging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/backoff"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/httpx"
)

// PagerDutyAPIURL is PagerDuty's REST API (not the Events API).
const PagerDutyAPIURL = "https://api.pagerduty.com"

// PDIncident is one PagerDuty incident as the REST API shows it.
type PDIncident struct {
	ID     string
	Status string // triggered, acknowledged, resolved
	Key    string // incident_key: our dedup_key
	// Created is when PagerDuty opened it: an incident with our key from
	// before ours opened (a Redis that forgot its numbers) is not ours.
	Created time.Time
	Acks    []PDAck
	// LastChangeBy is who last changed its status (the resolver, once
	// resolved): a user, a service or an integration.
	LastChangeBy PDRef
	URL          string
}

// PDAck is one acknowledgement.
type PDAck struct {
	At time.Time
	By PDRef
}

// PDRef is a reference to a user, service or integration; Summary is a
// person's name for a user.
type PDRef struct {
	ID, Type, Summary string
}

// Person reports whether the reference is a PagerDuty user (not the
// service or an integration acting on an event).
func (p PDRef) Person() bool { return p.Type == "user_reference" || p.Type == "user" }

// PDAuthError is PagerDuty refusing PAGERDUTY_API_TOKEN: 401 (unknown or
// revoked key) or 403 (a key that may not read incidents). It will not
// change on retry.
type PDAuthError struct {
	Status int
	error
}

func (p *PDAuthError) Unwrap() error { return p.error }

// PagerDutyAPI reads incidents through PagerDuty's REST API with a REST
// API key (a read-only key suffices).
type PagerDutyAPI struct {
	url, token string
	hc         *http.Client
	count      httpx.Counter
}

// NewPagerDutyAPI builds the client; url "" is PagerDutyAPIURL; hc sends
// each attempt (nil: http.DefaultClient), which has at most 10 s either way.
func NewPagerDutyAPI(url, token string, hc *http.Client) *PagerDutyAPI {
	if url == "" {
		url = PagerDutyAPIURL
	}
	return &PagerDutyAPI{url: strings.TrimRight(url, "/"), token: token, hc: hc}
}

// WithCounter counts every attempt (metrics).
func (p *PagerDutyAPI) WithCounter(n httpx.Counter) *PagerDutyAPI {
	p.count = n
	return p
}

// pdPage is one page of GET /incidents.
type pdPage struct {
	Incidents []struct {
		ID          string    `json:"id"`
		Status      string    `json:"status"`
		IncidentKey string    `json:"incident_key"`
		CreatedAt   time.Time `json:"created_at"`
		HTMLURL     string    `json:"html_url"`
		Acks        []struct {
			At           time.Time `json:"at"`
			Acknowledger pdRef     `json:"acknowledger"`
		} `json:"acknowledgements"`
		LastStatusChangeBy *pdRef `json:"last_status_change_by"`
	} `json:"incidents"`
	Limit  int  `json:"limit"`
	Offset int  `json:"offset"`
	More   bool `json:"more"`
}

type pdRef struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
}

// maxPages bounds one key's paging: a key matching more incidents than
// this is not one the bot made.
const maxPages = 10

// Incidents returns every incident whose key (or one of whose alerts'
// keys) is key, all pages read. A 429 comes back as *RetryLater with
// PagerDuty's ratelimit-reset; 401/403 as *PDAuthError.
func (p *PagerDutyAPI) Incidents(ctx context.Context, key string) ([]PDIncident, error) {
	var out []PDIncident
	offset := 0
	for range maxPages {
		q := url.Values{"incident_key": {key}, "date_range": {"all"}, "limit": {"25"}, "offset": {strconv.Itoa(offset)}}
		var page pdPage
		if err := p.get(ctx, "/incidents", q, &page); err != nil {
			return nil, err
		}
		for _, in := range page.Incidents {
			inc := PDIncident{ID: in.ID, Status: in.Status, Key: in.IncidentKey, Created: in.CreatedAt, URL: in.HTMLURL}
			for _, a := range in.Acks {
				inc.Acks = append(inc.Acks, PDAck{At: a.At, By: PDRef(a.Acknowledger)})
			}
			if in.LastStatusChangeBy != nil {
				inc.LastChangeBy = PDRef(*in.LastStatusChangeBy)
			}
			out = append(out, inc)
		}
		if !page.More || len(page.Incidents) == 0 {
			return out, nil
		}
		offset = page.Offset + len(page.Incidents)
	}
	return out, nil
}

// get reads one resource through the one retry loop (3 tries): a 5xx or
// a dropped connection is retried with backoff, a 429 handed back at once
// with PagerDuty's wait (the caller's next poll waits it out), 401/403 and
// other 4xx are sentences that will not change on retry.
func (p *PagerDutyAPI) get(ctx context.Context, path string, q url.Values, into any) error {
	h := http.Header{}
	h.Set("Authorization", "Token token="+p.token)
	h.Set("Accept", "application/vnd.pagerduty+json;version=2")
	svc := httpx.Service{Name: "pagerduty", HTTP: p.hc, Timeout: 10 * time.Second, Count: p.count,
		Policy: httpx.Policy{Attempts: 3, Classify: func(a httpx.Answer) httpx.Verdict {
			if (a.Err != nil && ctx.Err() == nil) || a.Status >= 500 {
				return httpx.Verdict{Retry: true, Wait: backoff.Delay(a.Attempt+1, 500*time.Millisecond, 4*time.Second)}
			}
			return httpx.Verdict{}
		}}}
	a, err := svc.Do(ctx, httpx.Request{Method: http.MethodGet, URL: p.url + path + "?" + q.Encode(), Route: path, Header: h})
	var we *httpx.WaitError
	var bad *httpx.RequestError
	switch {
	case errors.As(err, &bad):
		return apperr.Wrap(apperr.Invalid, "PAGERDUTY_API_URL is not a valid URL", bad.Err)
	case errors.As(err, &we):
		return we.Err
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The error names the URL, never the token (it is a header).
		return apperr.New(apperr.UnavailableRemote, "PagerDuty's REST API did not answer")
	case a.Status/100 == 2:
		if err := json.Unmarshal(a.Body, into); err != nil {
			return apperr.Wrap(apperr.UnavailableRemote, "PagerDuty's REST API answered something that is not its JSON (is PAGERDUTY_API_URL right?)", err)
		}
		return nil
	}
	return refusal(a.Status, a.Header, a.Body)
}

// refusal is one non-2xx answer as an error.
func refusal(status int, header http.Header, body []byte) error {
	var e struct {
		Error struct {
			Message string   `json:"message"`
			Code    int      `json:"code"`
			Errors  []string `json:"errors"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	said := e.Error.Message
	if e.Error.Code != 0 {
		said = fmt.Sprintf("%s, code %d", said, e.Error.Code)
	}
	switch {
	case status == http.StatusUnauthorized:
		return &PDAuthError{Status: status, error: apperr.New(apperr.Invalid,
			"PagerDuty rejected PAGERDUTY_API_TOKEN (401: the REST API key is wrong, or was revoked)")}
	case status == http.StatusForbidden:
		return &PDAuthError{Status: status, error: apperr.New(apperr.Invalid,
			"PagerDuty refused PAGERDUTY_API_TOKEN access to incidents (403: the key may not read them; a read-only REST API key of the account works)")}
	case status == http.StatusTooManyRequests:
		return &RetryLater{After: rateLimitReset(header), error: apperr.New(apperr.UnavailableRemote,
			"PagerDuty is rate limiting PAGERDUTY_API_TOKEN (429)")}
	case status >= 500:
		return apperr.New(apperr.UnavailableRemote, fmt.Sprintf("PagerDuty's REST API answered %d", status))
	case status == http.StatusNotFound:
		return apperr.New(apperr.Invalid, "PagerDuty's REST API has no /incidents here (404): is PAGERDUTY_API_URL https://api.pagerduty.com (or https://api.eu.pagerduty.com)?")
	}
	return apperr.New(apperr.Invalid, fmt.Sprintf("PagerDuty refused the request (%d): %s", status, strings.TrimSpace(said+" "+strings.Join(e.Error.Errors, "; "))))
}

// rateLimitReset is how long PagerDuty asks to wait after a 429: its
// ratelimit-reset header (seconds), else Retry-After, else 0 (the caller
// backs off on its own).
func rateLimitReset(h http.Header) time.Duration {
	for _, name := range []string{"Ratelimit-Reset", "Retry-After"} {
		if s, err := strconv.Atoi(strings.TrimSpace(h.Get(name))); err == nil && s > 0 {
			return min(time.Duration(s)*time.Second, 10*time.Minute)
		}
	}
	return 0
}

// IsPDAuth reports whether err is PagerDuty refusing the REST API key.
func IsPDAuth(err error) (*PDAuthError, bool) {
	var a *PDAuthError
	ok := errors.As(err, &a)
	return a, ok
}
