package usecase

import (
	"cmp"
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/alerts"
	"github.com/clerk-incident-bot/clerk-incident-bot/audit"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
	"github.com/clerk-incident-bot/clerk-incident-bot/statuswatch"
)

// AlertClaims is what the intake needs of alerts.Store.
type AlertClaims interface {
	Claim(ctx context.Context, a alerts.Alert) (bool, error)
	Taken(ctx context.Context, a alerts.Alert, id string) error
	Release(ctx context.Context, a alerts.Alert)
	Resolved(ctx context.Context, a alerts.Alert) (string, error)
	Unresolve(ctx context.Context, a alerts.Alert)
}

// AlertOpener opens an incident for an alert or joins the open one of
// its category (Opener.OpenAlert).
type AlertOpener interface {
	OpenAlert(ctx context.Context, a statuswatch.Alert) (string, error)
}

// AlertThread queues a line in an incident's thread (publish.Outbox).
type AlertThread interface {
	Thread(ctx context.Context, inc *incident.Incident, text string)
}

// AlertStore is what the intake needs of the incident store.
type AlertStore interface {
	Get(ctx context.Context, id string) (*incident.Incident, error)
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
}

// AlertAudit records each accepted alert.
type AlertAudit interface {
	Record(ctx context.Context, e audit.Entry)
}

// AlertIntake takes alerts from the team's own monitoring (POST
// /v1/alerts): per category, the first new firing alert opens an incident
// or joins the open one (Opener.OpenAlert), and the others of the request
// join it in one thread line, so a storm opens at most one incident per
// category. Resolved alerts are said in their incident's thread; the
// incident stays open.
type AlertIntake struct {
	Opener AlertOpener
	Store  AlertStore
	Thread AlertThread
	Claims AlertClaims
	Audit  AlertAudit
	Log    logrus.FieldLogger
}

// AlertsTaken says what became of a request's alerts.
type AlertsTaken struct {
	Incidents  []string `json:"incidents"`  // the incidents the firing alerts went to
	Firing     int      `json:"firing"`     // firing alerts taken now
	Resolved   int      `json:"resolved"`   // resolved alerts said now
	Duplicates int      `json:"duplicates"` // already taken (a repeat or a retry)
}

// Take takes one request's alerts. An error means some were not taken
// (they are released, so the sender's retry takes them).
func (al AlertIntake) Take(ctx context.Context, b alerts.Batch) (AlertsTaken, error) {
	var out AlertsTaken
	byCat := map[incident.Category][]alerts.Alert{}
	var cats []incident.Category
	var resolved []alerts.Alert
	for _, a := range b.Alerts {
		if a.Status == alerts.Resolved {
			resolved = append(resolved, a)
			continue
		}
		if _, ok := byCat[a.Category]; !ok {
			cats = append(cats, a.Category)
		}
		byCat[a.Category] = append(byCat[a.Category], a)
	}
	for _, c := range cats {
		id, n, dups, err := al.takeCategory(ctx, b, byCat[c])
		out.Duplicates += dups
		if err != nil {
			return out, err
		}
		if id != "" {
			out.Incidents = append(out.Incidents, id)
			out.Firing += n
		}
	}
	n, dups, err := al.resolve(ctx, b, resolved)
	out.Resolved = n
	out.Duplicates += dups
	return out, err
}

