package usecase

import (
	"context"
	"fmt"
	"slices"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Sharing personal data (an investigation's IPs and cities, the affected
// accounts' e-mails) with the responders only: who reads the incident's
// thread is looked up first, guests counted; the data goes to the thread
// only when it is a private channel without guests (the incident's own
// private channel), else to a group DM of the responders. Sharing picks
// the destination; the caller delivers there (commands.Sharing).

// Audience is what sharing needs to learn who reads a channel
// (commands.Sharing over Slack).
type Audience interface {
	ChannelPrivate(ctx context.Context, id string) (bool, error)
	ChannelMembers(ctx context.Context, id string, max int) ([]string, bool, error)
	MemberKind(ctx context.Context, id string) (Member, error)
	OpenGroup(ctx context.Context, users []string) (string, error)
}

// Member is what the chat says of one channel member.
type Member struct {
	ID string
	// Guest: a multi-channel or single-channel guest.
	Guest, Bot, Deleted bool
}

// ResponderCheck says whether a user is a responder (handlers.Authorizer).
type ResponderCheck interface {
	Allowed(ctx context.Context, user string) (bool, error)
}

// Readers is who can read a channel.
type Readers struct {
	Channel string
	Private bool
	// People are the members who are people (bots and deactivated
	// accounts aside), among those checked.
	People int
	// Guests are the guests among them (users.info is_restricted or
	// is_ultra_restricted).
	Guests []string
	// Unchecked counts the members not looked up (too many to check each
	// one); they may be guests.
	Unchecked int
	// Responders are the members who are responders and not guests.
	Responders []string
}

// Closed reports whether only the incident's people read the channel: a
// private channel without guests, every member checked.
func (r Readers) Closed() bool { return r.Private && len(r.Guests) == 0 && r.Unchecked == 0 }

// maxChecked bounds the users.info calls one share makes (Tier 4).
const maxChecked = 40

// maxGroup is how many users a group DM takes besides the bot.
const maxGroup = 8

// Sharing finds who reads a thread and shares with the responders only.
type Sharing struct {
	slack      Audience
	responders ResponderCheck
	log        logrus.FieldLogger
}

// NewSharing wires the use case.
func NewSharing(slack Audience, responders ResponderCheck, log logrus.FieldLogger) *Sharing {
	return &Sharing{slack: slack, responders: responders, log: log}
}

// Readers looks up who reads channel: its members, each one's kind.
func (s *Sharing) Readers(ctx context.Context, channel string) (Readers, error) {
	r := Readers{Channel: channel}
	private, err := s.slack.ChannelPrivate(ctx, channel)
	if err != nil {
		return r, fmt.Errorf("read the channel: %w", err)
	}
	r.Private = private
	members, more, err := s.slack.ChannelMembers(ctx, channel, 1000)
	if err != nil {
		return r, fmt.Errorf("list the channel's members: %w", err)
	}
	if more {
		r.Unchecked++ // at least one beyond the first thousand
	}
	for i, id := range members {
		if i >= maxChecked {
			r.Unchecked += len(members) - maxChecked
			break
		}
		m, err := s.slack.MemberKind(ctx, id)
		if err != nil {
			return r, fmt.Errorf("read member %s: %w", id, err)
		}
		switch {
		case m.Bot || m.Deleted:
			continue
		case m.Guest:
			r.Guests = append(r.Guests, id)
		default:
			if ok, err := s.responders.Allowed(ctx, id); err == nil && ok {
				r.Responders = append(r.Responders, id)
			}
		}
		r.People++
	}
	return r, nil
}

// Destination is where shared personal data goes.
type Destination struct {
	// Thread: the incident's thread (a closed channel); else Channel is
	// a group DM of Users.
	Thread   bool
	Channel  string
	ThreadTS string
	Users    []string
	// Left are responders left out (a group DM takes 8 people).
	Left []string
}

// Destination picks where the asker's data goes for inc: its thread when
// only the incident's people read it, else a group DM of the asker, the
// incident's named people and the responders in its channel, guests
// never.
func (s *Sharing) Destination(ctx context.Context, inc *incident.Incident, asker string) (Destination, Readers, error) {
	readers, err := s.Readers(ctx, inc.Channel)
	if err != nil {
		return Destination{}, readers, err
	}
	if readers.Closed() {
		return Destination{Thread: true, Channel: inc.Channel, ThreadTS: inc.CardTS}, readers, nil
	}
	var users []string
	add := func(id string) {
		if id == "" || id[0] != 'U' && id[0] != 'W' || slices.Contains(users, id) || slices.Contains(readers.Guests, id) {
			return
		}
		users = append(users, id)
	}
	add(asker)
	for _, p := range []*incident.Person{&inc.OpenedBy, inc.AckedBy, inc.Commander, inc.Comms} {
		if p != nil && s.person(ctx, p.ID, readers) {
			add(p.ID)
		}
	}
	for _, id := range readers.Responders {
		add(id)
	}
	d := Destination{Users: users}
	if len(users) > maxGroup {
		d.Users, d.Left = users[:maxGroup], users[maxGroup:]
	}
	if len(d.Users) < 2 {
		return d, readers, fmt.Errorf("no other responder to share with: only you are on %s and in its channel", inc.ID)
	}
	ch, err := s.slack.OpenGroup(ctx, d.Users)
	if err != nil {
		return d, readers, fmt.Errorf("open a group DM with the responders: %w", err)
	}
	d.Channel = ch
	return d, readers, nil
}

// person reports whether one of the incident's named people may get the
// data: a responder or member already checked, else looked up now (a
// guest named comms, or a lead outside the channel, never gets it; a
// lookup that fails leaves them out).
func (s *Sharing) person(ctx context.Context, id string, r Readers) bool {
	if slices.Contains(r.Responders, id) {
		return true
	}
	if id == "" || id[0] != 'U' && id[0] != 'W' || slices.Contains(r.Guests, id) {
		return false // not a Slack user (PagerDuty, the CLI), or a guest
	}
	m, err := s.slack.MemberKind(ctx, id)
	if err != nil {
		s.log.WithError(err).WithField("user", id).Warn("could not check who an incident's person is; left out of the share")
		return false
	}
	return !m.Guest && !m.Bot && !m.Deleted
}
