package usecase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// PhoneBook finds who answers a phone listed in contacts.yml
// (escalation.Contacts).
type PhoneBook interface {
	ByPhone(phone string) (escalation.Holder, bool)
}

// PagedPhones lists the incidents that paged a phone, latest first
// (escalation.PhoneLog).
type PagedPhones interface {
	Incidents(ctx context.Context, phone string) ([]string, error)
}

// ReplyStore is what a reply needs of the incident store.
type ReplyStore interface {
	Current(ctx context.Context, id string) (*incident.Incident, error)
	UpdateThen(ctx context.Context, id string, fn incident.Mutation, after incident.After) (*incident.Incident, error)
}

// ReplyLadder is what a reply needs of the escalation engine.
type ReplyLadder interface {
	Stop(ctx context.Context, id, reason, by string) error
	Escalate(ctx context.Context, id string) (escalation.Rung, error)
	Get(ctx context.Context, id string) (*escalation.State, error)
}

// ReplyPublisher re-renders the card after a reply changed the incident.
type ReplyPublisher interface {
	Changed(ctx context.Context, inc *incident.Incident) error
	Refresh(ctx context.Context, inc *incident.Incident) error
}

// Texter answers a reply by SMS (paging.Twilio).
type Texter interface {
	SMS(ctx context.Context, to, body string) error
}

// ReplyAuditor records what a reply did in the audit log (usecase.Ticks).
type ReplyAuditor interface {
	System(ctx context.Context, actor, action, detail, incidentID string)
}

// ReplyObserver counts replies by what became of them: ack, esc, help,
// refused, stranger (metrics).
type ReplyObserver interface {
	SMSReply(outcome string)
}

