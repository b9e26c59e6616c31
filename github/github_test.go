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
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
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
	if is, err := c.FindByMarker(context.Background(), marker, "mine"); err != nil || is != nil {
		t.Fatalf("during the lag: %+v, %v", is, err)
	}
	now = now.Add(time.Minute)
	is, err := c.FindByMarker(context.Background(), marker, "mine")
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

// GitHub's advanced issue search refuses (422) a query that does not say
// is:issue or is:pull-request: the marker look-up names the kind, or an
// interrupted export is never found again.
func TestFindByMarkerSearchesIssuesOnly(t *testing.T) {
	fg := fakegithub.New()
	defer fg.Close()
	fg.Create("INC-3 follow-up 1: rotate keys", "body <!-- clerk-incident-bot:INC-3:followup-1 -->")
	var slept []time.Duration
	is, err := client(t, fg, &slept).FindByMarker(context.Background(), "<!-- clerk-incident-bot:INC-3:followup-1 -->", "INC-3 follow-up 1")
	if err != nil || is == nil || is.Number != 1 {
		t.Fatalf("found %+v, %v", is, err)
	}
	if q := fg.SpecRequests()[0].Query.Get("q"); !strings.Contains(q, "is:issue") {
		t.Errorf("query %q lacks is:issue", q)
	}
}

// GitHub Enterprise may not index HTML comments: the marker in the body is
// then invisible to search, and the issue is found by its title (and still
// checked against the marker in the body it returns).
func TestFindByMarkerFallsBackToTheTitleWhereCommentsAreNotIndexed(t *testing.T) {
	fg := fakegithub.New()
	defer fg.Close()
	fg.UnindexedComments(true)
	fg.Create("INC-3 follow-up 10: other", "x <!-- clerk-incident-bot:INC-3:followup-10 -->")
	fg.Create("INC-3 follow-up 1 (done): rotate keys", "y <!-- clerk-incident-bot:INC-3:followup-1 -->")
	var slept []time.Duration
	c := client(t, fg, &slept)
	is, err := c.FindByMarker(context.Background(), "<!-- clerk-incident-bot:INC-3:followup-1 -->", "INC-3 follow-up 1")
	if err != nil || is == nil || is.Number != 2 {
		t.Fatalf("found %+v, %v", is, err)
	}
	// A title that matches but a body without the marker is not ours.
	fg.Create("INC-4 follow-up 1: typed by a person", "no marker here")
	if is, err := c.FindByMarker(context.Background(), "<!-- clerk-incident-bot:INC-4:followup-1 -->", "INC-4 follow-up 1"); err != nil || is != nil {
		t.Fatalf("found %+v, %v", is, err)
	}
}

// A refused search is worded as a search, not as a refused issue.
func TestSearchRefusalIsWordedAsASearch(t *testing.T) {
	fg := fakegithub.New()
	defer fg.Close()
	var slept []time.Duration
	c := github.New(github.Config{Token: fg.Token, Repo: "acme/hidden", APIURL: fg.URL(), Sleep: func(context.Context, time.Duration) error { return nil }})
	_, err := c.FindByMarker(context.Background(), "<!-- m -->", "INC-1 follow-up 1")
	if err == nil {
		t.Fatal("no error")
	}
	_ = slept
	msg := err.Error()
	for _, want := range []string{"422", "search", "GITHUB_REPOSITORY", "acme/hidden"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "label or assignee") || strings.Contains(msg, "did not accept the issue") {
		t.Errorf("a search refusal worded as a refused issue: %q", msg)
	}
}

// Every request the client sends is one GitHub's REST API description
// defines (internal/speccheck/testdata/github-rest-subset.json), and a
// planted one outside it fails.
func TestRequestsMatchGitHubsRESTDescription(t *testing.T) {
	fg := fakegithub.New()
	defer fg.Close()
	var slept []time.Duration
	c := client(t, fg, &slept)
	ctx := context.Background()
	if _, err := c.CreateIssue(ctx, github.NewIssue{Title: "INC-1 follow-up 1: x", Body: "b <!-- m -->", Labels: []string{"incident"}}); err != nil {
		t.Fatal(err)
	}
	fg.UnindexedComments(true)
	if _, err := c.FindByMarker(ctx, "<!-- clerk-incident-bot:INC-1:followup-9 -->", "INC-1 follow-up 9"); err != nil {
		t.Fatal(err)
	}
	spec := speccheck.MustLoad(speccheck.GitHub)
	speccheck.Verify(t, spec, fg.SpecRequests(), "POST /repos/{owner}/{repo}/issues", "GET /search/issues")
	resp, err := http.Get(fg.URL() + "/search/issues?query=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := fg.SpecRequests()
	if err := spec.Check(reqs[len(reqs)-1]); err == nil || !strings.Contains(err.Error(), `"query"`) {
		t.Fatalf("the planted request passed: %v", err)
	}
}
