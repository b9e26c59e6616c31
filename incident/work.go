package incident

import (
	"time"
)

// Work is a long action carried out for an incident (an approved
// rollback or bulk lockout, a bulk revoke, a resync): when it started
// and how it ended, so the thread, `resolve` and the report say what is
// still running and what came of it.
type Work struct {
	// ID is the action's own ID (apr-…, the resync's, revoke-…).
	ID string `json:"id"`
	// What is the action as people read it ("rollback to dpl_1").
	What    string    `json:"what"`
	By      Person    `json:"by"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	// Status is the end's (done, failed, unsure, not_carried_out).
	Status string `json:"status,omitempty"`
	// Outcome is one plain sentence saying how it ended.
	Outcome string `json:"outcome,omitempty"`
}

// Running reports whether the work has not ended yet.
func (w Work) Running() bool { return w.Ended.IsZero() }

// Running lists the incident's work not ended yet, oldest first.
func (i *Incident) Running() []Work {
	var out []Work
	for _, w := range i.Work {
		if w.Running() {
			out = append(out, w)
		}
	}
	return out
}

// WorkOf returns the incident's work of that ID.
func (i *Incident) WorkOf(id string) (Work, bool) {
	for _, w := range i.Work {
		if w.ID == id {
			return w, true
		}
	}
	return Work{}, false
}

// StartWork records that w started (now), with entry on the timeline
// ("" for none). Starting one already recorded changes nothing (a
// replica carrying out a request again after a crash).
func StartWork(by Person, w Work, entry string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if _, ok := inc.WorkOf(w.ID); ok {
			return nil, noChange("already started")
		}
		w.By, w.Started = by, now
		w.Ended, w.Status, w.Outcome = time.Time{}, "", ""
		inc.Work = append(inc.Work, w)
		if entry == "" {
			return nil, nil
		}
		return []Entry{{Actor: by, Text: entry}}, nil
	}
}

// EndWork records that the work id ended (now) with status and outcome,
// and entry on the timeline ("" for none). Work with no start on record
// is recorded as ending now; work already ended changes nothing.
func EndWork(by Person, id, what, status, outcome, entry string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		i := -1
		for k, w := range inc.Work {
			if w.ID == id {
				i = k
			}
		}
		if i < 0 { // when it started is not known
			inc.Work = append(inc.Work, Work{ID: id, What: what, By: by})
			i = len(inc.Work) - 1
		}
		if !inc.Work[i].Running() {
			return nil, noChange("already ended")
		}
		inc.Work[i].Ended, inc.Work[i].Status, inc.Work[i].Outcome = now, status, outcome
		if entry == "" {
			return nil, nil
		}
		return []Entry{{Actor: by, Text: entry}}, nil
	}
}

// ReportWritten records that the report was written (now), with entry
// on the timeline.
func ReportWritten(by Person, entry string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		inc.ReportedAt = now
		return []Entry{{Actor: by, Text: entry}}, nil
	}
}

// ReportBehind reports whether the work id ended no earlier than the
// report was last written: the report says it was running (or lacks it),
// so it needs writing again.
func (i *Incident) ReportBehind(id string) bool {
	w, ok := i.WorkOf(id)
	return ok && !w.Running() && !i.ReportedAt.IsZero() && !i.ReportedAt.After(w.Ended)
}
