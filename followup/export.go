// Package followup carries an incident's follow-ups out of Slack: each
// becomes one GitHub issue, exactly once, whatever retries, replicas and
// crashes happen in between.
//
// GitHub has no idempotency key, so each export is recorded around the
// create: "creating" (with the marker the issue's body will carry) before
// the POST, the issue after it. A "creating" left behind (a crash, a lost
// answer) is resolved by searching for the marker before creating again;
// since search lags new issues, an attempt younger than Settle that search
// does not show yet is left pending rather than created twice. A Redis
// lease per follow-up keeps two replicas from exporting it at once.
package followup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/github"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// Store is what export needs of the follow-ups (incident.FollowupStore).
type Store interface {
	List(ctx context.Context, id string) ([]incident.Followup, error)
	Get(ctx context.Context, id string, n int) (incident.Followup, error)
	BeginExport(ctx context.Context, id string, n int, marker string) (incident.Followup, error)
	RecordExport(ctx context.Context, id string, n int, number int, url string) (incident.Followup, error)
	AbandonExport(ctx context.Context, id string, n int) error
	ExportLease(id string, n int, owner string) *redisx.Lease
}

// Issues is what export needs of GitHub (github.Client).
type Issues interface {
	CreateIssue(ctx context.Context, in github.NewIssue) (github.Issue, error)
	FindByMarker(ctx context.Context, marker, title string) (*github.Issue, error)
}

// Incidents reads the incident the issues describe.
type Incidents interface {
	Get(ctx context.Context, id string) (*incident.Incident, error)
}

// Exporter exports follow-ups.
type Exporter struct {
	Store     Store
	Issues    Issues
	Incidents Incidents
	// Link is the way back to the incident (its card's permalink); nil or
	// "": the body names the incident ID and the command to see it.
	Link func(ctx context.Context, inc *incident.Incident) string
	Now  func() time.Time
	// Owner names this replica on the leases.
	Owner string
	// Settle is how long search may lag a new issue (default 2 min).
	Settle time.Duration
	// LeaseTTL bounds one follow-up's export, rate-limit waits included
	// (default 5 min): a replica killed mid-export frees it after that.
	LeaseTTL time.Duration
}

// Outcome is how one follow-up's export ended.
type Outcome string

// The outcomes.
const (
	Created Outcome = "created" // this export created its issue
	Already Outcome = "already" // exported before: nothing sent
	Found   Outcome = "found"   // an earlier, interrupted export had created it: recorded now
	Busy    Outcome = "busy"    // another replica is exporting it right now
	Pending Outcome = "pending" // an earlier attempt may have created it; search does not show it yet
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped" // not tried: an earlier one failed in a way that fails them all
)

// Result is one follow-up's export.
type Result struct {
	N       int
	Text    string
	Done    bool
	Outcome Outcome
	Number  int
	URL     string
	Err     error
	// RetryIn is when a Pending one is worth trying again.
	RetryIn time.Duration
}

// Marker is the hidden line in the issue's body that names the follow-up.
func Marker(id string, n int) string {
	return fmt.Sprintf("<!-- clerk-incident-bot:%s:followup-%d -->", id, n)
}

// TitlePhrase is what the issue's title starts with ("INC-3 follow-up
// 2"): the look-up searches it where search does not index the marker.
func TitlePhrase(id string, n int) string {
	return fmt.Sprintf("%s follow-up %d", id, n)
}

func (e *Exporter) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Exporter) settle() time.Duration {
	if e.Settle <= 0 {
		return 2 * time.Minute
	}
	return e.Settle
}

