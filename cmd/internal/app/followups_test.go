package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/app"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/followup"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakegithub"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

type githubHarness struct {
	slack  *fakeslack.Server
	github *fakegithub.Server
	clock  *testClock
	prefix string
	bots   []*apptest.Bot
}

// startGitHub runs replicas of the bot sharing one fake Slack, one Redis
// prefix and one fake GitHub, on an injected clock.
func startGitHub(t *testing.T, replicas int) *githubHarness {
	t.Helper()
	fs := fakeslack.New()
	fg := fakegithub.New()
	t.Cleanup(fs.Close)
	t.Cleanup(fg.Close)
	checkSpec(t, "GitHub", fg.SpecErrors)
	for id, name := range map[string]string{"U1": "alice", "U2": "bob", "U9": "mallory"} {
		fs.AddUser(id, name)
	}
	h := &githubHarness{slack: fs, github: fg, clock: &testClock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}, prefix: redistest.Prefix()}
	fg.SetNow(h.clock.Now)
	env := map[string]string{"SLACK_RESPONDERS": "U1,U2", "SLACK_CHANNEL_ID": "CINC",
		"GITHUB_TOKEN": fg.Token, "GITHUB_REPOSITORY": fg.Repo, "GITHUB_API_URL": fg.URL()}
	for range replicas {
		h.bots = append(h.bots, apptest.Start(t, apptest.Spec{Slack: fs, Prefix: h.prefix, Env: env,
			Options: app.Options{Manual: app.Loops{Sweep: true}, Now: h.clock.Now}}))
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs := h.bots[0].Logs.String()
			t.Logf("bot logs (last 4000 bytes):\n%s", logs[max(0, len(logs)-4000):])
		}
	})
	fs.Command(t, "U1", "C1", "open outage P1 Sign-in failing")
	fs.ExpectMessage(t, "CINC", "INC-1")
	return h
}

func (h *githubHarness) add(t *testing.T, texts ...string) {
	t.Helper()
	for i, text := range texts {
		h.slack.Command(t, "U1", "C1", "followup add INC-1 "+text)
		h.slack.ExpectEphemeral(t, "U1", "Follow-up "+string(rune('1'+i))+" added to INC-1")
	}
}

// Acceptance: two follow-ups exported twice give exactly two GitHub
// issues, each naming the incident, and the report links both.
func TestFollowupsExportedTwiceGiveTwoIssuesAndTheReportLinksThem(t *testing.T) {
	h := startGitHub(t, 1)
	h.add(t, "Alert when sign-in errors pass 1%", "Rotate the webhook secret")
	h.slack.Command(t, "U2", "C1", "followup done 2")
	h.slack.ExpectEphemeral(t, "U2", "Follow-up 2 of INC-1 is done")
	h.slack.Command(t, "U2", "C1", "followup done 2")
	h.slack.ExpectEphemeral(t, "U2", "Follow-up 2 of INC-1 was already done; nothing changed.")
	h.slack.Command(t, "U2", "C1", "followup done 7")
	h.slack.ExpectEphemeral(t, "U2", "INC-1 has no follow-up 7: it has follow-ups 1 to 2")

	h.slack.Command(t, "U1", "C1", "followup export INC-1")
	h.slack.ExpectEphemeral(t, "U1", "GitHub acme/incidents", "created <"+h.github.IssueURL(1)+"|issue #1>", "created <"+h.github.IssueURL(2)+"|issue #2>")
	h.slack.Command(t, "U1", "C1", "followup export")
	h.slack.ExpectEphemeral(t, "U1", "already <"+h.github.IssueURL(1)+"|issue #1>", "already <"+h.github.IssueURL(2)+"|issue #2>")

	issues := h.github.Issues()
	if len(issues) != 2 {
		t.Fatalf("%d GitHub issues, want 2", len(issues))
	}
	for _, is := range issues {
		if !strings.HasPrefix(is.Title, "INC-1 follow-up") || !strings.Contains(is.Body, "**INC-1**") || !strings.Contains(is.Body, "Sign-in failing") ||
			!strings.Contains(is.Body, "Back to the incident: [INC-1 in Slack](https://slack.com/archives/CINC/p") {
			t.Errorf("issue %d does not name the incident: %q\n%s", is.Number, is.Title, is.Body)
		}
	}
	if issues[1].Title != "INC-1 follow-up 2 (done): Rotate the webhook secret" {
		t.Errorf("done follow-up's title %q", issues[1].Title)
	}
	// Anyone may list; the list links each issue.
	h.slack.Command(t, "U9", "C1", "followup list")
	h.slack.ExpectEphemeral(t, "U9", "Follow-ups of INC-1", "|issue #1>", ":white_check_mark: 2. Rotate the webhook secret")

	h.slack.Command(t, "U1", "C1", "postmortem INC-1")
	h.slack.ExpectFile(t, "CINC",
		"- [ ] Follow-up 1: Alert when sign-in errors pass 1% - issue #1: "+h.github.IssueURL(1),
		"- [x] Follow-up 2 (done): Rotate the webhook secret - issue #2: "+h.github.IssueURL(2))
}

