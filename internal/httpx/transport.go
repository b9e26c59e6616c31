package httpx

import (
	"context"
	"net/http"
)

// Transport is the retry loop as an http.RoundTripper, for a client that
// takes only an *http.Client (clerk-sdk-go). The answer streams to that
// client, so its classifier sees status and headers, never the body; the
// *http.Client's Timeout bounds the whole call, waits included, since
// the SDK's caller waits on it.
type Transport struct {
	Service string
	Base    http.RoundTripper // nil: http.DefaultTransport
	// Policy is made for each request: a classifier may keep state over
	// one call's attempts (a backoff that grows with failures only).
	Policy func(req *http.Request) Policy
	// Before, if set, runs ahead of every attempt of req (a request
	// budget); its error ends the call.
	Before func(req *http.Request) error
	Count  Counter // nil: not counted
}

// RoundTrip implements http.RoundTripper: the body is replayed on each
// attempt (GetBody), every attempt is counted under the request's path.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var before func(ctx context.Context) error
	if t.Before != nil {
		before = func(context.Context) error { return t.Before(req) }
	}
	a, err := t.Policy(req).Run(req.Context(), before, func(ctx context.Context, n int) Answer {
		r := req
		if n > 0 && req.Body != nil && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return Answer{Err: err}
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := base.RoundTrip(r)
		a := Answer{Err: err, resp: resp}
		if resp != nil {
			a.Status, a.Header = resp.StatusCode, resp.Header
		}
		if t.Count != nil {
			t.Count.Call(t.Service, req.Method, req.URL.Path, a.Status)
		}
		return a
	})
	if err != nil {
		return nil, err // a streamed answer not handed back was closed by Run
	}
	return a.resp, nil
}
