package github_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/github"
)

// A primary rate limit, as GitHub documents it (403 with
// x-ratelimit-remaining: 0 and x-ratelimit-reset, the reset in Unix
// seconds), is waited out until the reset, read on the client's clock,
// when that fits MaxWait; a later reset is told at once.
func TestPrimaryRateLimitWaitsUntilTheReset(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		reset time.Duration
		slept []time.Duration
		told  string
	}{
		{name: "reset within MaxWait", reset: 30 * time.Second, slept: []time.Duration{30 * time.Second}},
		{name: "reset beyond MaxWait", reset: 2 * time.Minute, told: "it asks to wait 2m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("X-RateLimit-Remaining", "0")
					w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(tc.reset).Unix(), 10))
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusForbidden)
					_, _ = w.Write([]byte(`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`))
					return
				}
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"number":7,"html_url":"https://github.com/acme/incidents/issues/7"}`))
			}))
			defer ts.Close()
			var slept []time.Duration
			c := github.New(github.Config{Token: "ghp_x", Repo: "acme/incidents", APIURL: ts.URL, Now: func() time.Time { return now },
				Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
			is, err := c.CreateIssue(context.Background(), github.NewIssue{Title: "t"})
			if tc.told != "" {
				if err == nil || !strings.Contains(err.Error(), tc.told) || len(slept) != 0 || calls.Load() != 1 {
					t.Fatalf("err %v after %v, %d calls", err, slept, calls.Load())
				}
				return
			}
			if err != nil || is.Number != 7 || len(slept) != 1 || slept[0] != tc.slept[0] {
				t.Fatalf("issue %+v, err %v, slept %v", is, err, slept)
			}
		})
	}
}