// SMSRepliesDeps lists what answering replies needs.
type SMSRepliesDeps struct {
	Book    PhoneBook
	Paged   PagedPhones
	Store   ReplyStore
	Ladder  ReplyLadder
	Pub     ReplyPublisher
	Text    Texter
	Observe ReplyObserver
	Audit   ReplyAuditor
	// Once is redisx.Once over the bot's Redis and key prefix.
	Once func(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Go runs what follows an act in the background (guard.Go): stopping
	// the ladder rewrites page DMs at Slack's pace, and the reader must
	// not wait on it before the next reply.
	Go  func(ctx context.Context, job, incidentID string, fn func(ctx context.Context)) <-chan struct{}
	Log logrus.FieldLogger
}

// SMSReplies acts on a reply to a page text (escalation.ReplyHandler):
// from a phone in contacts.yml, ACK acknowledges as its holder and ESC
// escalates, as in Slack; anything else gets one short help text. A
// number not in contacts.yml changes nothing and is never answered.
type SMSReplies struct{ d SMSRepliesDeps }

// NewSMSReplies wires the use case.
func NewSMSReplies(d SMSRepliesDeps) *SMSReplies { return &SMSReplies{d: d} }

// helpEvery: at most one help text a minute to a phone, so an
// auto-responder and the bot never text each other in a loop.
const helpEvery = time.Minute

// HandleReply implements escalation.ReplyHandler. It returns an error
// only when the reply should be read again (the store did not answer).
func (s *SMSReplies) HandleReply(ctx context.Context, m escalation.Reply) error {
	h, ok := s.d.Book.ByPhone(m.From)
	if !ok {
		// Personal data stays out: the SID finds it in Twilio's console.
		s.d.Observe.SMSReply("stranger")
		s.d.Log.WithFields(logrus.Fields{"sid": m.SID, "from": maskedPhone(m.From)}).Info("SMS reply from a number not in contacts.yml: ignored, not answered")
		return nil
	}
	verb, id, ok := parseReply(m.Body)
	if !ok {
		return s.help(ctx, m)
	}
	inc, why, err := s.target(ctx, m.From, id, verb == "ack")
	if err != nil {
		return err
	}
	if inc == nil {
		s.d.Observe.SMSReply("refused")
		s.text(ctx, m, why)
		return nil
	}
	if verb == "esc" {
		return s.escalate(ctx, m, h, inc)
	}
	return s.ack(ctx, m, h, inc)
}

// parseReply reads "ack", "ack INC-n", "1" and "esc", "esc INC-n" (any
// case, trailing punctuation ignored).
func parseReply(body string) (verb, id string, ok bool) {
	words := strings.Fields(strings.ToLower(strings.Trim(strings.TrimSpace(body), ".!?")))
	if len(words) == 0 || len(words) > 2 {
		return "", "", false
	}
	switch words[0] {
	case "ack", "1":
		verb = "ack"
	case "esc":
		verb = "esc"
	default:
		return "", "", false
	}
	if len(words) == 2 {
		if id, ok = incident.ParseID(words[1]); !ok {
			return "", "", false
		}
	}
	return verb, id, true
}

// target is the incident a reply answers: the one it names, if it paged
// this phone; else the latest one that paged it and is open (and not
// acknowledged, for ack). nil with the sentence to text back when none.
func (s *SMSReplies) target(ctx context.Context, phone, id string, unacked bool) (*incident.Incident, string, error) {
	ids, err := s.d.Paged.Incidents(ctx, phone)
	if err != nil {
		return nil, "", err
	}
	if id != "" {
		if !slices.Contains(ids, id) {
			return nil, fmt.Sprintf("%s was not paged to this phone: answer it in Slack.", id), nil
		}
		ids = []string{id}
	}
	var acked *incident.Incident // the latest open one someone has: said so
	for _, cand := range ids {
		inc, err := s.d.Store.Current(ctx, cand)
		if errors.Is(err, incident.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		if id != "" && !inc.Open() {
			return nil, fmt.Sprintf("%s is already resolved. Nothing changed.", id), nil
		}
		if inc.Open() && (!unacked || inc.AckedBy == nil || id != "") {
			return inc, "", nil
		}
		if inc.Open() && acked == nil {
			acked = inc
		}
	}
	if acked != nil {
		return nil, settledText(acked), nil
	}
	if unacked {
		return nil, "No unacknowledged incident was paged to this phone. Nothing changed.", nil
	}
	return nil, "No open incident was paged to this phone. Nothing changed.", nil
}

// who is the holder as an incident person: their Slack ID from
// contacts.yml, or else the one the incident's ladder paged at this phone.
func (s *SMSReplies) who(ctx context.Context, h escalation.Holder, inc *incident.Incident, phone string) incident.Person {
	p := incident.Person{ID: h.SlackID, Name: h.Name}
	if p.ID != "" {
		return p
	}
	st, err := s.d.Ladder.Get(ctx, inc.ID)
	if err != nil {
		return p
	}
	for _, r := range st.Ladder.Rungs {
		for id, ph := range r.Phones {
			if escalation.SamePhone(ph, phone) && !h.Shared {
				p.ID = id
			}
		}
	}
	return p
}

// ack acknowledges inc as the phone's holder and stops the ladder, as an
// Acknowledge in Slack does.
func (s *SMSReplies) ack(ctx context.Context, m escalation.Reply, h escalation.Holder, inc *incident.Incident) error {
	by := s.who(ctx, h, inc, m.From)
	line := fmt.Sprintf(":raising_hand: Acknowledged by %s by SMS: %s is being led by them now; the escalation has stopped.", escName(by.Display()), inc.ID)
	got, err := s.d.Store.UpdateThen(ctx, inc.ID, incident.AckVia(by, "SMS"), incident.After{Line: line, Render: true})
	switch {
	case errors.Is(err, incident.ErrNoChange), errors.Is(err, incident.ErrAlreadyResolved):
		cur, rerr := s.d.Store.Current(ctx, inc.ID)
		if rerr != nil {
			return rerr
		}
		s.d.Observe.SMSReply("refused")
		s.text(ctx, m, settledText(cur))
		return nil
	case err != nil:
		return err
	}
	s.d.Observe.SMSReply("ack")
	_ = s.d.Pub.Changed(ctx, got)
	// The ack is recorded: the engine re-reads the incident before each
	// page, so the ladder is stopped already; the rest follows.
	s.d.Go(context.WithoutCancel(ctx), "SMS ack", got.ID, func(ctx context.Context) {
		s.d.Audit.System(ctx, by.Display()+" (SMS)", "ack", "acknowledged by an SMS reply to the page", got.ID)
		if err := s.d.Ladder.Stop(ctx, got.ID, "acknowledged", by.ID); err != nil {
			s.d.Log.WithError(err).WithField("incident", got.ID).Warn("could not stop escalation after an SMS ack")
		}
		_ = s.d.Pub.Refresh(ctx, got)
		s.sendText(ctx, m, fmt.Sprintf("Acknowledged %s: you are leading it; the escalation has stopped.", got.ID))
	})
	return nil
}

// settledText says why an ack changed nothing.
func settledText(inc *incident.Incident) string {
	if !inc.Open() {
		return inc.ID + " is already resolved. Nothing changed."
	}
	by := "someone"
	if inc.AckedBy != nil {
		by = inc.AckedBy.Display()
	}
	return fmt.Sprintf("%s was already acknowledged by %s. Nothing changed.", inc.ID, by)
}

// escalate pages the next level now, bounded as /clerk-incident escalate
// is (escalation.EscalateEvery per level, kept in Redis).
func (s *SMSReplies) escalate(ctx context.Context, m escalation.Reply, h escalation.Holder, inc *incident.Incident) error {
	by := s.who(ctx, h, inc, m.From)
	rung, err := s.d.Ladder.Escalate(ctx, inc.ID)
	var soon *escalation.TooSoonError
	switch {
	case errors.As(err, &soon):
		s.d.Observe.SMSReply("refused")
		s.text(ctx, m, fmt.Sprintf("Level %d (%s) of %s was paged by a manual escalation at %s UTC; the next is possible at %s UTC. Nothing changed.",
			soon.Level, soon.Name, inc.ID, soon.Last.UTC().Format("15:04:05"), soon.Next.UTC().Format("15:04:05")))
		return nil
	case errors.Is(err, escalation.ErrNoLadder):
		s.d.Observe.SMSReply("refused")
		s.text(ctx, m, inc.ID+" has no escalation ladder. Nothing changed.")
		return nil
	case err != nil:
		return err
	}
	s.d.Observe.SMSReply("esc")
	s.d.Audit.System(ctx, by.Display()+" (SMS)", "escalate", fmt.Sprintf("paging level %d (%s) now, asked by an SMS reply", rung.Level, rung.Name), inc.ID)
	line := fmt.Sprintf(":rotating_light: %s asked by SMS to escalate %s: paging level %d (%s) now.", escName(by.Display()), inc.ID, rung.Level, escName(rung.Name))
	entry := fmt.Sprintf("Escalation requested by SMS: paging level %d (%s) now", rung.Level, rung.Name)
	if _, err := s.d.Store.UpdateThen(ctx, inc.ID, incident.Record(by, entry), incident.After{Line: line}); err != nil {
		s.d.Log.WithError(err).WithField("incident", inc.ID).Warn("could not record the SMS escalation")
	}
	s.text(ctx, m, fmt.Sprintf("Paging level %d (%s) of %s now.", rung.Level, rung.Name, inc.ID))
	return nil
}

// help texts how to answer, at most once a minute per phone.
func (s *SMSReplies) help(ctx context.Context, m escalation.Reply) error {
	s.d.Observe.SMSReply("help")
	first, err := s.d.Once(ctx, "escalation:replies:help:"+m.From, helpEvery)
	if err != nil {
		return err
	}
	if !first {
		return nil
	}
	what := "the incident"
	if inc, _, err := s.target(ctx, m.From, "", true); err == nil && inc != nil {
		what = inc.ID
	}
	s.text(ctx, m, fmt.Sprintf("Reply ACK to acknowledge %s, ESC to escalate (or ACK INC-n, ESC INC-n).", what))
	return nil
}

// text answers the phone a reply came from, in the background: the
// reader goes on to the next reply.
func (s *SMSReplies) text(ctx context.Context, m escalation.Reply, body string) {
	s.d.Go(context.WithoutCancel(ctx), "SMS answer", "", func(ctx context.Context) { s.sendText(ctx, m, body) })
}

// sendText answers the phone a reply came from, from the number it
// texted; a failure is logged (the reply was acted on: it is not read
// again).
func (s *SMSReplies) sendText(ctx context.Context, m escalation.Reply, body string) {
	if err := s.d.Text.SMS(ctx, m.From, body); err != nil {
		s.d.Log.WithError(err).WithField("sid", m.SID).Warn("could not answer an SMS reply")
	}
}

// escName makes a contacts.yml name safe in Slack mrkdwn.
func escName(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func maskedPhone(p string) string {
	if len(p) <= 4 {
		return "…"
	}
	return "…" + p[len(p)-4:]
}
