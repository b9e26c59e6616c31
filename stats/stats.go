// Package stats computes `stats`: incidents by category and severity and
// the time to acknowledge and to resolve (p50/p90) over a period, from
// the incidents' milestones. It is pure: the store reads the incidents,
// publish or a chart shows the Summary.
package stats

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Periods are the ones `stats` accepts, in days; the first is the default.
var Periods = []int{30, 90}

// Period is the window [From, To] that a Summary covers (To is now: an
// incident resolved this instant counts).
type Period struct {
	Days     int
	From, To time.Time
}

// ErrPeriod is a period `stats` does not offer.
var ErrPeriod = apperr.New(apperr.Invalid, "unknown period")

// ParsePeriod reads "30d" or "90d" ("" is 30d), ending at now.
func ParsePeriod(arg string, now time.Time) (Period, error) {
	arg = strings.ToLower(strings.TrimSpace(arg))
	days := Periods[0]
	if arg != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(arg, "d"))
		if err != nil || !strings.HasSuffix(arg, "d") || !slices.Contains(Periods, n) {
			return Period{}, apperr.Wrap(apperr.Invalid, fmt.Sprintf("%q is not a period; use 30d or 90d", arg), ErrPeriod)
		}
		days = n
	}
	now = now.UTC()
	return Period{Days: days, From: now.AddDate(0, 0, -days), To: now}, nil
}

// Count is how many incidents have one value (a category, a severity).
type Count struct {
	Name string
	N    int
}

// Percentiles are nearest-rank percentiles of N durations: the pth is
// the smallest value with at least p% of the values at or below it (the
// value at rank ceil(p/100 × N) of the sorted values). With N = 0 they
// are zero and mean nothing.
type Percentiles struct {
	N        int
	P50, P90 time.Duration
}

// Summary is what `stats` shows, and what a chart of it draws.
type Summary struct {
	Period Period
	// Incidents counts those resolved in the period and those opened in
	// it that are still open (Open of them).
	Incidents, Open int
	// ByCategory and BySeverity list every category and severity, in
	// the runbook's order, zero counts included (stable chart axes).
	ByCategory, BySeverity []Count
	// MTTA is detection to acknowledgement, over the counted incidents
	// that were acknowledged; MTTR detection to resolve, over those
	// resolved in the period.
	MTTA, MTTR Percentiles
}

// Compute summarises the period: resolved are the incidents resolved in
// it (the store's resolved index), open the incidents open now; open
// ones opened before the period are left out.
func Compute(p Period, resolved, open []*incident.Incident) Summary {
	s := Summary{Period: p}
	cats := map[incident.Category]int{}
	sevs := map[incident.Severity]int{}
	var tta, ttr []time.Duration
	count := func(inc *incident.Incident) {
		s.Incidents++
		cats[inc.Category]++
		sevs[inc.Severity]++
		sp := inc.Timings().Spans(p.To)
		if sp.AckOK {
			tta = append(tta, sp.ToAcknowledge)
		}
		if sp.ResolvedOK {
			ttr = append(ttr, sp.Duration)
		}
	}
	for _, inc := range resolved {
		if inc.Open() || inc.ResolvedAt.Before(p.From) || inc.ResolvedAt.After(p.To) {
			continue
		}
		count(inc)
	}
	for _, inc := range open {
		if !inc.Open() || inc.OpenedAt.Before(p.From) || inc.OpenedAt.After(p.To) {
			continue
		}
		s.Open++
		count(inc)
	}
	for _, c := range incident.Categories {
		s.ByCategory = append(s.ByCategory, Count{string(c), cats[c]})
	}
	for _, v := range []incident.Severity{incident.P1, incident.P2, incident.P3} {
		s.BySeverity = append(s.BySeverity, Count{string(v), sevs[v]})
	}
	s.MTTA, s.MTTR = percentiles(tta), percentiles(ttr)
	return s
}

func percentiles(ds []time.Duration) Percentiles {
	slices.Sort(ds)
	return Percentiles{N: len(ds), P50: NearestRank(ds, 50), P90: NearestRank(ds, 90)}
}

// NearestRank is the pth percentile (0 < p ≤ 100) of sorted values by
// the nearest-rank method: the value at rank ceil(p/100 × N), 1-based.
func NearestRank(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(p) * float64(len(sorted)) / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
