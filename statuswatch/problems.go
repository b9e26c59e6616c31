package statuswatch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redisx"
)

// pageProblems follows what the status page says is wrong, one streak of
// polls per problem (status:streak): an incident opened (or followed)
// after Confirm polls, an advisory line, upstream updates, and what is
// gone from the page.
type pageProblems struct {
	page       *statusPage
	rdb        redis.UniversalClient
	keys       keyspace
	confirm    int
	components *ComponentMap
	incidents  *incidentMap
	snaps      *snapshots
	rep        Reporter
	obs        PollObserver
	now        func() time.Time
	log        logrus.FieldLogger
}

// poll reads the status page and follows each problem on it: an
// incident opened after Confirm polls, an advisory line, upstream updates,
// and what is gone.
func (pp *pageProblems) poll(ctx context.Context) {
	sum, ok := pp.fetchAndRecord(ctx)
	if !ok {
		return
	}
	problems := pp.problemsIn(ctx, sum)
	for _, m := range sum.Maintenances {
		if first, _ := redisx.Once(ctx, pp.rdb, pp.keys.k("planned:"+m.ID+":"+m.Status), 30*24*time.Hour); first {
			pp.rep.Note(ctx, Note{Kind: PlannedWork, Name: m.Name, Status: m.Status, Body: strings.Join(m.Components, ", ")})
		}
	}
	present := map[string]bool{}
	for _, pr := range problems {
		present[pr.key] = true
		pp.track(ctx, pr)
	}
	pp.clearGone(ctx, present)
}

// fetchAndRecord fetches the page and records how it went: the snapshot,
// and a note after 5 failures in a row (and when it reads again).
func (pp *pageProblems) fetchAndRecord(ctx context.Context) (Summary, bool) {
	sum, err := pp.page.Fetch(ctx)
	now := pp.now().UTC()
	pp.obs.Poll("status", err == nil)
	if err != nil {
		pp.snaps.save(ctx, func(s *Snapshot) { s.Err, s.FetchedAt = err.Error(), now })
		fails, _ := pp.rdb.Incr(ctx, pp.keys.k("fetch-failures")).Result()
		pp.log.WithError(err).WithField("failures", fails).Warn("status page poll failed")
		if fails >= 5 {
			if first, _ := redisx.Once(ctx, pp.rdb, pp.keys.k("fetch-warned"), 0); first {
				pp.rep.Note(ctx, Note{Kind: PageUnreadable, Polls: int(fails), Err: err.Error()})
			}
		}
		return sum, false
	}
	pp.rdb.Del(ctx, pp.keys.k("fetch-failures"))
	if n, _ := pp.rdb.Del(ctx, pp.keys.k("fetch-warned")).Result(); n > 0 {
		pp.rep.Note(ctx, Note{Kind: PageReadable})
	}
	pp.snaps.save(ctx, func(s *Snapshot) { s.Summary, s.Err, s.FetchedAt = &sum, "", now })
	return sum, true
}

// problem is one thing wrong on the status page, keyed as it is tracked.
type problem struct {
	key      string
	alert    Alert
	up       *Incident
	advisory bool
}

// problemsIn lists what the page says is wrong (and notes upstream
// incidents it shows resolved).
func (pp *pageProblems) problemsIn(ctx context.Context, sum Summary) []problem {
	var problems []problem
	covered := map[string]bool{}
	for i := range sum.Incidents {
		in := sum.Incidents[i]
		if in.Status == "resolved" {
			pp.upstreamResolved(ctx, in)
			continue
		}
		for _, c := range in.Components {
			covered[strings.ToLower(c.Name)] = true
		}
		a, ok := pp.alertFor(in, sum)
		problems = append(problems, problem{key: "upstream:" + in.ID, alert: a, up: &sum.Incidents[i], advisory: !ok})
	}
	// Components in trouble without a posted incident, one problem per
	// meaning: a Dashboard outage must not turn a degraded sign-in into an
	// outage, nor page anyone by itself.
	loose := map[Meaning][]Component{}
	for _, c := range sum.NotOperational() {
		if c.Status != Maintenance && !covered[strings.ToLower(c.Name)] {
			m := pp.components.Meaning(c.Name)
			loose[m] = append(loose[m], c)
		}
	}
	for _, m := range []Meaning{MeansOutage, MeansWebhook, MeansAdvisory} {
		if cs := loose[m]; len(cs) > 0 {
			a, ok := pp.alertForComponents(cs, sum)
			problems = append(problems, problem{key: componentKey(cs), alert: a, advisory: !ok})
		}
	}
	// A page that lists nothing wrong may still say so overall: an
	// indicator-only page, or one whose incidents are not public.
	if len(problems) == 0 && (sum.Indicator == "minor" || sum.Indicator == "major" || sum.Indicator == "critical") {
		a, ok := alertForIndicator(sum)
		problems = append(problems, problem{key: "indicator:" + sum.Indicator, alert: a, advisory: !ok})
	}
	return problems
}

