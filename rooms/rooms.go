package rooms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Channels is the chat side of incident channels (publish.Channels over
// Slack): it makes the calls and reads the chat's error codes, and
// answers in rooms' terms.
type Channels interface {
	// Create makes a channel under name, or under a suffixed name while
	// names are taken; used is the name it made (or tried last). A
	// refusal comes back as a *Refusal.
	Create(ctx context.Context, name string, private bool) (id, used string, err error)
	// Invite adds users to a channel; failed are the people left out
	// (those already in are not). err is for the call as a whole.
	Invite(ctx context.Context, channel string, users []string) (failed []InviteFailure, err error)
	// Announce posts the main channel's line about inc; Reannounce
	// rewrites it.
	Announce(ctx context.Context, channel string, inc *incident.Incident) (ts string, err error)
	Reannounce(ctx context.Context, channel, ts string, inc *incident.Incident) error
	// Archive archives a channel (one archived already is done);
	// ErrArchiveRefused when the bot may never archive it.
	Archive(ctx context.Context, channel string) error
	// GroupMembers are a user group's members.
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Refusal is a channel the chat would not create; Reason says why, for
// the incident's thread.
type Refusal struct {
	Reason string
	Err    error
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// InviteFailure is one person who could not be added, and why.
type InviteFailure struct {
	User, Why string
}

// ErrArchiveRefused is an archive the bot may never do (it is not in
// the channel, the channel is gone or required): archive it by hand.
var ErrArchiveRefused = errors.New("the bot may not archive the channel")

// Store is what rooms need of the incident store.
type Store interface {
	Update(ctx context.Context, id string, fn incident.Mutation) (*incident.Incident, error)
	Current(ctx context.Context, id string) (*incident.Incident, error)
}

// Config is the option as configured.
type Config struct {
	// Main is SLACK_CHANNEL_ID; the announcement goes where the incident
	// would have lived (that, or where `open` was typed without it).
	Main    string
	Private bool
	// Invite are user (U…/W…) and user group (S…) IDs; @handles are
	// resolved at start-up.
	Invite []string
	// ArchiveAfter is how long after resolve the channel is archived (0: kept).
	ArchiveAfter time.Duration
	// GroupTTL is how long a group's members are remembered
	// (usergroups.users.list is Tier 2); 0: five minutes.
	GroupTTL time.Duration
}

// Rooms creates, fills, announces and archives incident channels. Its
// state is in Redis, so any replica can continue what another began.
type Rooms struct {
	rdb    redis.UniversalClient
	prefix string
	cfg    Config
	chat   Channels
	store  Store
	now    func() time.Time
	log    logrus.FieldLogger

	mu     sync.Mutex
	groups map[string]cachedGroup
}

type cachedGroup struct {
	members []string
	at      time.Time
}

// New builds the rooms.
func New(rdb redis.UniversalClient, prefix string, cfg Config, chat Channels, store Store, now func() time.Time, log logrus.FieldLogger) *Rooms {
	if cfg.GroupTTL <= 0 {
		cfg.GroupTTL = 5 * time.Minute
	}
	return &Rooms{rdb: rdb, prefix: prefix, cfg: cfg, chat: chat, store: store, now: now, log: log, groups: map[string]cachedGroup{}}
}

func (r *Rooms) keyInc(id string) string    { return r.prefix + "rooms:incident:" + id }
func (r *Rooms) keyChannel(c string) string { return r.prefix + "rooms:channel:" + c }
func (r *Rooms) keyDue() string             { return r.prefix + "rooms:archive:due" }

// Opened gives a new incident its channel before its card is posted: it
// creates the channel, records it on the incident (the card and thread go
// there), invites the opener and the configured people, and
// posts the announcement in the main channel. When Slack refuses, the
// incident stays in the main channel and note says why (for its thread).
func (r *Rooms) Opened(ctx context.Context, inc *incident.Incident) (*incident.Incident, string) {
	origin := cmp.Or(inc.Channel, r.cfg.Main)
	id, name, err := r.chat.Create(ctx, Name(incident.Number(inc.ID), inc.Title), r.cfg.Private)
	if err != nil {
		r.log.WithError(err).WithField("incident", inc.ID).WithField("name", name).Warn("could not create the incident channel")
		return inc, fmt.Sprintf(":warning: The incident's own channel #%s could not be created (%s), so %s stays in this channel.", name, why(err), inc.ID)
	}
	if err := r.rdb.Set(ctx, r.keyChannel(id), inc.ID, 0).Err(); err != nil {
		r.log.WithError(err).WithField("incident", inc.ID).Warn("could not record the incident channel")
	}
	r.rdb.HSet(ctx, r.keyInc(inc.ID), "room", id, "name", name, "origin", origin)
	updated, err := r.store.Update(ctx, inc.ID, incident.SetRoom(incident.Person{Name: "clerk-incident"}, id, name))
	if err != nil {
		r.log.WithError(err).WithField("incident", inc.ID).Warn("could not record the channel on the incident")
		return inc, fmt.Sprintf(":warning: Channel <#%s> was created but could not be recorded on %s; everything stays here.", id, inc.ID)
	}
	// A new incident has no commander yet: CardChanged invites one once named.
	r.invite(ctx, updated, append([]string{inc.OpenedBy.ID}, r.cfg.Invite...))
	r.announce(ctx, updated, origin)
	return updated, ""
}

// why is the reason a person reads for a refused create.
func why(err error) string {
	if rf, ok := errors.AsType[*Refusal](err); ok {
		return rf.Reason
	}
	return err.Error()
}

// Paged invites the people a page reached (escalation's observer).
func (r *Rooms) Paged(ctx context.Context, incidentID string, users []string) {
	if len(users) == 0 {
		return
	}
	inc, err := r.store.Current(ctx, incidentID)
	if err != nil || inc.Room == "" {
		return
	}
	r.invite(ctx, inc, users)
}

// invite adds people (groups expanded) to the incident's channel. People
// already there are fine; one who cannot be added does not keep the
// others out.
func (r *Rooms) invite(ctx context.Context, inc *incident.Incident, ids []string) {
	var users []string
	for _, id := range ids {
		switch {
		case id == "":
		case strings.HasPrefix(id, "S"):
			members, err := r.members(ctx, id)
			if err != nil {
				r.log.WithError(err).WithField("group", id).Warn("could not expand a user group for the incident channel")
			}
			users = append(users, members...)
		case strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W"):
			users = append(users, id)
		}
	}
	slices.Sort(users)
	users = slices.Compact(users)
	if len(users) == 0 {
		return
	}
	failed, err := r.chat.Invite(ctx, inc.Room, users)
	if err != nil {
		r.log.WithError(err).WithField("incident", inc.ID).Warn("could not invite people to the incident channel")
		return
	}
	for _, f := range failed {
		r.log.WithFields(logrus.Fields{"incident": inc.ID, "user": f.User, "why": f.Why}).Warn("could not invite someone to the incident channel")
	}
}

// Progress is what the announcement shows of the incident's progress:
// its status, and whether someone acknowledged it. The announcement is
// rewritten when it changes.
func Progress(inc *incident.Incident) string {
	if inc.Status == incident.Investigating && inc.AckedBy != nil {
		return "acknowledged"
	}
	return string(inc.Status)
}

// members expands a user group, remembered for GroupTTL (real time: it
// paces Slack, not the incident).
func (r *Rooms) members(ctx context.Context, group string) ([]string, error) {
	r.mu.Lock()
	c, ok := r.groups[group]
	r.mu.Unlock()
	if ok && time.Since(c.at) < r.cfg.GroupTTL {
		return c.members, nil
	}
	members, err := r.chat.GroupMembers(ctx, group)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.groups[group] = cachedGroup{members: members, at: time.Now()}
	r.mu.Unlock()
	return members, nil
}

// announce posts the line in the main channel once.
func (r *Rooms) announce(ctx context.Context, inc *incident.Incident, main string) {
	if main == "" {
		return
	}
	ts, err := r.chat.Announce(ctx, main, inc)
	if err != nil {
		r.log.WithError(err).WithField("incident", inc.ID).Warn("could not announce the incident channel")
		return
	}
	r.rdb.HSet(ctx, r.keyInc(inc.ID), "announce_ch", main, "announce_ts", ts, "status", Progress(inc))
}

// CardChanged follows each render of an incident's card: the
// announcement follows status changes, the commander is invited once
// named, and the archive is scheduled on resolve and cancelled on reopen.
func (r *Rooms) CardChanged(ctx context.Context, inc *incident.Incident) {
	if inc.Room == "" {
		return
	}
	st, err := r.rdb.HGetAll(ctx, r.keyInc(inc.ID)).Result()
	if err != nil {
		return
	}
	// The archive first: once the announcement says resolved, it is due.
	switch {
	case r.cfg.ArchiveAfter <= 0 || st["archived"] != "":
	case inc.Status == incident.Resolved:
		at := inc.ResolvedAt.Add(r.cfg.ArchiveAfter)
		r.rdb.ZAddNX(ctx, r.keyDue(), redis.Z{Score: float64(at.UnixMilli()), Member: inc.ID})
	default:
		r.rdb.ZRem(ctx, r.keyDue(), inc.ID) // reopened: the channel stays
	}
	if st["announce_ts"] != "" && st["status"] != Progress(inc) {
		if err := r.chat.Reannounce(ctx, st["announce_ch"], st["announce_ts"], inc); err != nil {
			r.log.WithError(err).WithField("incident", inc.ID).Warn("could not update the incident channel's announcement")
		} else {
			r.rdb.HSet(ctx, r.keyInc(inc.ID), "status", Progress(inc))
		}
	}
	if c := inc.Commander; c != nil && c.ID != "" && st["commander"] != c.ID {
		r.invite(ctx, inc, []string{c.ID})
		r.rdb.HSet(ctx, r.keyInc(inc.ID), "commander", c.ID)
	}
}

// IncidentOf is the incident whose channel this is ("" for any other).
func (r *Rooms) IncidentOf(ctx context.Context, channel string) (string, error) {
	if channel == "" {
		return "", nil
	}
	id, err := r.rdb.Get(ctx, r.keyChannel(channel)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return id, err
}

// ArchiveDue archives the channels whose delay after resolve has passed
// (run by the 1 s sweep on every replica): each is claimed by removing it
// from the due set, so one replica archives it. An incident reopened since
// keeps its channel.
func (r *Rooms) ArchiveDue(ctx context.Context) error {
	now := r.now()
	ids, err := r.rdb.ZRangeByScore(ctx, r.keyDue(), &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 10}).Result()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if n, err := r.rdb.ZRem(ctx, r.keyDue(), id).Result(); err != nil || n == 0 {
			continue // another replica took it
		}
		inc, err := r.store.Current(ctx, id)
		if err != nil || inc.Status != incident.Resolved || inc.Room == "" {
			continue
		}
		if err := r.chat.Archive(ctx, inc.Room); err != nil {
			switch {
			case errors.Is(err, ErrArchiveRefused):
				r.log.WithError(err).WithField("incident", id).Warn("the incident channel cannot be archived by the bot; archive it by hand")
				r.rdb.HSet(ctx, r.keyInc(id), "archived", "refused")
			default:
				r.log.WithError(err).WithField("incident", id).Warn("archiving the incident channel failed; retrying in a minute")
				r.rdb.ZAdd(ctx, r.keyDue(), redis.Z{Score: float64(now.Add(time.Minute).UnixMilli()), Member: id})
			}
			continue
		}
		r.rdb.HSet(ctx, r.keyInc(id), "archived", now.UTC().Format(time.RFC3339))
		origin, _ := r.rdb.HGet(ctx, r.keyInc(id), "origin").Result()
		if _, err := r.store.Update(ctx, id, incident.RoomArchived(incident.Person{Name: "clerk-incident"}, cmp.Or(origin, r.cfg.Main))); err != nil {
			r.log.WithError(err).WithField("incident", id).Warn("could not record the archived channel on the incident")
		}
		r.log.WithField("incident", id).Info("incident channel archived")
	}
	return nil
}
