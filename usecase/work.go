package usecase

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// Work in flight: a long action carried out after approval (a rollback,
// a bulk lockout) or started by a command (a resync) is recorded on its
// incident when it starts and when it ends, with a thread line for each;
// `resolve` names what still runs, the report lists each with its
// outcome, and a report written while one ran is written again when it
// ends.

// WorkStore is what recording work needs of the incident store.
type WorkStore interface {
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
	Get(ctx context.Context, id string) (*incident.Incident, error) // with its timeline, for the report
	Current(ctx context.Context, id string) (*incident.Incident, error)
}

// ReportUploader uploads a report into the incident's thread.
type ReportUploader interface {
	UploadReport(ctx context.Context, inc *incident.Incident, markdown string) error
}

// ReportFacts reads what the report needs beside the incident; Followups
// may be nil.
type ReportFacts struct {
	Affected interface {
		Affected(ctx context.Context, id string) ([]incident.AffectedUser, error)
	}
	Followups interface {
		List(ctx context.Context, id string) ([]incident.Followup, error)
	}
}

// OutcomeShower shows a carried-out request's outcome (publish.Approvals).
type OutcomeShower interface {
	Executed(ctx context.Context, r *approval.Request)
}

// WorkDeps lists what tracking work needs.
type WorkDeps struct {
	Store     WorkStore
	Approvals OutcomeShower   // the outcome recorded and shown (ApprovalNews)
	Resync    resync.Reporter // the resync's own reports (publish.Progress); nil: no resync
	Ticks     *Ticks          // a resync's timeline entry and checklist tick; nil: no resync
	Upload    ReportUploader
	Facts     ReportFacts
	Log       logrus.FieldLogger
	Now       func() time.Time
}

// Work records long actions on their incidents (approval.Announcer and
// resync.Reporter, around the publisher's).
type Work struct{ d WorkDeps }

// NewWork wires the use case.
func NewWork(d WorkDeps) *Work {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Work{d: d}
}

var botPerson = incident.Person{Name: "bot"}

// long reports whether carrying out r takes long enough to be work in
// flight: a rollback (Vercel's job is followed for minutes), a lockout of
// several accounts.
func long(r *approval.Request) bool {
	return r.Action == approval.Rollback || r.Action == approval.Lockout && len(r.Targets) > 1
}

// workName is an approved action as its work reads.
func workName(r *approval.Request) string {
	switch r.Action {
	case approval.Rollback:
		to, _ := approval.RollbackTargets(r)
		return "rollback to " + to
	case approval.Lockout:
		return fmt.Sprintf("lockout of %d accounts", len(r.Targets))
	}
	return render.ActionName(r.Action)
}

// Started implements approval.Announcer: a long action says in the
// thread that it started.
func (w *Work) Started(ctx context.Context, r *approval.Request) {
	if !long(r) {
		return
	}
	wk := incident.Work{ID: r.ID, What: workName(r)}
	w.update(ctx, r.Incident, incident.StartWork(botPerson, wk, fmt.Sprintf("Started %s (%s), approved", wk.What, r.ID)), render.WorkStarted(wk))
}

// Executed implements approval.Announcer: the outcome on the timeline and
// as the publisher shows it (ApprovalNews), then the end of the work and, when the report was written
// while it ran, the report again.
func (w *Work) Executed(ctx context.Context, r *approval.Request) {
	if w.d.Approvals != nil {
		w.d.Approvals.Executed(ctx, r)
	}
	if !long(r) || r.Outcome == nil {
		return
	}
	w.End(ctx, r.Incident, incident.Work{ID: r.ID, What: workName(r), Status: r.Outcome.Status, Outcome: render.OneLine(r.Outcome.Summary)}, "")
}

// End records that work ended (its Status and Outcome set), with entry on
// the timeline, says so in the thread, and writes the report again when
// it was written while the work ran.
func (w *Work) End(ctx context.Context, incID string, wk incident.Work, entry string) {
	inc := w.update(ctx, incID, incident.EndWork(botPerson, wk.ID, wk.What, wk.Status, wk.Outcome, entry), "")
	if inc == nil {
		return
	}
	ended, _ := inc.WorkOf(wk.ID)
	if inc.Channel != "" {
		_, _ = w.d.Store.UpdateThen(ctx, incID, noop, incident.After{Line: render.WorkEnded(ended)})
	}
	if inc.ReportBehind(wk.ID) {
		w.rewriteReport(ctx, inc, ended)
	}
}