// track counts one more poll of a problem: after Confirm polls an
// advisory is said once, anything else opens (or follows) its incident.
func (pp *pageProblems) track(ctx context.Context, pr problem) {
	streak, _ := pp.rdb.HIncrBy(ctx, pp.keys.k("streak"), pr.key, 1).Result()
	pp.rdb.HDel(ctx, pp.keys.k("gone"), pr.key)
	if pr.advisory {
		// Nobody is paged: one line in the channel while it lasts.
		if int(streak) >= pp.confirm {
			if first, _ := redisx.Once(ctx, pp.rdb, pp.keys.k("advised:"+pr.key), 0); first {
				pp.rdb.SAdd(ctx, pp.keys.k("advisories"), pr.key)
				pp.rep.Note(ctx, Note{Kind: Advisory, Name: pr.alert.Title, Status: pr.alert.Impact, Body: strings.Join(pr.alert.Components, ", "), Polls: int(streak)})
			}
		}
		return
	}
	id := pp.incidents.mapped(ctx, pr.key)
	if id == "" && int(streak) >= pp.confirm {
		pr.alert.Key, pr.alert.Polls = pr.key, int(streak)
		id = pp.incidents.open(ctx, pr.key, pr.alert)
		if id != "" && pr.up != nil {
			for _, u := range pr.up.Updates { // the alert carried the latest
				pp.rdb.SAdd(ctx, pp.keys.k("seen:"+pr.up.ID), u.ID)
			}
		}
	}
	if id != "" && pr.up != nil {
		pp.postUpdates(ctx, id, *pr.up)
	}
}

// clearGone handles problems gone from the page: streaks reset; an
// advisory or an incident's problem gone for Confirm polls is over (an
// upstream incident counts as resolved).
func (pp *pageProblems) clearGone(ctx context.Context, present map[string]bool) {
	tracked, _ := pp.rdb.HKeys(ctx, pp.keys.k("streak")).Result()
	for _, key := range tracked {
		if present[key] {
			continue
		}
		pp.rdb.HDel(ctx, pp.keys.k("streak"), key)
	}
	advised, _ := pp.rdb.SMembers(ctx, pp.keys.k("advisories")).Result()
	for _, key := range advised {
		if present[key] {
			continue
		}
		if gone, _ := pp.rdb.HIncrBy(ctx, pp.keys.k("gone"), key, 1).Result(); int(gone) >= pp.confirm {
			pp.rdb.Del(ctx, pp.keys.k("advised:"+key))
			pp.rdb.SRem(ctx, pp.keys.k("advisories"), key)
			pp.rdb.HDel(ctx, pp.keys.k("gone"), key)
		}
	}
	for _, key := range pp.incidents.active(ctx) {
		if present[key] {
			continue
		}
		gone, _ := pp.rdb.HIncrBy(ctx, pp.keys.k("gone"), key, 1).Result()
		if int(gone) >= pp.confirm && strings.HasPrefix(key, "upstream:") {
			pp.upstreamResolved(ctx, Incident{ID: strings.TrimPrefix(key, "upstream:"), Name: "the upstream incident"})
		}
		if int(gone) >= pp.confirm && (strings.HasPrefix(key, "components:") || strings.HasPrefix(key, "indicator:")) {
			if id := pp.incidents.mapped(ctx, key); id != "" {
				if first, _ := redisx.Once(ctx, pp.rdb, pp.keys.k("cleared:"+key+":"+id), 30*24*time.Hour); first {
					pp.rep.Note(ctx, Note{Kind: ComponentsRecovered, Incident: id})
				}
			}
			pp.incidents.deactivate(ctx, key)
		}
	}
}