// A kill -9 between create and record: GitHub has the issue, Redis still
// says "creating", search lags. The bot looks before creating again and
// never files a second issue.
func TestFollowupExportAfterKillBetweenCreateAndRecordDoesNotDuplicate(t *testing.T) {
	h := startGitHub(t, 1)
	h.add(t, "Alert when sign-in errors pass 1%")
	// What the killed replica left: "creating" in Redis, the issue at GitHub.
	rdb, _ := redistest.Client(t)
	fs := incident.NewFollowupStore(rdb, h.prefix, h.clock.Now)
	marker := followup.Marker("INC-1", 1)
	if _, err := fs.BeginExport(context.Background(), "INC-1", 1, marker); err != nil {
		t.Fatal(err)
	}
	h.github.Create("INC-1 follow-up 1: Alert when sign-in errors pass 1%", "…\n\n"+marker+"\n")
	h.github.SetSearchLag(40 * time.Second)

	h.slack.Command(t, "U1", "C1", "followup export INC-1")
	h.slack.ExpectEphemeral(t, "U1", "may have created it", "nothing was created twice", "again in 2m0s")
	h.clock.Add(50 * time.Second) // search has caught up
	h.slack.Command(t, "U1", "C1", "followup export INC-1")
	h.slack.ExpectEphemeral(t, "U1", "<"+h.github.IssueURL(1)+"|issue #1> (created by an interrupted export; recorded now)")
	h.clock.Add(time.Hour)
	h.slack.Command(t, "U1", "C1", "followup export INC-1")
	h.slack.ExpectEphemeral(t, "U1", "already <"+h.github.IssueURL(1)+"|issue #1>")
	if n := len(h.github.Issues()); n != 1 {
		t.Fatalf("%d GitHub issues, want 1", n)
	}
	for _, r := range h.github.Requests() {
		if r.Method == "POST" {
			t.Fatalf("the bot posted an issue: %+v", r)
		}
	}
}

// Two replicas exporting at once give no duplicate.
func TestConcurrentFollowupExportsOnTwoReplicasDoNotDuplicate(t *testing.T) {
	h := startGitHub(t, 2)
	h.add(t, "one", "two", "three")
	h.github.SetSearchLagCount(100) // search never helps here: the lease and the record must
	for _, u := range []string{"U1", "U2", "U1", "U2"} {
		if _, err := h.slack.SlashCommand(u, "C1", "followup export INC-1"); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		h.slack.ExpectEphemeral(t, "U1", "Follow-ups of INC-1")
		h.slack.ExpectEphemeral(t, "U2", "Follow-ups of INC-1")
	}
	h.slack.Command(t, "U1", "C1", "followup export INC-1")
	h.slack.ExpectEphemeral(t, "U1", "1 one → already", "2 two → already", "3 three → already")
	if n := len(h.github.Issues()); n != 3 {
		t.Fatalf("%d GitHub issues, want 3", n)
	}
}

// GitHub's refusals reach the person as their own sentence, without the token.
func TestFollowupExportSaysGitHubsRefusal(t *testing.T) {
	h := startGitHub(t, 1)
	h.add(t, "one", "two")
	h.github.DisableIssues(true)
	h.slack.Command(t, "U1", "C1", "followup export INC-1")
	m := h.slack.ExpectEphemeral(t, "U1", "Issues are turned off in acme/incidents (410", "2 two → not tried")
	if strings.Contains(m.Text, h.github.Token) {
		t.Fatal("the token reached Slack")
	}
	if n := len(h.github.Issues()); n != 0 {
		t.Fatalf("%d issues", n)
	}
}
