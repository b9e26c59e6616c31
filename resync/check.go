package resync

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Attempt is one request of the endpoint check.
type Attempt struct {
	Status  int
	Latency time.Duration
	Problem string // unreachable, TLS, timeout: told apart
}

// CheckResult is what `webhook check` found.
type CheckResult struct {
	Signed   Attempt
	Unsigned Attempt // a wrong signature
	// Finding is true when the endpoint accepted a wrong signature.
	Finding bool
}

// AsExpected reports whether the endpoint took the signed event and
// refused the wrong signature.
func (c CheckResult) AsExpected() bool {
	return c.Signed.Problem == "" && c.Signed.Status/100 == 2 && !c.Finding && c.Unsigned.Problem == "" && c.Unsigned.Status/100 == 4
}

// DeliveriesFail reports whether the endpoint refuses a correctly signed
// event: Clerk's deliveries fail there, which is the sync gap found.
func (c CheckResult) DeliveriesFail() bool {
	return c.Signed.Problem != "" || c.Signed.Status/100 != 2
}

// CheckEndpoint sends one correctly signed ping event and one with a
// wrong signature, as the runbook's curl did but signed.
func CheckEndpoint(ctx context.Context, hc *http.Client, url string, key Secret, now time.Time) CheckResult {
	body := []byte(`{"data":{},"object":"event","type":"ping","timestamp":` + itoa(now.UnixMilli()) + `}`)
	var res CheckResult
	res.Signed = attempt(ctx, hc, url, body, func(h http.Header) { key.Headers(h, body, now) })
	wrong := Secret("not-the-endpoint-secret")
	res.Unsigned = attempt(ctx, hc, url, body, func(h http.Header) { wrong.Headers(h, body, now) })
	res.Finding = res.Unsigned.Problem == "" && res.Unsigned.Status/100 == 2
	return res
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func attempt(ctx context.Context, hc *http.Client, url string, body []byte, sign func(http.Header)) Attempt {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Attempt{Problem: "the URL is not valid"}
	}
	req.Header.Set("Content-Type", "application/json")
	sign(req.Header)
	start := time.Now()
	resp, err := hc.Do(req)
	a := Attempt{Latency: time.Since(start)}
	if err != nil {
		a.Problem = classify(err)
		return a
	}
	resp.Body.Close()
	a.Status = resp.StatusCode
	return a
}

// classify tells unreachable, TLS and timeout errors apart.
func classify(err error) string {
	var cert *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var ne net.Error
	switch {
	case errors.As(err, &cert), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &recErr):
		return "TLS failed (certificate or protocol): check the endpoint's HTTPS setup"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out after 10 s: the endpoint is slow or a firewall drops the request"
	case errors.As(err, &dnsErr):
		return "unreachable: the host name does not resolve"
	case errors.As(err, &opErr):
		return "unreachable: connection refused or reset"
	}
	return "unreachable"
}
