package oncall_test

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
)

func schedule(t *testing.T, rotation, handoff, start string, members ...string) *oncall.Schedule {
	t.Helper()
	var b strings.Builder
	b.WriteString("s:\n  time_zone: Europe/Berlin\n  rotation: " + rotation + "\n  handoff: \"" + handoff + "\"\n  start: " + start + "\n  members:\n")
	for i, m := range members {
		b.WriteString("    - {name: " + m + ", slack_id: U" + string(rune('A'+i)) + "}\n")
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(b.String()), &n); err != nil {
		t.Fatal(err)
	}
	var errs []string
	out := oncall.Parse(n.Content[0], func(line int, f string, a ...any) { errs = append(errs, f) })
	if len(errs) > 0 || len(out) != 1 {
		t.Fatalf("parse: %v", errs)
	}
	return out[0]
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Who is on call, when their shift began and ends, at instants around
// handoffs, across Berlin's daylight-saving changes (09:00 stays 09:00
// local: 08:00Z in winter, 07:00Z in summer), and before the start.
func TestOnCallAcrossHandoffsAndDaylightSaving(t *testing.T) {
	weekly := schedule(t, "weekly", "monday 09:00", "2026-12-07", "Ann", "Bob", "Cy")
	springWeekly := schedule(t, "weekly", "monday 09:00", "2027-03-22", "Ann", "Bob")
	fallDaily := schedule(t, "daily", "09:00", "2026-10-24", "Ann", "Bob")
	springDaily := schedule(t, "daily", "09:00", "2027-03-27", "Ann", "Bob", "Cy")
	midweek := schedule(t, "weekly", "mon 09:00", "2026-12-09", "Ann", "Bob")
	for _, tc := range []struct {
		name        string
		s           *oncall.Schedule
		at          string
		who         string // "" nobody
		from, until string
		next        string
	}{
		{"weekly: before the start nobody, first handoff next", weekly, "2026-12-07T07:59:00Z", "", "", "2026-12-07T08:00:00Z", "Ann"},
		{"weekly: at the first handoff", weekly, "2026-12-07T08:00:00Z", "Ann", "2026-12-07T08:00:00Z", "2026-12-14T08:00:00Z", "Bob"},
		{"weekly: a minute before the second", weekly, "2026-12-14T07:59:00Z", "Ann", "2026-12-07T08:00:00Z", "2026-12-14T08:00:00Z", "Bob"},
		{"weekly: third shift", weekly, "2026-12-22T12:00:00Z", "Cy", "2026-12-21T08:00:00Z", "2026-12-28T08:00:00Z", "Ann"},
		{"weekly: wraps round", weekly, "2027-01-01T00:00:00Z", "Ann", "2026-12-28T08:00:00Z", "2027-01-04T08:00:00Z", "Bob"},
		{"weekly: handoff the day summer time starts (CET to CEST)", springWeekly, "2027-03-29T06:59:00Z", "Ann", "2027-03-22T08:00:00Z", "2027-03-29T07:00:00Z", "Bob"},
		{"weekly: after it, 09:00 CEST", springWeekly, "2027-03-29T07:00:00Z", "Bob", "2027-03-29T07:00:00Z", "2027-04-05T07:00:00Z", "Ann"},
		{"daily: the day winter time starts, 08:30 CET is still yesterday's shift", fallDaily, "2026-10-25T07:30:00Z", "Ann", "2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", "Bob"},
		{"daily: 09:00 CET", fallDaily, "2026-10-25T08:00:00Z", "Bob", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z", "Ann"},
		{"daily: the 23-hour day", springDaily, "2027-03-28T06:30:00Z", "Ann", "2027-03-27T08:00:00Z", "2027-03-28T07:00:00Z", "Bob"},
		{"daily: after the 23-hour day", springDaily, "2027-03-29T07:00:00Z", "Cy", "2027-03-29T07:00:00Z", "2027-03-30T07:00:00Z", "Ann"},
		{"weekly: a midweek start waits for the first Monday", midweek, "2026-12-10T12:00:00Z", "", "", "2026-12-14T08:00:00Z", "Ann"},
		{"weekly: from that Monday", midweek, "2026-12-14T08:00:00Z", "Ann", "2026-12-14T08:00:00Z", "2026-12-21T08:00:00Z", "Bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := oncall.At(tc.s, nil, utc(tc.at))
			got := ""
			if n.Current.Who != nil {
				got = n.Current.Who.Name
			}
			if got != tc.who {
				t.Fatalf("on call %q, want %q", got, tc.who)
			}
			if tc.from != "" && !n.Current.From.Equal(utc(tc.from)) {
				t.Errorf("from %s, want %s", n.Current.From.UTC(), tc.from)
			}
			if !n.Current.Until.Equal(utc(tc.until)) {
				t.Errorf("until %s, want %s", n.Current.Until.UTC(), tc.until)
			}
			if n.Next.Who == nil || n.Next.Who.Name != tc.next {
				t.Errorf("next %+v, want %s", n.Next.Who, tc.next)
			}
		})
	}
}

// An override puts its person on call while in force (the newest wins),
// and the rotation resumes, from the override's end, when it ends.
func TestOverridesWinWhileInForce(t *testing.T) {
	s := schedule(t, "weekly", "monday 09:00", "2026-12-07", "Ann", "Bob")
	dana := oncall.Member{Name: "Dana", SlackID: "UD"}
	eve := oncall.Member{Name: "Eve", SlackID: "UE"}
	ovs := []oncall.Override{
		{ID: "1", Schedule: "s", Who: dana, From: utc("2026-12-08T10:00:00Z"), Until: utc("2026-12-08T18:00:00Z"), At: utc("2026-12-08T10:00:00Z")},
		{ID: "2", Schedule: "s", Who: eve, From: utc("2026-12-08T12:00:00Z"), Until: utc("2026-12-08T14:00:00Z"), At: utc("2026-12-08T12:00:00Z")},
		{ID: "3", Schedule: "other", Who: eve, From: utc("2026-12-08T00:00:00Z"), Until: utc("2026-12-20T00:00:00Z"), At: utc("2026-12-08T00:00:00Z")},
	}
	for _, tc := range []struct {
		at, who, until, next string
	}{
		{"2026-12-08T09:00:00Z", "Ann", "2026-12-08T10:00:00Z", "Dana"},
		{"2026-12-08T11:00:00Z", "Dana", "2026-12-08T18:00:00Z", "Ann"},
		{"2026-12-08T13:00:00Z", "Eve", "2026-12-08T14:00:00Z", "Dana"},
		{"2026-12-08T19:00:00Z", "Ann", "2026-12-14T08:00:00Z", "Bob"},
	} {
		n := oncall.At(s, ovs, utc(tc.at))
		if n.Current.Who == nil || n.Current.Who.Name != tc.who || !n.Current.Until.Equal(utc(tc.until)) || n.Next.Who == nil || n.Next.Who.Name != tc.next {
			t.Errorf("at %s: %+v until %s, next %+v; want %s until %s, next %s", tc.at, n.Current.Who, n.Current.Until.UTC(), n.Next.Who, tc.who, tc.until, tc.next)
		}
	}
	if n := oncall.At(s, ovs, utc("2026-12-08T19:00:00Z")); !n.Current.From.Equal(utc("2026-12-08T18:00:00Z")) {
		t.Errorf("Ann resumed from %s, want the override's end", n.Current.From.UTC())
	}
}
