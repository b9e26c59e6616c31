package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newLog(t *testing.T) (*audit.Log, *clock) {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	c := &clock{t: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}
	return audit.New(rdb, prefix, log, c.Now), c
}

// An outsider refused 500 times in a minute neither evicts real entries
// from the stream (MaxLen) nor pushes them out of `audit`: ten of the
// refusals are stored one by one, the rest counted in one summary.
func TestRefusalFloodKeepsRealEntries(t *testing.T) {
	ctx := context.Background()
	l, c := newLog(t)
	l.MaxLen = 100
	for _, a := range []string{"open", "ack", "note"} {
		l.Record(ctx, audit.Entry{Actor: "U1", Action: a, Incident: "INC-1", Outcome: "ok"})
		c.t = c.t.Add(time.Second)
	}
	for i := range 500 {
		l.Record(ctx, audit.Entry{Actor: "U9", Name: "mallory", Action: "ack", Detail: "ack INC-1", Incident: "INC-1", Outcome: "refused: not a responder"})
		if i%10 == 0 {
			c.t = c.t.Add(time.Millisecond)
		}
	}
	for _, inc := range []string{"", "INC-1"} {
		got, err := l.Recent(ctx, inc, 20)
		if err != nil {
			t.Fatal(err)
		}
		real, refused := 0, 0
		var summary string
		for _, e := range got {
			switch {
			case e.Outcome == "ok":
				real++
			case e.Action == "refusals over the limit":
				summary = e.Detail
			default:
				refused++
			}
		}
		if real != 3 || refused > 20 {
			t.Fatalf("audit %q: %d real entries (want 3), %d refusals: %+v", inc, real, refused, got)
		}
		if inc == "" && !strings.Contains(summary, "refused 490 more times") {
			t.Errorf("no summary of the 490 refusals not stored: %q", summary)
		}
	}
	var out bytes.Buffer
	n, err := l.Export(ctx, &out, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 13 {
		t.Fatalf("export has %d entries, want 3 real and 10 refusals:\n%s", n, out.String())
	}
	// The next minute, U9's refusals are stored again.
	c.t = c.t.Add(time.Minute)
	l.Record(ctx, audit.Entry{Actor: "U9", Action: "ack", Outcome: "refused: not a responder", Detail: "next minute"})
	got, err := l.Recent(ctx, "", 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Detail != "next minute" {
		t.Fatalf("the next minute's refusal is not the newest entry: %+v", got)
	}
}

// Export merges the refusals' stream with the audit stream, oldest first.
func TestExportMergesRefusalsInOrder(t *testing.T) {
	ctx := context.Background()
	l, c := newLog(t)
	want := []string{"a", "b", "c", "d", "e"}
	for i, d := range want {
		o := "ok"
		if i%2 == 1 {
			o = "refused: not a responder"
		}
		l.Record(ctx, audit.Entry{Actor: "U1", Action: "note", Detail: d, Outcome: o})
		c.t = c.t.Add(time.Second)
	}
	var out bytes.Buffer
	if _, err := l.Export(ctx, &out, time.Time{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	dec := json.NewDecoder(&out)
	for dec.More() {
		var e audit.Entry
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Detail)
	}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Fatalf("export order %v, want %v", got, want)
	}
}

func TestMaskHidesPastedKeys(t *testing.T) {
	got := audit.Mask("rotate sk_live_abcDEF123456 and whsec_zzzzzzzz, user_2abc stays")
	if strings.Contains(got, "abcDEF") || strings.Contains(got, "zzzzzzzz") || !strings.Contains(got, "user_2abc stays") {
		t.Fatalf("%q", got)
	}
}
