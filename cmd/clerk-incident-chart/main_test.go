package main

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/chartdata"
	"github.com/clerk-incident-bot/clerk-incident-bot/cmd/internal/apptest"
	"github.com/clerk-incident-bot/clerk-incident-bot/pictures"
)

// The bot's side (pictures.Process) and this program agree: a request in,
// a PNG out; nothing to draw is ErrNoData; a broken request is an error
// that says what the program said.
func TestProcessDrawsThroughTheProgram(t *testing.T) {
	p := pictures.Process{Path: apptest.Build(t, ".")}
	t0 := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	tl := chartdata.Timeline{Title: "INC-1", Milestones: map[string]time.Time{chartdata.Detected: t0, chartdata.Resolved: t0.Add(time.Hour)}}
	b, err := p.Draw(context.Background(), chartdata.Request{Timeline: &tl})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if _, err := p.Draw(context.Background(), chartdata.Request{Latency: &chartdata.Latency{From: t0, To: t0.Add(time.Hour)}}); !errors.Is(err, chartdata.ErrNoData) {
		t.Fatalf("no samples: %v, want ErrNoData", err)
	}
	if _, err := p.Draw(context.Background(), chartdata.Request{}); err == nil || !strings.Contains(err.Error(), "names no chart") {
		t.Fatalf("empty request: %v, want the program's complaint", err)
	}
}

func TestRunRefusesABrokenRequest(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(strings.NewReader("{not json"), &out, &errOut); code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), "read the request") {
		t.Fatalf("exit %d, out %d bytes, stderr %q", code, out.Len(), errOut.String())
	}
}