// takeCategory claims the category's new firings; the most severe opens
// or joins an incident, the rest join it in one thread line.
func (al AlertIntake) takeCategory(ctx context.Context, b alerts.Batch, as []alerts.Alert) (string, int, int, error) {
	var claimed []alerts.Alert
	dups := 0
	for _, a := range as {
		ok, err := al.Claims.Claim(ctx, a)
		if err != nil {
			al.release(ctx, claimed)
			return "", 0, dups, err
		}
		if !ok {
			dups++
			al.record(ctx, b, a, "", "duplicate")
			continue
		}
		claimed = append(claimed, a)
	}
	if len(claimed) == 0 {
		return "", 0, dups, nil
	}
	lead := 0
	for i, a := range claimed {
		if a.Severity < claimed[lead].Severity { // "P1" < "P2"
			lead = i
		}
	}
	claimed[0], claimed[lead] = claimed[lead], claimed[0]
	first := claimed[0]
	// The card is read by everyone in the channel, guests included: an
	// alert's text templated from labels ({{ $labels.instance }}, a user's
	// address) is masked there, as a typed title is; the audit keeps it.
	id, err := al.Opener.OpenAlert(ctx, statuswatch.Alert{Key: "alert:" + first.Fingerprint, Category: first.Category, Severity: first.Severity,
		Title: render.Redact(first.Title), Impact: render.Redact(first.Description), Link: first.Link, Detected: first.StartsAt, Source: incident.SourceAlert, By: b.Sender})
	if err != nil {
		al.release(ctx, claimed)
		return "", 0, dups, fmt.Errorf("open incident for alert %s: %w", first.Fingerprint, err)
	}
	if rest := claimed[1:]; len(rest) > 0 {
		by := incident.Person{Name: b.Sender}
		if inc, err := al.Store.Update(ctx, id, incident.Record(by, fmt.Sprintf("%d more alerts from %s joined", len(rest), b.Sender))); err == nil {
			al.Thread.Thread(ctx, inc, render.AlertsJoined(b.Sender, id, rest))
		} else {
			al.Log.WithError(err).WithField("incident", id).Warn("alerts joined, but the thread line could not be queued")
		}
	}
	for _, a := range claimed {
		if err := al.Claims.Taken(ctx, a, id); err != nil {
			al.Log.WithError(err).WithField("fingerprint", a.Fingerprint).Warn("alert taken but not recorded")
		}
		al.record(ctx, b, a, id, "ok")
	}
	return id, len(claimed), dups, nil
}

// resolve says resolved alerts in their incidents' threads, one line per
// incident, each alert once.
func (al AlertIntake) resolve(ctx context.Context, b alerts.Batch, as []alerts.Alert) (said, dups int, err error) {
	byInc := map[string][]alerts.Alert{}
	var ids []string
	n := 0
	for _, a := range as {
		id, err := al.Claims.Resolved(ctx, a)
		if err != nil {
			for _, id := range ids { // claimed but not said: the retry says them
				for _, a := range byInc[id] {
					al.Claims.Unresolve(context.WithoutCancel(ctx), a)
				}
			}
			return 0, dups, err
		}
		al.record(ctx, b, a, id, map[bool]string{true: "ok", false: "no incident here, or said already"}[id != ""])
		if id == "" {
			dups++
			continue
		}
		n++
		if _, ok := byInc[id]; !ok {
			ids = append(ids, id)
		}
		byInc[id] = append(byInc[id], a)
	}
	var failed error
	for _, id := range ids {
		inc, err := al.Store.Get(ctx, id)
		if err != nil {
			// Said never is worse than said late: the claims go back and
			// the error answers 503, so the sender's retry says them.
			al.Log.WithError(err).WithField("incident", id).Warn("resolved alerts not said; given back for the sender's retry")
			for _, a := range byInc[id] {
				al.Claims.Unresolve(context.WithoutCancel(ctx), a)
			}
			n -= len(byInc[id])
			failed = cmp.Or(failed, fmt.Errorf("read %s for its resolved alerts: %w", id, err))
			continue
		}
		al.Thread.Thread(ctx, inc, render.AlertsResolved(b.Sender, id, inc.Open(), byInc[id]))
	}
	return n, dups, failed
}

func (al AlertIntake) release(ctx context.Context, as []alerts.Alert) {
	for _, a := range as {
		al.Claims.Release(ctx, a)
	}
}

// record puts one accepted alert in the audit: who sent it, what it
// said, where it went.
func (al AlertIntake) record(ctx context.Context, b alerts.Batch, a alerts.Alert, id, outcome string) {
	detail := fmt.Sprintf("%s %s %s: %s (fingerprint %s, receiver %s)", a.Category, a.Severity, a.Status, a.Title, a.Fingerprint, b.Receiver)
	al.Audit.Record(context.WithoutCancel(ctx), audit.Entry{Actor: b.Sender, Action: "alert " + a.Status, Detail: render.Truncate(detail, 300), Incident: id, Outcome: outcome})
}
