package escalation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// pageSender sends one step of a ladder to everyone it reaches, on each
// of the rung's channels, once per (step, person, channel): each delivery
// is marked in Redis (escalation:INC-n:sent:<step>), and so is the
// step's announcement.
type pageSender struct {
	rdb redis.UniversalClient
	keys
	pager    Pager
	guard    Guard
	phones   Phones     // nil: no sms or call
	alerts   Alerts     // nil: no PagerDuty
	replyTo  string     // the number replies are read from ("": replies off)
	phoneLog *PhoneLog  // nil: replies off
	calls    *callWatch // follows each call placed (nil without phones)
	log      logrus.FieldLogger
}

// page sends one step to everyone it reaches. Each delivered DM is marked
// in Redis, so a retry after a failure or crash re-sends only the missing
// ones. Whoever cannot be reached for good is skipped at once; transient
// failures are retried until the next level is due, then skipped too.
func (pa *pageSender) page(ctx context.Context, inc *incident.Incident, st *State, now time.Time) (Page, error) {
	rung, repeat := st.Ladder.Rung(st.Next)
	next := st.nextDeadline()
	r := &pageRun{s: pa, inc: inc, rung: rung, now: now, giveUp: !next.IsZero() && !now.Before(next), sentKey: pa.keySent(inc.ID, st.Next),
		p: Page{Incident: inc.ID, Step: st.Next, Level: rung.Level, Name: rung.Name, Window: rung.Window, Repeat: repeat, Manual: st.Forced}}
	targets, err := r.targets(ctx)
	if err != nil {
		return r.p, err
	}
	r.p.Channels = rung.Channels()
	// PagerDuty goes out beside the people, not after them: each channel
	// is a network round trip, and the page is late by their sum.
	var pd <-chan pdResult
	if slices.Contains(r.p.Channels, ViaPagerDuty) && pa.alerts != nil {
		pd = r.triggerPagerDuty(ctx)
	}
	for _, u := range targets {
		if r.pageUser(ctx, u) {
			r.p.Reached = append(r.p.Reached, u)
		}
	}
	if pd != nil {
		res := <-pd
		switch {
		case res.err != nil:
			r.fail("PagerDuty", "", res.err)
		case res.ok:
			r.p.PagerDuty = true
			pa.rdb.Set(ctx, pa.keyState(inc.ID)+":pagerduty", 1, 30*24*time.Hour)
			// Read back from PagerDuty (an ack there) until resolved here.
			pa.rdb.ZAddNX(ctx, pa.keyAlertWatch(), redis.Z{Score: ms(r.now), Member: inc.ID})
		}
	}
	if r.firstErr != nil {
		return r.p, r.firstErr
	}
	r.p.Skipped = len(r.p.Reached) == 0
	if done, _ := pa.rdb.SIsMember(ctx, r.sentKey, "#announce").Result(); !done {
		if err := pa.pager.Announce(ctx, inc, r.p); err != nil {
			return r.p, fmt.Errorf("announce: %w", err)
		}
		pa.rdb.SAdd(ctx, r.sentKey, "#announce")
		pa.rdb.Expire(ctx, r.sentKey, 30*24*time.Hour)
	}
	return r.p, nil
}

// pageRun is one step being paged: whom it reached, what failed.
type pageRun struct {
	s        *pageSender
	inc      *incident.Incident
	rung     Rung
	p        Page
	now      time.Time
	giveUp   bool   // the next level is due: skip whoever still fails
	sentKey  string // the set of deliveries done for this step
	firstErr error  // the first transient failure: the step is retried
}

// pdResult is how the PagerDuty trigger went.
type pdResult struct {
	ok  bool
	err error
}

// targets expands the rung's groups into users, each once.
func (pa *pageRun) targets(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var targets []string
	for _, t := range pa.rung.Targets {
		users, err := pa.s.pager.Members(ctx, t)
		if err != nil {
			if permanent(err) || pa.giveUp {
				pa.p.Unreachable = append(pa.p.Unreachable, Unreached{ID: t, Why: reason(err)})
				continue
			}
			return nil, fmt.Errorf("expand %s: %w", t, err)
		}
		for _, u := range users {
			if !seen[u] {
				seen[u] = true
				targets = append(targets, u)
			}
		}
	}
	return targets, nil
}

// deliver sends once per (step, person, channel): each is marked in Redis
// once delivered, so a retry, a restart or another replica sends only what
// is missing; one channel failing never holds back the others.
func (pa *pageRun) deliver(ctx context.Context, member string, send func() error) (bool, error) {
	done, err := pa.s.rdb.SIsMember(ctx, pa.sentKey, member).Result()
	if err != nil || done {
		return done, err
	}
	if err := send(); err != nil {
		return false, err
	}
	pa.s.rdb.SAdd(ctx, pa.sentKey, member)
	pa.s.rdb.Expire(ctx, pa.sentKey, 30*24*time.Hour)
	return true, nil
}

// fail skips a target that cannot be reached for good (or past the
// next level's deadline), or keeps the error for a retry.
func (pa *pageRun) fail(who, what string, err error) {
	if permanent(err) || pa.giveUp {
		pa.p.Unreachable = append(pa.p.Unreachable, Unreached{ID: who, Why: what + reason(err)})
		return
	}
	if pa.firstErr == nil {
		pa.firstErr = fmt.Errorf("page %s: %w", who, err)
	}
}

