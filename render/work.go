package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Work in flight as the thread reads it: started, ended, still running.

// WorkStarted is the thread line of a long action that started.
func WorkStarted(w incident.Work) string {
	return fmt.Sprintf(":arrow_forward: *Started:* %s (`%s`). It runs on; its end is said here, and `resolve` and the report name it until then.", Esc(w.What), Esc(w.ID))
}

// WorkEnded is the thread line of a long action that ended.
func WorkEnded(w incident.Work) string {
	mark := ":checkered_flag:"
	switch w.Status {
	case approval.Failed, "cancelled":
		mark = ":x:"
	case approval.Unsure, approval.NotCarriedOut:
		mark = ":warning:"
	}
	took := ""
	if !w.Started.IsZero() {
		took = " after " + incident.FormatDuration(w.Ended.Sub(w.Started))
	}
	status := strings.ReplaceAll(w.Status, "_", " ")
	if status == "" {
		status = "ended"
	}
	line := fmt.Sprintf("%s *Ended%s:* %s (`%s`): %s", mark, took, Esc(w.What), Esc(w.ID), status)
	if w.Outcome != "" {
		line += ". " + Esc(Redact(w.Outcome))
	}
	return line
}

// StillRunning says which long actions an incident still runs ("" for
// none), for `resolve`.
func StillRunning(ws []incident.Work, now time.Time) string {
	if len(ws) == 0 {
		return ""
	}
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s (`%s`, started %s ago)", Esc(w.What), Esc(w.ID), incident.FormatDuration(now.Sub(w.Started))))
	}
	return fmt.Sprintf(":hourglass_flowing_sand: *Still running:* %s. Resolving does not stop it: its end will be said in this thread and recorded in the report (a report written before then is written again).", strings.Join(parts, "; "))
}