// postUpdates says each update of the upstream incident not said yet in
// the thread of incident id.
func (pp *pageProblems) postUpdates(ctx context.Context, id string, in Incident) {
	for _, u := range in.Updates {
		if u.ID == "" {
			continue
		}
		added, err := pp.rdb.SAdd(ctx, pp.keys.k("seen:"+in.ID), u.ID).Result()
		if err != nil || added == 0 {
			continue
		}
		pp.rep.Note(ctx, Note{Kind: UpstreamUpdate, Incident: id, Status: u.Status, Body: truncateText(u.Body, 2000)})
	}
}

// upstreamResolved says once that the upstream incident behind one of
// ours is resolved, and stops following it.
func (pp *pageProblems) upstreamResolved(ctx context.Context, in Incident) {
	key := "upstream:" + in.ID
	id := pp.incidents.opened(ctx, key)
	if id == "" {
		return
	}
	pp.incidents.deactivate(ctx, key)
	if first, _ := redisx.Once(ctx, pp.rdb, pp.keys.k("resolved:"+in.ID), 0); !first {
		return
	}
	pp.rep.Note(ctx, Note{Kind: UpstreamResolved, Incident: id, Name: in.Name})
}

// alertFor classifies an upstream incident with the component map; ok is
// false when it means an advisory only.
func (pp *pageProblems) alertFor(in Incident, sum Summary) (Alert, bool) {
	a := Alert{Title: "Clerk: " + in.Name, Link: in.URL, Update: in.Latest().Body}
	if a.Link == "" {
		a.Link = sum.PageURL
	}
	var worst string
	for _, c := range in.Components {
		a.Components = append(a.Components, c.Name)
		worst = worse(worst, c.Status)
	}
	worst = worse(worst, impactStatus(in.Impact))
	var ok bool
	a.Category, a.Severity, ok = pp.components.Decide(a.Components, worst)
	a.Impact = fmt.Sprintf("Clerk reports %s (%s)", humanImpact(worst), in.Status)
	return a, ok
}

// alertForComponents classifies components in trouble without a posted
// incident; ok is false when they mean an advisory only.
func (pp *pageProblems) alertForComponents(cs []Component, sum Summary) (Alert, bool) {
	a := Alert{Link: sum.PageURL}
	var worst string
	for _, c := range cs {
		a.Components = append(a.Components, c.Name)
		worst = worse(worst, c.Status)
	}
	a.Title = "Clerk: " + strings.Join(a.Components, ", ") + " " + humanImpact(worst)
	var ok bool
	a.Category, a.Severity, ok = pp.components.Decide(a.Components, worst)
	a.Impact = "Clerk's status page shows " + humanImpact(worst) + " without a posted incident"
	return a, ok
}

// alertForIndicator is the page's overall indicator alone.
func alertForIndicator(sum Summary) (Alert, bool) {
	desc := sum.Description
	if desc == "" {
		desc = sum.Indicator
	}
	a := Alert{Title: "Clerk: " + desc, Link: sum.PageURL,
		Impact: fmt.Sprintf("Clerk's status page reports %q (indicator %s) without naming a component", desc, sum.Indicator)}
	var ok bool
	a.Category, a.Severity, ok = DecideIndicator(sum.Indicator)
	return a, ok
}

// impactStatus maps Statuspage impact words onto component statuses.
func impactStatus(impact string) string {
	switch impact {
	case "critical", Major:
		return Major
	case "major", Partial:
		return Partial
	case "minor", Degraded:
		return Degraded
	}
	return ""
}

func worse(a, b string) string {
	rank := map[string]int{"": 0, Operational: 0, Maintenance: 0, Degraded: 1, Partial: 2, Major: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func humanImpact(s string) string {
	switch s {
	case Major:
		return "a major outage"
	case Partial:
		return "a partial outage"
	case Degraded:
		return "degraded performance"
	}
	return "a problem"
}

func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