// triggerPagerDuty triggers the incident's alert in a goroutine of its
// own. A panic fails this channel only; the step is retried.
func (pa *pageRun) triggerPagerDuty(ctx context.Context) <-chan pdResult {
	s, inc := pa.s, pa.inc
	link := s.pager.ThreadURL(inc)
	summary := fmt.Sprintf("%s: %s (%s, %s) — level %d (%s)", inc.ID, inc.Title, inc.Category, inc.Severity, pa.p.Level, pa.p.Name)
	done := make(chan pdResult, 1)
	go func() {
		var ok bool
		err := s.guard.Call(ctx, "PagerDuty trigger", inc.ID, func(ctx context.Context) error {
			var err error
			ok, err = pa.deliver(ctx, "#pagerduty", func() error { return s.alerts.Trigger(ctx, inc.ID, summary, pdSeverity(inc.Severity), link) })
			return err
		})
		done <- pdResult{ok, err}
	}()
	return done
}

// pageUser pages one person on each of the rung's channels and reports
// whether any reached them.
func (pa *pageRun) pageUser(ctx context.Context, u string) (reached bool) {
	for _, ch := range pa.p.Channels {
		member, send := pa.sender(ctx, u, ch)
		if send == nil {
			continue
		}
		ok, err := pa.deliver(ctx, member, send)
		if err != nil {
			label := map[string]string{ViaSlack: "", ViaSMS: "SMS: ", ViaCall: "call: "}[ch]
			pa.fail(u, label, err)
			continue
		}
		if ok {
			reached = true
			if pa.p.Sent == nil {
				pa.p.Sent = map[string][]string{}
			}
			pa.p.Sent[u] = append(pa.p.Sent[u], ch)
		}
	}
	return reached
}

// sender is how to page u on channel ch and the delivery's marker; send is
// nil when the channel cannot reach u (a group member without a number in
// contacts.yml is paged in Slack only).
func (pa *pageRun) sender(ctx context.Context, u, ch string) (member string, send func() error) {
	s, inc, p := pa.s, pa.inc, pa.p
	switch ch {
	case ViaSlack:
		// The marker is the bare user: ladders paged before channels existed.
		return u, func() error {
			dm, err := s.pager.Notify(ctx, inc, p, u)
			if err == nil && dm.TS != "" {
				// Any replica can rewrite it when the incident is dealt with.
				field := fmt.Sprintf("%s|%d", u, p.Step)
				s.rdb.HSet(ctx, s.keyDMs(inc.ID), field, dm.Channel+"|"+dm.TS)
				s.rdb.Expire(ctx, s.keyDMs(inc.ID), 30*24*time.Hour)
			}
			return err
		}
	case ViaSMS, ViaCall:
		phone := pa.rung.Phones[u]
		if s.phones == nil || phone == "" {
			return "", nil
		}
		text := PhoneText(inc, p, ch, s.replyTo)
		if ch == ViaSMS {
			return u + "|" + ch, func() error {
				err := s.phones.SMS(ctx, phone, text)
				if err == nil {
					s.rememberPhone(ctx, phone, inc.ID, pa.now)
				}
				return err
			}
		}
		return u + "|" + ch, func() error {
			sid, err := s.phones.Call(ctx, phone, text)
			if err == nil && sid != "" {
				s.rememberPhone(ctx, phone, inc.ID, pa.now)
				s.calls.watch(ctx, inc.ID, u, sid, pa.now)
			}
			return err
		}
	}
	return "", nil
}

// rememberPhone notes the page to phone, so a reply from it finds the
// incident (replies on only).
func (pa *pageSender) rememberPhone(ctx context.Context, phone, id string, now time.Time) {
	if pa.phoneLog == nil {
		return
	}
	if err := pa.phoneLog.Add(ctx, phone, id, now); err != nil {
		pa.log.WithError(err).WithField("incident", id).Warn("a reply from this phone will not find the incident")
	}
}

// PhoneText is what an SMS (ch sms) says and a call (ch call) reads out:
// the incident, its title and severity, the level, and how to answer from
// the phone: with replies read from replyTo, ACK or ESC by SMS; without,
// in Slack. It stays within 320 characters.
func PhoneText(inc *incident.Incident, p Page, ch, replyTo string) string {
	head := fmt.Sprintf("%s %s %s: ", inc.ID, inc.Severity, inc.Category)
	answer := fmt.Sprintf("Acknowledge %s in Slack: the page DM's button or /clerk-incident ack %s.", inc.ID, inc.ID)
	switch {
	case replyTo != "" && ch == ViaCall:
		// Read out digit by digit, so the number can be written down.
		answer = fmt.Sprintf("Text ACK to %s to acknowledge %s, ESC to escalate.", spoken(replyTo), inc.ID)
	case replyTo != "":
		answer = fmt.Sprintf("Reply ACK to acknowledge %s, ESC to escalate.", inc.ID)
	}
	tail := fmt.Sprintf(". You are paged as level %d (%s). %s", p.Level, p.Name, answer)
	title := []rune(inc.Title)
	if room := 320 - len([]rune(head)) - len([]rune(tail)); len(title) > room {
		title = append(title[:max(room-1, 0)], '…')
	}
	return head + string(title) + tail
}

// spoken spells a number digit by digit for text to speech.
func spoken(number string) string {
	var digits []string
	for _, r := range number {
		if r >= '0' && r <= '9' {
			digits = append(digits, string(r))
		}
	}
	return strings.Join(digits, " ")
}

func pdSeverity(s incident.Severity) string {
	switch s {
	case incident.P1:
		return "critical"
	case incident.P2:
		return "error"
	}
	return "warning"
}

// reason is what the thread says about an unreachable target.
func reason(err error) string {
	if msg := apperr.MessageOf(err); msg != "" {
		return msg
	}
	return err.Error()
}
