package handlers

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in, sub, id, rest string
		err               string
	}{
		{in: "", sub: "help"},
		{in: "open outage P1 Sign-in failing", sub: "open", rest: "outage P1 Sign-in failing"},
		{in: "OPEN outage", sub: "open", rest: "outage"},
		{in: "ack", sub: "ack"},
		{in: "ack inc-3", sub: "ack", id: "INC-3"},
		{in: "note INC-12 multi\nline text", sub: "note", id: "INC-12", rest: "multi\nline text"},
		{in: "note deploy went out", sub: "note", rest: "deploy went out"},
		{in: "resolve INC-x", err: `"INC-x" is not an incident ID`},
		{in: "opne outage", err: `unknown subcommand "opne"`},
		{in: "stat", err: `unknown subcommand "stat"`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			p, err := Parse(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Sub.Name != c.sub || p.ID != c.id || p.Rest != c.rest {
				t.Fatalf("got %q %q %q", p.Sub.Name, p.ID, p.Rest)
			}
		})
	}
}

func TestDidYouMean(t *testing.T) {
	for in, want := range map[string]string{"opne": "open", "stat": "status", "resovle": "resolve", "ak": "ack", "postmortme": "postmortem", "xyzzy": ""} {
		_, err := Parse(in)
		var u *commands.UnknownError
		if !errors.As(err, &u) || u.Suggest != want {
			t.Errorf("%s: got %+v, want suggestion %q", in, u, want)
		}
	}
}

func TestSentenceNeverLeaksInternals(t *testing.T) {
	msg, internal := Sentence(errors.New("dial tcp 10.0.0.1:6379: secret detail"))
	if !internal || strings.Contains(msg, "10.0.0.1") {
		t.Fatalf("%q %v", msg, internal)
	}
}

// TestParseIDAnywhere: for every command and each of its verbs, the ID
// reads the same before or after the verb words; where the arguments are
// words it may come anywhere among them, and in free text a later INC-n
// is text. A word that looks like an ID and is not one, two IDs, and an
// ID given to a command or verb about no one incident are errors.
func TestParseIDAnywhere(t *testing.T) {
	same := func(t *testing.T, a, b string) commands.Parsed {
		t.Helper()
		pa, errA := Parse(a)
		pb, errB := Parse(b)
		if errA != nil || errB != nil {
			t.Fatalf("%q: %v; %q: %v", a, errA, b, errB)
		}
		if pa.Sub.Name != pb.Sub.Name || pa.ID != pb.ID || pa.Verb != pb.Verb || strings.Join(pa.Args, " ") != strings.Join(pb.Args, " ") {
			t.Fatalf("%q -> %s %q %q %q\n%q -> %s %q %q %q", a, pa.Sub.Name, pa.ID, pa.Verb, pa.Args, b, pb.Sub.Name, pb.ID, pb.Verb, pb.Args)
		}
		return pa
	}
	fails := func(t *testing.T, in, want string) {
		t.Helper()
		_, err := Parse(in)
		var u *commands.UsageError
		if !errors.As(err, &u) || !strings.Contains(u.Problem, want) {
			t.Fatalf("%q: err = %v, want a usage error saying %q", in, err, want)
		}
	}
	for _, s := range Subcommands() {
		t.Run(s.Name, func(t *testing.T) {
			if s.NoID {
				fails(t, s.Name+" INC-3", "not about one incident")
				fails(t, s.Name+" INC-x", "not an incident ID")
				return
			}
			verbs := s.Verbs
			if len(verbs) == 0 || !slices.Contains(s.NoIDVerbs, "") {
				verbs = append([]string{""}, verbs...)
			}
			for _, v := range verbs {
				name := strings.TrimSpace(s.Name + " " + v)
				if slices.Contains(s.NoIDVerbs, v) {
					fails(t, name+" INC-3", "not about one incident")
					if v != "" {
						fails(t, s.Name+" INC-3 "+v, "not about one incident")
					}
					continue
				}
				p := same(t, s.Name+" INC-3 "+v+" x y", name+" INC-3 x y")
				if p.ID != "INC-3" || p.Verb != v || strings.Join(p.Args, " ") != strings.TrimSpace(v+" x y") {
					t.Fatalf("%q: id %q verb %q args %q", name+" INC-3 x y", p.ID, p.Verb, p.Args)
				}
				later, err := Parse(name + " x INC-3 y")
				if err != nil {
					t.Fatalf("%q: %v", name+" x INC-3 y", err)
				}
				if s.Text {
					if later.ID != "" || !strings.Contains(later.Rest, "x INC-3 y") {
						t.Fatalf("%q: an INC-n inside free text was taken as the ID (%q, rest %q)", name+" x INC-3 y", later.ID, later.Rest)
					}
				} else if later.ID != "INC-3" || strings.Join(later.Args, " ") != strings.TrimSpace(v+" x y") {
					t.Fatalf("%q: id %q args %q, want INC-3 taken out of the word arguments", name+" x INC-3 y", later.ID, later.Args)
				}
				fails(t, s.Name+" INC-x "+v, "not an incident ID")
				fails(t, name+" inc-03x", "not an incident ID")
				if v != "" || !s.Text { // `note INC-3 INC-4 …`: a note about INC-4
					fails(t, s.Name+" INC-3 "+v+" INC-4", "Two incidents")
				}
				if !s.Text {
					fails(t, name+" x inc-03x", "not an incident ID")
				}
				// The "say which one" example is a whole command that parses
				// back to the same command on that incident.
				plain, err := Parse(name + " x y")
				if err != nil {
					t.Fatal(err)
				}
				ex := plain.WithID("INC-2")
				if !strings.HasPrefix(ex, "/clerk-incident "+name+" INC-2") {
					t.Fatalf("example %q does not put the ID after %q", ex, name)
				}
				back := same(t, strings.TrimPrefix(ex, "/clerk-incident "), name+" INC-2 x y")
				if back.ID != "INC-2" {
					t.Fatalf("example %q parses to %q", ex, back.ID)
				}
			}
		})
	}
}

