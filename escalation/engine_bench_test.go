package escalation_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
)

// latencyPager records when each page went out against when it was due.
type latencyPager struct {
	mu   sync.Mutex
	due  map[string]time.Time // incident → when its level 1 fell due
	late []time.Duration
	seen map[string]int
	// atAnnounce measures when every channel of the page is done (the
	// thread line comes last), not when the Slack DM went.
	atAnnounce bool
}

func (p *latencyPager) Members(ctx context.Context, id string) ([]string, error) {
	return []string{id}, nil
}
func (p *latencyPager) Notify(ctx context.Context, inc *incident.Incident, pg escalation.Page, user string) (escalation.DM, error) {
	now := time.Now()
	p.mu.Lock()
	if !p.atAnnounce {
		p.late = append(p.late, now.Sub(p.due[inc.ID]))
	}
	p.seen[fmt.Sprintf("%s/%d", inc.ID, pg.Step)]++
	p.mu.Unlock()
	return escalation.DM{}, nil
}
func (p *latencyPager) Announce(ctx context.Context, inc *incident.Incident, pg escalation.Page) error {
	if p.atAnnounce {
		p.mu.Lock()
		p.late = append(p.late, time.Since(p.due[inc.ID]))
		p.mu.Unlock()
	}
	return nil
}
func (p *latencyPager) AfterPage(ctx context.Context, id string) {}

func (p *latencyPager) SettlePage(ctx context.Context, inc *incident.Incident, reason string, dm escalation.DM) error {
	return nil
}

func (p *latencyPager) ThreadURL(inc *incident.Incident) string { return "" }

// BenchmarkLadderLateness: 1,000 incidents whose level 1 falls due in the
// same second, three engines running their real loops on one Redis. It
// prints page lateness (sent − due) p50/p99/max and fails on a duplicated
// or missed page.
func BenchmarkLadderLateness(b *testing.B) {
	ladderLateness(b, false)
}

// BenchmarkLadderLatenessWithPhones is the same with every level paging
// by Slack, SMS and PagerDuty through the real clients against fakes that
// answer in 50 ms; lateness runs until the page's last channel is done.
func BenchmarkLadderLatenessWithPhones(b *testing.B) {
	ladderLateness(b, true)
}

func ladderLateness(b *testing.B, phones bool) {
	const n = 1000
	for range b.N {
		rdb, prefix := redistest.Client(b)
		store := incident.NewStore(rdb, prefix, nil)
		pager := &latencyPager{seen: map[string]int{}, due: map[string]time.Time{}, atAnnounce: phones}
		log := logrus.New()
		log.SetOutput(io.Discard)
		var opts []escalation.Option
		via, what := []string(nil), "Slack"
		var tw *fakepaging.Twilio
		var pd *fakepaging.PagerDuty
		if phones {
			tw, pd = fakepaging.NewTwilio(), fakepaging.NewPagerDuty()
			tw.SetLatency(50 * time.Millisecond)
			pd.SetLatency(50 * time.Millisecond)
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 10 * time.Second}
			opts = append(opts, escalation.WithPhones(paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, hc), nil),
				escalation.WithAlerts(paging.NewPagerDuty(pd.URL(), pd.Key, hc)))
			via, what = []string{escalation.ViaSlack, escalation.ViaSMS, escalation.ViaPagerDuty}, "Slack, SMS and PagerDuty (fakes answering in 50 ms)"
		}
		var engines []*escalation.Engine
		for range 3 {
			engines = append(engines, escalation.NewEngine(rdb, prefix, store, pager, time.Now, log, opts...))
		}
		due := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
		for i := range n {
			inc, err := store.Open(context.Background(), incident.OpenParams{Category: incident.Outage, Title: "x", By: incident.Person{ID: "U9"}, Force: true})
			if err != nil {
				b.Fatal(err)
			}
			at := *inc
			at.OpenedAt = due.Add(time.Duration(i) * 900 * time.Microsecond) // all within one second
			pager.due[inc.ID] = at.OpenedAt
			if err := engines[0].Start(context.Background(), &at, escalation.Ladder{
				Rungs: []escalation.Rung{{Level: 1, Name: "on-call", Targets: []string{"U1"}, Via: via, Phones: map[string]string{"U1": "+15550000001"}},
					{Level: 2, Name: "lead", Start: time.Hour, Targets: []string{"U2"}, Via: via, Phones: map[string]string{"U2": "+15550000002"}}},
			}); err != nil {
				b.Fatal(err)
			}
		}
		if time.Now().After(due) {
			b.Fatal("setup took longer than the lead time; raise it")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		b.ResetTimer()
		for _, e := range engines {
			wg.Go(func() { e.Run(ctx) })
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			pager.mu.Lock()
			got := len(pager.late)
			pager.mu.Unlock()
			if got >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // let any duplicate show itself
		cancel()
		wg.Wait()
		b.StopTimer()
		pager.mu.Lock()
		late := append([]time.Duration(nil), pager.late...)
		dups, missed := 0, 0
		for i := 1; i <= n; i++ {
			switch c := pager.seen[fmt.Sprintf("INC-%d/0", i)]; {
			case c == 0:
				missed++
			case c > 1:
				dups += c - 1
			}
		}
		pager.mu.Unlock()
		if dups > 0 || missed > 0 {
			b.Fatalf("%d duplicated, %d missed pages", dups, missed)
		}
		if phones {
			sms, events := len(tw.Sent()), len(pd.Events())
			tw.Close()
			pd.Close()
			if sms != n || events != n {
				b.Fatalf("%d SMS and %d PagerDuty events for %d pages", sms, events, n)
			}
		}
		sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
		p50, p99, mx := late[n/2], late[n*99/100], late[n-1]
		b.ReportMetric(float64(p50.Milliseconds()), "p50-late-ms")
		b.ReportMetric(float64(p99.Milliseconds()), "p99-late-ms")
		b.ReportMetric(float64(mx.Milliseconds()), "max-late-ms")
		fmt.Printf("1000 pages due within one second, 3 engines, by %s: lateness p50 %v, p99 %v, max %v; duplicated 0, missed 0\n", what, p50, p99, mx)
		if p99 >= time.Second {
			b.Errorf("p99 lateness %v, over the 1 s target", p99)
		}
	}
}
