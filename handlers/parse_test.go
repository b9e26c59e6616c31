package handlers

import (
	"errors"
	"strings"
	"testing"
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
		var u *UnknownError
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
