package incident

import (
	"strings"
	"testing"
	"time"
)

// Work is started once, ended once; the report lists it running, then
// with its outcome; a report written while it ran is behind once it ends.
func TestWorkStartsEndsAndIsReported(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	inc := &Incident{ID: "INC-1", Title: "x", Category: "outage", OpenedAt: t0}
	bot := Person{Name: "bot"}
	apply := func(m Mutation, at time.Time) []Entry {
		t.Helper()
		e, err := m(inc, at)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if e := apply(StartWork(bot, Work{ID: "apr-1", What: "rollback to dpl_1"}, "Started rollback"), t0); len(e) != 1 {
		t.Fatalf("entries %v", e)
	}
	if _, err := StartWork(bot, Work{ID: "apr-1"}, "again")(inc, t0); err == nil {
		t.Fatal("started twice")
	}
	apply(ReportWritten(Person{ID: "U1", Name: "alice"}, "Post-incident report written"), t0.Add(time.Minute))
	md, _ := Report(inc, t0.Add(time.Minute))
	if !strings.Contains(md, "- 03:00 - rollback to dpl_1 (apr-1, bot): **still running**") || len(inc.Running()) != 1 {
		t.Fatalf("report while running:\n%s", md)
	}
	apply(EndWork(bot, "apr-1", "", "done", "succeeded", ""), t0.Add(4*time.Minute))
	if _, err := EndWork(bot, "apr-1", "", "failed", "no", "")(inc, t0.Add(5*time.Minute)); err == nil {
		t.Fatal("ended twice")
	}
	if !inc.ReportBehind("apr-1") || len(inc.Running()) != 0 {
		t.Fatal("the report written while it ran is not behind")
	}
	md, _ = Report(inc, t0.Add(5*time.Minute))
	if !strings.Contains(md, "- 03:00 to 03:04 - rollback to dpl_1 (apr-1, bot): done - succeeded") {
		t.Fatalf("report after the end:\n%s", md)
	}
	apply(ReportWritten(bot, "updated"), t0.Add(5*time.Minute))
	if inc.ReportBehind("apr-1") {
		t.Fatal("a report written after the end is behind")
	}
}

// The report is posted where the channel (guests included) reads it: a
// long action's outcome and what it was, stored as the Doer said them,
// show e-mails and IPs masked, as the thread line does.
func TestReportMasksEmailsAndIPsInLongActions(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	inc := &Incident{ID: "INC-1", Title: "x", Category: "security", OpenedAt: t0}
	bot := Person{Name: "bot"}
	for _, m := range []Mutation{
		StartWork(bot, Work{ID: "apr-1", What: "lockout of eve@example.com"}, "Started lockout"),
		EndWork(bot, "apr-1", "", "failed", "eve@example.com banned; mallory@example.org from 203.0.113.9 and 2001:db8::1 failed", ""),
		StartWork(bot, Work{ID: "apr-2", What: "revoke of bob@example.com at 198.51.100.7"}, "Started revoke"),
	} {
		if _, err := m(inc, t0); err != nil {
			t.Fatal(err)
		}
	}
	md, _ := Report(inc, t0.Add(time.Minute))
	for _, leak := range []string{"eve@example.com", "mallory@example.org", "203.0.113.9", "2001:db8::1", "bob@example.com", "198.51.100.7"} {
		if strings.Contains(md, leak) {
			t.Fatalf("report shows %s:\n%s", leak, md)
		}
	}
	if !strings.Contains(md, "lockout of [e-mail] (apr-1, bot): failed - [e-mail] banned; [e-mail] from [IP] and [IP] failed") ||
		!strings.Contains(md, "revoke of [e-mail] at [IP] (apr-2, bot): **still running**") {
		t.Fatalf("report:\n%s", md)
	}
}