// noop changes nothing: it carries a thread line of its own.
func noop(*incident.Incident, time.Time) ([]incident.Entry, error) { return nil, nil }

// update applies m with line for the thread; nil when nothing changed.
func (w *Work) update(ctx context.Context, incID string, m incident.Mutation, line string) *incident.Incident {
	if incID == "" {
		return nil
	}
	inc, err := w.d.Store.UpdateThen(ctx, incID, m, incident.After{Line: line})
	var nc *incident.NoChangeError
	if errors.As(err, &nc) {
		return nil
	}
	if err != nil {
		w.d.Log.WithError(err).WithField("incident", incID).Warn("could not record work in flight")
		return nil
	}
	return inc
}

// rewriteReport writes the report again: it was written while wk ran.
func (w *Work) rewriteReport(ctx context.Context, inc *incident.Incident, wk incident.Work) {
	if w.d.Upload == nil {
		return
	}
	var facts incident.ReportFacts
	if w.d.Facts.Affected != nil {
		if users, err := w.d.Facts.Affected.Affected(ctx, inc.ID); err == nil {
			facts.Affected = len(users)
		}
	}
	if w.d.Facts.Followups != nil {
		facts.Followups, _ = w.d.Facts.Followups.List(ctx, inc.ID)
	}
	full, err := w.d.Store.Get(ctx, inc.ID)
	if err != nil {
		w.d.Log.WithError(err).WithField("incident", inc.ID).Warn("could not read the incident to update its report")
		return
	}
	md, _ := incident.ReportWith(full, w.d.Now(), facts)
	if err := w.d.Upload.UploadReport(ctx, full, md); err != nil {
		w.d.Log.WithError(err).WithField("incident", inc.ID).Warn("could not upload the updated report")
		return
	}
	w.update(ctx, inc.ID, incident.ReportWritten(botPerson, fmt.Sprintf("Post-incident report updated: %s (%s) ended after it was written", wk.What, wk.ID)), "")
}

// Progress implements resync.Reporter.
func (w *Work) Progress(ctx context.Context, j *resync.Job, rate float64) {
	if w.d.Resync != nil {
		w.d.Resync.Progress(ctx, j, rate)
	}
}

// Finished implements resync.Reporter: the resync's summary on the
// timeline, its own report, the checklist step ticked when it finished
// cleanly, then the end of its work.
func (w *Work) Finished(ctx context.Context, j *resync.Job, failedIDs []string) {
	var inc *incident.Incident
	if j.Incident != "" && w.d.Ticks != nil {
		inc, _ = w.d.Store.Current(ctx, j.Incident)
	}
	if inc != nil {
		_ = w.d.Ticks.Record(ctx, inc.ID, j.By, render.ResyncTimeline(j))
	}
	if w.d.Resync != nil {
		w.d.Resync.Finished(ctx, j, failedIDs)
	}
	if inc != nil && j.Status == resync.Done && j.Failed == 0 && !j.DryRun && inc.Open() {
		// Only the resync step, credited to whoever started the resync: a
		// 2xx is not proof the app stored the data, so "Verify data
		// integrity" stays for a person to tick.
		w.d.Ticks.AutoTick(ctx, inc.ID, j.By, incident.StepRunResync, "resync "+j.ID)
	}
	if j.Incident == "" {
		return
	}
	w.End(ctx, j.Incident, incident.Work{ID: j.ID, What: ResyncWork(j), Status: j.Status,
		Outcome: fmt.Sprintf("delivered %d, failed %d, skipped %d", j.Delivered, j.Failed, j.Skipped)}, "")
}

// ResyncWork is a resync as its work reads.
func ResyncWork(j *resync.Job) string {
	if j.DryRun {
		return "resync " + j.ID + " (dry run)"
	}
	return "resync " + j.ID
}
