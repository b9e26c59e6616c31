package escalation_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
)

// stamped records when each reply was acted on, and how often.
type stamped struct {
	mu   sync.Mutex
	at   map[string][]time.Time
	sent map[string]time.Time
}

func (s *stamped) HandleReply(ctx context.Context, m escalation.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at[m.Body] = append(s.at[m.Body], time.Now())
	return nil
}

// 1,000 replies texted over about 5 s to one number, read by three
// replicas whose sweeps call PollIfDue every second (TWILIO_REPLY_POLL
// 1 s), on one Redis, through the real Twilio client against the fake
// (10 ms a request): each reply is acted on exactly once, and the time
// from a reply reaching Twilio to its handling is printed.
func BenchmarkSMSReplies1000ThreeReplicas(b *testing.B) {
	for range b.N {
		rdb, prefix := redistest.Client(b)
		tw := fakepaging.NewTwilio()
		tw.SetLatency(10 * time.Millisecond)
		log := logrus.New()
		log.SetOutput(io.Discard)
		h := &stamped{at: map[string][]time.Time{}, sent: map[string]time.Time{}}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 3 {
			c := paging.NewTwilio(tw.URL(), tw.SID, tw.Token, tw.From, nil)
			r := escalation.NewReplies(rdb, prefix, inbox{c}, h, []string{tw.From}, time.Second, time.Now, log, guard.New(log, nil, nil))
			wg.Go(func() {
				t := time.NewTicker(time.Second) // the sweep
				defer t.Stop()
				for {
					r.PollIfDue(ctx)
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
				}
			})
		}
		for i := range 1000 {
			body := fmt.Sprintf("ack %d", i)
			h.mu.Lock()
			h.sent[body] = time.Now()
			h.mu.Unlock()
			tw.Reply(fmt.Sprintf("+1555%07d", i), tw.From, body)
			time.Sleep(5 * time.Millisecond)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			h.mu.Lock()
			n := len(h.at)
			h.mu.Unlock()
			if n == 1000 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(2500 * time.Millisecond) // two more reads: a duplicate would show now
		cancel()
		wg.Wait()
		tw.Close()
		var lat []time.Duration
		dup, missed := 0, 0
		for body, at := range h.sent {
			got := h.at[body]
			switch {
			case len(got) == 0:
				missed++
			default:
				dup += len(got) - 1
				lat = append(lat, got[0].Sub(at))
			}
		}
		p50, p99, mx := percentiles(lat)
		fmt.Printf("sms replies: 1000 across 3 replicas (poll 1 s): handled %d, duplicated %d, missed %d; reply to handled p50 %s p99 %s max %s\n",
			len(lat), dup, missed, p50.Round(time.Millisecond), p99.Round(time.Millisecond), mx.Round(time.Millisecond))
		if dup != 0 || missed != 0 {
			b.Fatalf("duplicated %d, missed %d", dup, missed)
		}
	}
}

// percentiles are p50, p99 and max (nearest rank).
func percentiles(d []time.Duration) (p50, p99, mx time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	n := len(d)
	return d[n/2], d[min(n*99/100, n-1)], d[n-1]
}
