package render

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// The timeline keeps a resync's verification in the thread's words without
// their bold, built from the job rather than stripped from Slack text.
func TestVerifiedPlainIsTheThreadsWordsWithoutBold(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, j := range []*resync.Job{
		{ID: "rs-1", Status: resync.Done, Delivered: 10, Total: 10, Done: 10, StartedAt: start, FinishedAt: start.Add(90 * time.Second)},
		{ID: "rs-2", Status: resync.Done, DryRun: true, StartedAt: start, FinishedAt: start},
		{ID: "rs-3", Status: resync.Failed, Delivered: 3, Total: 10, Done: 4, Error: "endpoint answered 500", StartedAt: start, FinishedAt: start.Add(time.Minute)},
	} {
		text, plain := VerifiedText(j), VerifiedPlain(j)
		if strings.Contains(plain, "*") || plain != strings.ReplaceAll(text, "*", "") || plain == text {
			t.Errorf("%s: text %q, plain %q", j.ID, text, plain)
		}
		if got := ResyncTimeline(j); !strings.HasPrefix(got, "Resync "+j.ID+" ") || !strings.HasSuffix(got, ". "+OneLine(plain)) || strings.Contains(got, "*") {
			t.Errorf("%s: timeline %q", j.ID, got)
		}
	}
	if got := ResyncTimeline(&resync.Job{ID: "rs-1", Status: resync.Done, Delivered: 10, Total: 10, StartedAt: start, FinishedAt: start.Add(90 * time.Second)}); !strings.HasPrefix(got, "Resync rs-1 done: delivered 10, failed 0, skipped 0, duration 1m30s. Verified: 10 of 10") {
		t.Errorf("timeline %q", got)
	}
}
