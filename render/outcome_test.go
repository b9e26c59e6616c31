package render

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
)

// Outcomes are data; OutcomeText words them, and these are the words
// users read for each outcome.
func TestOutcomeTextKeepsTheWording(t *testing.T) {
	until := time.Date(2026, 11, 25, 3, 30, 0, 0, time.UTC)
	req := func(action string, o *approval.Outcome) *approval.Request {
		return &approval.Request{ID: "apr-1", Incident: "INC-1", Action: action, Duration: 30 * time.Minute,
			Targets: []string{"to dpl_new", "from dpl_old"}, Outcome: o}
	}
	for _, c := range []struct {
		name string
		r    *approval.Request
		want string
	}{
		// The thread reads it: accounts by ID and initials; an older
		// release's e-mail labels are masked.
		{"lockout", req(approval.Lockout, &approval.Outcome{Status: approval.Done, Unknown: []string{"nobody@example.com"}, Results: []approval.TargetResult{
			{Target: "user_1", Name: "Eve Smith", OK: true, Done: "banned, sign-in blocked, no active session left (3 more revoked)"},
			{Target: "user_2", Done: "banned", Error: "2 sessions still active"},
			{Target: "user_3", Error: "Clerk refused (403)"},
		}}), ":lock: *Lockout* (apr-1)\n• user_2: banned; :warning: 2 sessions still active\n• user_3: :x: Clerk refused (403)" +
			"\n• user_1 (E.S.): banned, sign-in blocked, no active session left (3 more revoked)\n:grey_question: Not found in Clerk: [e-mail]"},
		{"lockout not configured", req(approval.Lockout, approval.Failure("Clerk is not configured; nothing was done.")),
			":x: Clerk is not configured; nothing was done."},
		{"bypass on", req(approval.BypassOn, &approval.Outcome{Status: approval.Done, Until: until, Summary: "ignored by Slack"}),
			":rotating_light: *Emergency auth bypass is ON* until " + SlackDate(until) + " (30 min). Apps reading `GET /v1/bypass` let users in without Clerk. It ends by itself; `/clerk-incident bypass off` ends it now."},
		{"bypass extended", req(approval.BypassExtend, &approval.Outcome{Status: approval.Done, Until: until}),
			":rotating_light: *Emergency auth bypass extended* until " + SlackDate(until) + ". `/clerk-incident bypass off` ends it now."},
		{"bypass gone", req(approval.BypassExtend, approval.Failure("The bypass this extension was for is no longer on; nothing was done.")),
			":x: The bypass this extension was for is no longer on; nothing was done."},
		{"rollback succeeded", req(approval.Rollback, &approval.Outcome{Status: approval.Done, Results: []approval.TargetResult{{Target: "dpl_new", OK: true, Done: approval.RolledBack}}}),
			":rewind: *Rollback* (apr-1) to `dpl_new`: :white_check_mark: succeeded; `dpl_new` serves production again (it was `dpl_old`)."},
		{"rollback unsure", req(approval.Rollback, &approval.Outcome{Status: approval.Unsure, Summary: "requested, but its progress could not be read: EOF Check the Vercel dashboard.",
			Results: []approval.TargetResult{{Target: "dpl_new", Done: "requested", Error: "EOF"}}}),
			":rewind: *Rollback* (apr-1) to `dpl_new`: :warning: requested, but its progress could not be read: EOF Check the Vercel dashboard."},
		{"rollback already", req(approval.Rollback, &approval.Outcome{Status: approval.Done, Summary: "it already serves production; nothing was done.",
			Results: []approval.TargetResult{{Target: "dpl_new", OK: true, Done: "already serves production"}}}),
			":rewind: *Rollback* (apr-1) to `dpl_new`: it already serves production; nothing was done."},
		{"not carried out", req(approval.BypassOn, approval.NotDone("Not carried out: %s before it was; nothing was done.", approval.VoidBypassOff)),
			":no_entry_sign: Not carried out: bypass turned off before it was; nothing was done."},
		// A Summary alone is Slack text already, shown as it is.
		{"legacy", req(approval.Lockout, &approval.Outcome{Summary: ":lock: *Lockout* (apr-1)\n• user_1: banned"}),
			":lock: *Lockout* (apr-1)\n• user_1: banned"},
		// Plain text is escaped on its way into mrkdwn: a hostile error or
		// e-mail cannot broadcast or disguise a link.
		{"hostile", req(approval.Lockout, &approval.Outcome{Status: approval.Failed, Results: []approval.TargetResult{{Target: "x<!channel>@evil.example", Error: "<https://evil.example|Clerk>"}}}),
			":lock: *Lockout* (apr-1)\n• x&lt;!channel&gt;@evil.example: :x: &lt;https://evil.example|Clerk&gt;"},
	} {
		if got := OutcomeText(c.r); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
		if name, content := OutcomeFile(c.r); content != "" || name != "" {
			t.Errorf("%s: a short outcome got a file %s", c.name, name)
		}
	}
}

// regexpSlack finds Slack markup: emoji codes, bold, code, bullets, mentions.
var regexpSlack = regexp.MustCompile(`:[a-z_]+:|\*|` + "`" + `|•|<[@!#]|&lt;`)

// A lockout of many users does not fit one message: the message keeps the
// failures that fit and names the file; the file has every result in plain
// text, built from the data (no Slack codes to strip).
func TestLongLockoutOutcomeAttachesAPlainFile(t *testing.T) {
	o := &approval.Outcome{Status: approval.Done, Unknown: []string{"user_ghost"}}
	for i := range 300 {
		r := approval.TargetResult{Target: fmt.Sprintf("user_%d", i), Name: "Ann Lee", OK: true, Done: "banned, sign-in blocked, no active session left (0 more revoked)"}
		if i%50 == 0 {
			r = approval.TargetResult{Target: r.Target, Name: r.Name, Error: "Clerk does not answer"}
		}
		o.Results = append(o.Results, r)
	}
	a := &approval.Request{ID: "apr-2", Incident: "INC-1", Action: approval.Lockout, Outcome: o}
	msg := OutcomeText(a)
	if len(msg) > maxResult || !strings.Contains(msg, "294 succeeded.") || !strings.Contains(msg, "attached file `apr-2-result.txt`") ||
		strings.Count(msg, ":x: Clerk does not answer") != 6 || !strings.Contains(msg, "Not found in Clerk: user_ghost") || HasPersonalData(msg) {
		t.Fatalf("message (%d bytes):\n%s", len(msg), msg)
	}
	name, file := OutcomeFile(a)
	if name != "apr-2-result.txt" || strings.Count(file, "\n- ") != 300 || strings.Count(file, ": FAILED Clerk does not answer") != 6 ||
		!strings.HasPrefix(file, "Lockout (apr-2)\n- user_0 (A.L.): FAILED") || !strings.HasSuffix(file, "Not found in Clerk: user_ghost\n") {
		t.Fatalf("file %s:\n%s", name, file)
	}
	if slack := regexpSlack.FindString(file); slack != "" {
		t.Fatalf("the plain file has Slack markup %q", slack)
	}
	if line := OutcomeTimeline(&approval.Request{ID: "apr-3", Action: approval.BypassOn, Outcome: &approval.Outcome{Status: approval.Done,
		Summary: "Emergency auth bypass is ON until 2026-11-25 03:30 UTC; it ends by itself, or with bypass off."}}); line != "emergency bypass (apr-3) result: Emergency auth bypass is ON until 2026-11-25 03:30 UTC; it ends by itself, or with bypass off." {
		t.Fatalf("timeline %q", line)
	}
}