func TestParseIDCases(t *testing.T) {
	cases := []struct {
		in, id, rest, err string
	}{
		{in: "webhook check INC-3", id: "INC-3", rest: "check"},
		{in: "webhook INC-3 check", id: "INC-3", rest: "check"},
		{in: "bypass on INC-2 30m reason", id: "INC-2", rest: "on 30m reason"},
		{in: "bypass INC-2 on 30m reason", id: "INC-2", rest: "on 30m reason"},
		{in: "bypass on 30m see INC-2", rest: "on 30m see INC-2"},
		{in: "note deploy INC-3 went out", rest: "deploy INC-3 went out"},
		{in: "resolve INC-2 rolled back INC-1's deploy", id: "INC-2", rest: "rolled back INC-1's deploy"},
		{in: "open outage P1 Regression of INC-3", rest: "outage P1 Regression of INC-3"},
		{in: "revoke user_1\nINC-2\nuser_2", id: "INC-2", rest: "user_1\nuser_2"},
		{in: "lockout user_1 INC-2 -- leaked in INC-1", id: "INC-2", rest: "user_1 -- leaked in INC-1"},
		{in: "user inc-3@example.com", rest: "inc-3@example.com"},
		{in: "severity P1 inc-4", id: "INC-4", rest: "P1"},
		{in: "role commander INC-2 <@U1|dana>", id: "INC-2", rest: "commander <@U1|dana>"},
		{in: "resync --dry-run INC-2", id: "INC-2", rest: "--dry-run"},
		{in: "resync status INC-2", err: "`resync status` is not about one incident: leave out INC-2"},
		{in: "bypass off INC-2", err: "`bypass off` is not about one incident"},
		{in: "bypass INC-2", err: "`bypass` is not about one incident"},
		{in: "webhook dashboard INC-2", err: "`webhook dashboard` is not about one incident"},
		{in: "open INC-3 outage", err: "`open` is not about one incident"},
		{in: "approve apr-abc123def456 INC-3", err: "`approve` is not about one incident"},
		{in: "diagnose 5 INC-x", err: `"INC-x" is not an incident ID`},
		{in: "ack INC-2 INC-3", err: "Two incidents named, INC-2 and INC-3"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			p, err := Parse(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != c.id || p.Rest != c.rest {
				t.Fatalf("got id %q rest %q", p.ID, p.Rest)
			}
		})
	}
}

func TestSayWhichOneIsAWholeCommand(t *testing.T) {
	for in, want := range map[string]string{
		"webhook check":                       "/clerk-incident webhook check INC-2",
		"bypass on 30m db failed":             "/clerk-incident bypass on INC-2 30m db failed",
		"note " + strings.Repeat("long ", 20): "/clerk-incident note INC-2 …",
		"revoke user_1\nuser_2":               "/clerk-incident revoke INC-2 …",
		"ack":                                 "/clerk-incident ack INC-2",
	} {
		p, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.WithID("INC-2"); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// Every command about an incident shows in its usage line where the ID goes.
func TestUsageShowsWhereTheIDGoes(t *testing.T) {
	for _, s := range Subcommands() {
		if !s.NoID && !strings.Contains(s.Usage, "[INC-n]") {
			t.Errorf("%s: usage %q does not show [INC-n]", s.Name, s.Usage)
		}
	}
	if !strings.Contains(HelpMsg().Text, IDRule) {
		t.Error("help does not say where INC-n goes")
	}
}

// A rollback's reason after `--` is text: an INC-n there is not the
// incident, wherever the ID itself is given.
func TestRollbackReasonMayNameAnotherIncident(t *testing.T) {
	for _, line := range []string{"rollback INC-4 previous -- broke after INC-3's deploy", "rollback previous INC-4 -- same as INC-3"} {
		p, err := Parse(line)
		if err != nil || p.ID != "INC-4" {
			t.Errorf("%q: ID %q, err %v", line, p.ID, err)
		}
	}
	p, err := Parse("rollback previous -- same as INC-3")
	if err != nil || p.ID != "" {
		t.Errorf("reason's INC-3 taken as the incident: ID %q, err %v", p.ID, err)
	}
	p, err = Parse("env check INC-2")
	if err != nil || p.ID != "INC-2" {
		t.Errorf("env check INC-2: ID %q, err %v", p.ID, err)
	}
}
