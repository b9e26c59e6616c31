package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakepaging"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/guard"
	"github.com/clerk-incident-bot/clerk-incident-bot/paging"
)

// inbox gives Twilio's message list as replies (the app's adapter).
type inbox struct{ tw *paging.Twilio }

func (i inbox) Received(ctx context.Context, number string, since time.Time) ([]escalation.Reply, bool, error) {
	msgs, more, err := i.tw.Received(ctx, number, since)
	out := make([]escalation.Reply, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, escalation.Reply{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Sent: m.Sent})
	}
	return out, more, err
}

// counter counts how often each reply was acted on; failing names
// replies that fail the first time they are handed over.
type counter struct {
	mu      sync.Mutex
	handled map[string]int
	failing map[string]bool
}

func (c *counter) HandleReply(ctx context.Context, m escalation.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failing[m.Body] {
		delete(c.failing, m.Body)
		return errors.New("store unavailable")
	}
	c.handled[m.Body]++
	return nil
}

func (c *counter) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.handled {
		out[k] = v
	}
	return out
}

type replyRig struct {
	f   *fixture
	tw  *fakepaging.Twilio
	h   *counter
	log *logrus.Logger
}

func newReplyRig(t testing.TB) *replyRig {
	f := newFixture(t)
	tw := fakepaging.NewTwilio()
	t.Cleanup(tw.Close)
	tw.SetClock(f.clock.Now)
	log := logrus.New()
	log.SetOutput(io.Discard)
	return &replyRig{f: f, tw: tw, log: log, h: &counter{handled: map[string]int{}, failing: map[string]bool{}}}
}

// reader is one replica's reader (a new one is a restarted replica).
func (r *replyRig) reader() *escalation.Replies {
	c := paging.NewTwilio(r.tw.URL(), r.tw.SID, r.tw.Token, r.tw.From, nil)
	return escalation.NewReplies(r.f.rdb, r.f.prefix, inbox{c}, r.h, []string{r.tw.From}, 10*time.Second, r.f.clock.Now, r.log, guard.New(r.log, r.f.pager, nil))
}

// passLease hands the polling turn on, as when its holder dies.
func (r *replyRig) passLease(t testing.TB) {
	if err := r.f.rdb.Del(context.Background(), r.f.prefix+"escalation:replies:lease").Err(); err != nil {
		t.Fatal(err)
	}
}

// Three replicas read the same number at once, the polling turn passed
// between them mid-read; then all restart: each reply is acted on exactly
// once, a reply whose handling failed is acted on at the next read, and a
// reply sent before the bot's first start answers nothing.
func TestRepliesAreHandledOnceAcrossReplicasAndRestarts(t *testing.T) {
	r := newReplyRig(t)
	ctx := context.Background()
	r.tw.Reply("+15550000001", r.tw.From, "before the bot started")
	r.f.clock.Add(time.Hour)
	readers := []*escalation.Replies{r.reader(), r.reader(), r.reader()}
	want := map[string]int{}
	send := func(n int) {
		for range n {
			r.f.clock.Add(time.Second)
			body := fmt.Sprintf("ack %d", len(want))
			want[body] = 1
			r.tw.Reply("+15550000001", r.tw.From, body)
		}
	}
	r.h.failing["ack 3"] = true
	for round := range 5 {
		send(40)
		var wg sync.WaitGroup
		for _, rd := range readers {
			wg.Go(func() { rd.Poll(ctx) })
			wg.Go(func() { r.passLease(t) })
		}
		wg.Wait()
		if round == 2 {
			readers = []*escalation.Replies{r.reader(), r.reader(), r.reader()} // all restarted
		}
		r.passLease(t)
	}
	for _, rd := range readers {
		rd.Poll(ctx)
		r.passLease(t)
	}
	got := r.h.counts()
	if len(got) != len(want) {
		t.Fatalf("handled %d distinct replies, want %d", len(got), len(want))
	}
	for body, n := range got {
		if n != 1 {
			t.Errorf("%q handled %d times", body, n)
		}
	}
}

// One replica at a time reads: while one holds the turn, the others
// read nothing (Twilio is asked once per interval, not once per replica).
func TestOneReplicaReadsAtATime(t *testing.T) {
	r := newReplyRig(t)
	ctx := context.Background()
	a, b := r.reader(), r.reader()
	a.Poll(ctx)
	reads := len(r.tw.Requests())
	b.Poll(ctx)
	if len(r.tw.Requests()) != reads {
		t.Fatal("a second replica read while the first held the turn")
	}
	a.Poll(ctx)
	if len(r.tw.Requests()) != reads+1 {
		t.Fatal("the holder did not read again")
	}
}
