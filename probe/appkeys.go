package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// AppKeys checks a Clerk key pair read from the app's deployment (not the
// bot's own keys): does the publishable key's Frontend API answer, and is
// the secret key of the same instance. The keys are never put in an error,
// a log line or a reply: only facts about them.
//
// The instance check compares signing keys: the Frontend API's public
// JWKS (https://<host>/.well-known/jwks.json, no key needed) and the
// Backend API's GET /jwks with the secret key (not rate limited, so the
// app's budget is not spent) list the same instance's keys. A secret key
// of another instance lists other kids; a rolled one answers 401.
type AppKeys struct {
	HTTP        *http.Client
	ClerkAPIURL string // CLERK_API_URL
	// FrontendURL maps a Frontend API host to its base URL (default
	// https://host; the bot's CLERK_FRONTEND_API_URL for its own host).
	FrontendURL func(host string) string
}

// AppKeyResult is what AppKeys found; each error is a sentence without
// any part of a key.
type AppKeyResult struct {
	Host        string
	FrontendErr error // the Frontend API did not answer its JWKS
	InstanceErr error // the secret key is not of the publishable key's instance
	Checked     bool  // the instance check ran (both keys given and the Frontend API answered)
}

// Check runs the checks; sk may be "" (unreadable), then only the
// Frontend API is checked.
func (a AppKeys) Check(ctx context.Context, pk, sk string) AppKeyResult {
	host, err := FrontendHost(pk)
	if err != nil {
		return AppKeyResult{FrontendErr: fmt.Errorf("the publishable key is malformed: %s", err)}
	}
	res := AppKeyResult{Host: host}
	base := "https://" + host
	if a.FrontendURL != nil {
		base = a.FrontendURL(host)
	}
	fkids, err := a.kids(ctx, strings.TrimRight(base, "/")+"/.well-known/jwks.json", "")
	if err != nil {
		res.FrontendErr = fmt.Errorf("the Frontend API %s does not answer: %w", host, err)
		return res
	}
	if sk == "" {
		return res
	}
	bkids, err := a.kids(ctx, strings.TrimRight(a.ClerkAPIURL, "/")+"/jwks", sk)
	res.Checked = true
	switch {
	case err != nil:
		res.InstanceErr = fmt.Errorf("the Backend API of Clerk did not accept the secret key: %w", err)
	case !overlap(fkids, bkids):
		res.InstanceErr = fmt.Errorf("the secret key belongs to another Clerk instance than the publishable key (%s): their signing keys differ", host)
	}
	return res
}

func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// kids reads a JWKS's key IDs. Its errors name the status, never the key.
func (a AppKeys) kids(ctx context.Context, url, bearer string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("bad URL")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no answer")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("401: the key was rolled, or is not a Clerk secret key")
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("it answered %d", resp.StatusCode)
	}
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &jwks); err != nil || len(jwks.Keys) == 0 {
		return nil, fmt.Errorf("its answer is not a JWKS")
	}
	var out []string
	for _, k := range jwks.Keys {
		out = append(out, k.Kid)
	}
	return out, nil
}
