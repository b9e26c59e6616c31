package github_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/github"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakegithub"
)

func client(t *testing.T, fg *fakegithub.Server, slept *[]time.Duration) *github.Client {
	t.Helper()
	return github.New(github.Config{Token: fg.Token, Repo: fg.Repo, APIURL: fg.URL(),
		Sleep: func(ctx context.Context, d time.Duration) error { *slept = append(*slept, d); return nil }})
}

func TestCreateIssueSendsGitHubsHeaders(t *testing.T) {
	fg := fakegithub.New()
	defer fg.Close()
	var slept []time.Duration
	is, err := client(t, fg, &slept).CreateIssue(context.Background(), github.NewIssue{Title: "INC-1 follow-up: rotate keys", Body: "body"})
	if err != nil {
		t.Fatal(err)
	}
	if is.Number != 1 || is.HTMLURL != fg.IssueURL(1) {
		t.Fatalf("issue %+v", is)
	}
	req := fg.Requests()[0]
	if req.Method != "POST" || req.Path != "/repos/acme/incidents/issues" {
		t.Fatalf("request %s %s", req.Method, req.Path)
	}
	for h, want := range map[string]string{"Authorization": "Bearer " + fg.Token, "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

// Each documented error is its own sentence, coded, without the token.
func TestCreateIssueDocumentedErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(fg *fakegithub.Server, c *github.Config)
		want  []string
		code  apperr.Code
		tries int
	}{
		{"401 bad credentials", func(fg *fakegithub.Server, c *github.Config) { c.Token = "ghp_wrongwrongwrongwrong" },
			[]string{"401", "Bad credentials", "GITHUB_TOKEN"}, apperr.Invalid, 1},
		{"404 repo unseen", func(fg *fakegithub.Server, c *github.Config) { c.Repo = "acme/secret" },
			[]string{"404", "acme/secret", "GITHUB_REPOSITORY"}, apperr.NotFound, 1},
		{"410 issues disabled", func(fg *fakegithub.Server, c *github.Config) { fg.DisableIssues(true) },
			[]string{"410", "Issues are turned off", "settings"}, apperr.Invalid, 1},
		{"422 validation", func(fg *fakegithub.Server, c *github.Config) {
			fg.Fail(fakegithub.Failure{Status: 422}, 1)
		}, []string{"422", "Validation Failed"}, apperr.Invalid, 1},
		{"400", func(fg *fakegithub.Server, c *github.Config) { fg.Fail(fakegithub.Failure{Status: 400}, 1) },
			[]string{"400", "Problems parsing JSON"}, apperr.Invalid, 1},
		{"403 forbidden (not a rate limit)", func(fg *fakegithub.Server, c *github.Config) {
			fg.Fail(fakegithub.Failure{Status: 403, Message: "Resource not accessible by personal access token"}, 1)
		}, []string{"403", "Issues (write)"}, apperr.Invalid, 1},
		{"503 after retries", func(fg *fakegithub.Server, c *github.Config) { fg.Fail(fakegithub.Failure{Status: 503}, 10) },
			[]string{"503", "githubstatus"}, apperr.UnavailableRemote, 4},
		{"secondary limit longer than the bot waits", func(fg *fakegithub.Server, c *github.Config) {
			fg.Fail(fakegithub.Failure{Status: 429, RetryAfter: "3600"}, 1)
		}, []string{"rate limit", "1h0m0s"}, apperr.UnavailableRemote, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fg := fakegithub.New()
			defer fg.Close()
			cfg := github.Config{Token: fg.Token, Repo: fg.Repo, APIURL: fg.URL(), Sleep: func(context.Context, time.Duration) error { return nil }}
			tc.setup(fg, &cfg)
			_, err := github.New(cfg).CreateIssue(context.Background(), github.NewIssue{Title: "t", Body: "b"})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), cfg.Token) || strings.Contains(err.Error(), fg.Token) {
				t.Errorf("error holds the token: %q", err)
			}
			if got := apperr.CodeOf(err); got != tc.code {
				t.Errorf("code %s, want %s", got, tc.code)
			}
			if n := len(fg.Requests()); n != tc.tries {
				t.Errorf("%d requests, want %d", n, tc.tries)
			}
			if len(fg.Issues()) != 0 {
				t.Errorf("an issue was created")
			}
		})
	}
}

// Secondary rate limits, 403 or 429 with retry-after, are waited out as
// asked and the create goes through once.
func TestCreateIssueWaitsOutSecondaryRateLimits(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		fg := fakegithub.New()
		fg.Fail(fakegithub.Failure{Method: "POST", Status: status, RetryAfter: "7"}, 1)
		var slept []time.Duration
		is, err := client(t, fg, &slept).CreateIssue(context.Background(), github.NewIssue{Title: "t"})
		fg.Close()
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if len(slept) != 1 || slept[0] != 7*time.Second {
			t.Errorf("%d: slept %v, want [7s]", status, slept)
		}
		if is.Number != 1 || len(fg.Issues()) != 1 {
			t.Errorf("%d: %d issues", status, len(fg.Issues()))
		}
	}
}

// 503 is retried with backoff; a 502 is not (the issue may exist).
func TestCreateIssueRetries503Only(t *testing.T) {
	fg := fakegithub.New()
	defer fg.Close()
	fg.Fail(fakegithub.Failure{Status: 503}, 2)
	var slept []time.Duration
	c := client(t, fg, &slept)
	if _, err := c.CreateIssue(context.Background(), github.NewIssue{Title: "t"}); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 2 || len(fg.Issues()) != 1 {
		t.Fatalf("slept %v, %d issues", slept, len(fg.Issues()))
	}
	fg.Fail(fakegithub.Failure{Status: 502, Message: "Bad Gateway"}, 1)
	_, err := c.CreateIssue(context.Background(), github.NewIssue{Title: "t"})
	if !github.IsStatus(err, 502) || github.NotCreated(err) {
		t.Fatalf("502: %v (NotCreated %v)", err, github.NotCreated(err))
	}
}

// FindByMarker finds the issue once search has indexed it, and only the
// exact marker: follow-up 2 is not follow-up 20.
func TestFindByMarkerLagsAndMatchesExactly(t *testing.T) {
	fg := fakegithub.New()
	defer fg.Close()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	fg.SetNow(func() time.Time { return now })
	fg.SetSearchLag(30 * time.Second)
	fg.Create("other", "x <!-- clerk-incident-bot:INC-7:followup-20 -->")
	fg.Create("mine", "y <!-- clerk-incident-bot:INC-7:followup-2 -->")
	var slept []time.Duration
	c := client(t, fg, &slept)
	marker := "<!-- clerk-incident-bot:INC-7:followup-2 -->"
	if is, err := c.FindByMarker(context.Background(), marker); err != nil || is != nil {
		t.Fatalf("during the lag: %+v, %v", is, err)
	}
	now = now.Add(time.Minute)
	is, err := c.FindByMarker(context.Background(), marker)
	if err != nil || is == nil || is.Number != 2 {
		t.Fatalf("after the lag: %+v, %v", is, err)
	}
	q := fg.Requests()[1].Query
	if !strings.Contains(q, "repo%3Aacme%2Fincidents") {
		t.Errorf("query %s lacks the repo", q)
	}
}

func TestValidRepo(t *testing.T) {
	for _, ok := range []string{"acme/incidents", "a-b/c.d_e"} {
		if err := github.ValidRepo(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "acme", "acme/", "/x", "a/b/c", "https://github.com/a/b", "a b/c", "acme/.."} {
		if github.ValidRepo(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