// Export creates the issue of every follow-up of incident id that has
// none, in number order. Done follow-ups are exported too (their title
// says done): the report links every follow-up to its issue.
func (e *Exporter) Export(ctx context.Context, id string) ([]Result, error) {
	inc, err := e.Incidents.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	list, err := e.Store.List(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(list))
	stop := false
	for _, f := range list {
		r := Result{N: f.N, Text: f.Text, Done: f.Done}
		switch {
		case f.Exported():
			r.Outcome, r.Number, r.URL = Already, f.Export.Number, f.Export.URL
		case stop:
			r.Outcome = Skipped
		default:
			r = e.one(ctx, inc, f)
			// Credentials, the repository, issues off, a long rate limit:
			// the next would fail alike, so they are not sent.
			var ge *github.Error
			if r.Outcome == Failed && errors.As(r.Err, &ge) && ge.Status != 422 {
				stop = true
			}
			if ctx.Err() != nil {
				stop = true
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// one exports one follow-up under its lease.
func (e *Exporter) one(ctx context.Context, inc *incident.Incident, f incident.Followup) Result {
	r := Result{N: f.N, Text: f.Text, Done: f.Done}
	fail := func(err error) Result { r.Outcome, r.Err = Failed, err; return r }
	ttl := e.LeaseTTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	lease := e.Store.ExportLease(inc.ID, f.N, e.Owner)
	ok, err := lease.Take(ctx, ttl)
	if err != nil {
		return fail(redisx.StoreErr(err))
	}
	if !ok {
		r.Outcome = Busy
		return r
	}
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	// Read again under the lease: the replica that held it may have
	// finished.
	f, err = e.Store.Get(ctx, inc.ID, f.N)
	if err != nil {
		return fail(err)
	}
	if f.Exported() {
		r.Outcome, r.Number, r.URL = Already, f.Export.Number, f.Export.URL
		return r
	}
	marker := Marker(inc.ID, f.N)
	if f.Export != nil {
		// An earlier attempt stopped between "creating" and its record.
		is, err := e.Issues.FindByMarker(ctx, marker, TitlePhrase(inc.ID, f.N))
		if err != nil {
			return fail(err)
		}
		if is != nil {
			if _, err := e.Store.RecordExport(context.WithoutCancel(ctx), inc.ID, f.N, is.Number, is.HTMLURL); err != nil {
				return fail(err)
			}
			r.Outcome, r.Number, r.URL = Found, is.Number, is.HTMLURL
			return r
		}
		if age := e.now().Sub(f.Export.Started); age < e.settle() {
			r.Outcome, r.RetryIn = Pending, e.settle()-age
			return r
		}
	}
	if _, err := e.Store.BeginExport(ctx, inc.ID, f.N, marker); err != nil {
		return fail(err)
	}
	is, err := e.Issues.CreateIssue(ctx, e.issue(ctx, inc, f, marker))
	if err != nil {
		if github.NotCreated(err) {
			// GitHub refused it: nothing to look for next time.
			_ = e.Store.AbandonExport(context.WithoutCancel(ctx), inc.ID, f.N)
		}
		return fail(err)
	}
	// Recorded even if the request's context ended: the issue exists.
	if _, err := e.Store.RecordExport(context.WithoutCancel(ctx), inc.ID, f.N, is.Number, is.HTMLURL); err != nil {
		return fail(fmt.Errorf("issue #%d was created but could not be recorded (the next export finds it by its marker): %w", is.Number, err))
	}
	r.Outcome, r.Number, r.URL = Created, is.Number, is.HTMLURL
	return r
}

// issue is the follow-up as a GitHub issue: the incident, its summary, a
// link back, the follow-up, and the marker.
func (e *Exporter) issue(ctx context.Context, inc *incident.Incident, f incident.Followup, marker string) github.NewIssue {
	done := ""
	if f.Done {
		done = " (done)"
	}
	title := fmt.Sprintf("%s%s: %s", TitlePhrase(inc.ID, f.N), done, clip(oneLine(f.Text), 200))
	var b strings.Builder
	fmt.Fprintf(&b, "Follow-up %d of incident **%s**: %s\n\n", f.N, inc.ID, md(oneLine(inc.Title)))
	fmt.Fprintf(&b, "%s\n\n", md(f.Text))
	if f.Done {
		who := ""
		if f.DoneBy != nil {
			who = " by " + md(f.DoneBy.Name)
		}
		fmt.Fprintf(&b, "_Marked done in Slack%s on %s._\n\n", who, f.DoneAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString("### The incident\n")
	fmt.Fprintf(&b, "- **Category / severity:** %s / %s\n", inc.Category, inc.Severity)
	fmt.Fprintf(&b, "- **Status:** %s\n", inc.Status)
	fmt.Fprintf(&b, "- **Opened:** %s\n", inc.OpenedAt.UTC().Format("2006-01-02 15:04 UTC"))
	dur := incident.FormatDuration(inc.Duration(e.now()))
	if inc.Open() {
		dur += " (still open)"
	}
	fmt.Fprintf(&b, "- **Duration:** %s\n", dur)
	for _, fld := range []struct{ label, v string }{{"Impact", inc.Impact}, {"Root cause", inc.RootCause}, {"Resolution", inc.Resolution}} {
		if strings.TrimSpace(fld.v) != "" {
			fmt.Fprintf(&b, "- **%s:** %s\n", fld.label, md(clip(oneLine(fld.v), 500)))
		}
	}
	link := ""
	if e.Link != nil {
		link = e.Link(ctx, inc)
	}
	if link != "" {
		fmt.Fprintf(&b, "\nBack to the incident: [%s in Slack](%s)\n", inc.ID, link)
	} else {
		fmt.Fprintf(&b, "\nBack to the incident: %s in Slack (`/clerk-incident status %s`)\n", inc.ID, inc.ID)
	}
	fmt.Fprintf(&b, "\n_Added by %s on %s with `/clerk-incident followup`._\n\n%s\n", md(f.By.Name), f.At.UTC().Format("2006-01-02"), marker)
	return github.NewIssue{Title: title, Body: b.String()}
}

// md makes Slack text inert in a GitHub body: no HTML (and so no forged
// marker comment) and no @mentions that would notify strangers.
func md(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "@", "@\u200b").Replace(s)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
