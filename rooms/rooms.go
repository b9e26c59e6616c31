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

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// Slack is what rooms need of Slack (bot.Slack, paced).
type Slack interface {
	CreateChannel(ctx context.Context, name string, private bool) (string, error)
	Invite(ctx context.Context, channel string, users []string) ([]bot.InviteFailure, error)
	Archive(ctx context.Context, channel string) error
	Post(ctx context.Context, channel, threadTS string, m bot.Msg) (string, error)
	Update(ctx context.Context, channel, ts string, m bot.Msg) error
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

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
	slack  Slack
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
func New(rdb redis.UniversalClient, prefix string, cfg Config, slack Slack, store Store, now func() time.Time, log logrus.FieldLogger) *Rooms {
	if cfg.GroupTTL <= 0 {
		cfg.GroupTTL = 5 * time.Minute
	}
	return &Rooms{rdb: rdb, prefix: prefix, cfg: cfg, slack: slack, store: store, now: now, log: log, groups: map[string]cachedGroup{}}
}

// Scopes are the bot token scopes the option needs.
func Scopes(private bool) []string {
	if private {
		return []string{"groups:write"}
	}
	return []string{"channels:manage"}
}

func (r *Rooms) keyInc(id string) string    { return r.prefix + "rooms:incident:" + id }
func (r *Rooms) keyChannel(c string) string { return r.prefix + "rooms:channel:" + c }
func (r *Rooms) keyDue() string             { return r.prefix + "rooms:archive:due" }

// maxTries bounds the name_taken suffixes tried (name-2 … name-20).
const maxTries = 20

// Opened gives a new incident its channel before its card is posted: it
// creates the channel, records it on the incident (the card and thread go
// there), invites the opener and the configured people, and
// posts the announcement in the main channel. When Slack refuses, the
// incident stays in the main channel and note says why (for its thread).
func (r *Rooms) Opened(ctx context.Context, inc *incident.Incident) (*incident.Incident, string) {
	origin := cmp.Or(inc.Channel, r.cfg.Main)
	base := Name(incident.Number(inc.ID), inc.Title)
	name := base
	var id string
	var err error
	for k := 1; k <= maxTries; k++ {
		if k > 1 {
			name = WithSuffix(base, k)
		}
		id, err = r.slack.CreateChannel(ctx, name, r.cfg.Private)
		if bot.SlackCode(err) != "name_taken" {
			break
		}
	}
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
	switch code := bot.SlackCode(err); code {
	case "restricted_action":
		return "restricted_action: the workspace lets only some people create channels; ask an admin to allow the app, or set INCIDENT_CHANNELS=off"
	case "name_taken":
		return fmt.Sprintf("name_taken: %d names with suffixes were taken", maxTries)
	case "missing_scope":
		return "missing_scope: the bot token lacks channels:manage (groups:write for private channels)"
	case "":
		if errors.Is(err, bot.ErrBusy) {
			return "Slack is busy: the bot's share of its rate limit is spent"
		}
		return "Slack did not answer"
	default:
		return code
	}
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
	failed, err := r.slack.Invite(ctx, inc.Room, users)
	if err != nil {
		r.log.WithError(err).WithField("incident", inc.ID).Warn("could not invite people to the incident channel")
		return
	}
	for _, f := range failed {
		if f.Error == "already_in_channel" || f.Error == "cant_invite_self" {
			continue
		}
		r.log.WithFields(logrus.Fields{"incident": inc.ID, "user": f.User, "why": f.Error}).Warn("could not invite someone to the incident channel")
	}
}

// stateOf is what the announcement shows of the incident's progress:
// its status, and whether someone acknowledged it.
func stateOf(inc *incident.Incident) string {
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
	members, err := r.slack.GroupMembers(ctx, group)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.groups[group] = cachedGroup{members: members, at: time.Now()}
	r.mu.Unlock()
	return members, nil
}

// AnnounceText is the main channel's line about an incident with a room.
func AnnounceText(inc *incident.Incident) string {
	icon := map[string]string{"resolved": ":white_check_mark:", "mitigated": ":large_yellow_circle:", "acknowledged": ":eyes:"}[stateOf(inc)]
	if icon == "" {
		icon = ":rotating_light:"
	}
	state := stateOf(inc)
	if state == "acknowledged" {
		state += " by " + mrkdwnEscape(inc.AckedBy.Display())
	}
	return fmt.Sprintf("%s *%s* (%s, %s) %s — %s. Follow it in <#%s>.", icon, inc.ID, inc.Severity, inc.Category,
		mrkdwnEscape(inc.Title), state, inc.Room)
}

func mrkdwnEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// announce posts the line in the main channel once.
func (r *Rooms) announce(ctx context.Context, inc *incident.Incident, main string) {
	if main == "" {
		return
	}
	ts, err := r.slack.Post(ctx, main, "", bot.Msg{Text: AnnounceText(inc)})
	if err != nil {
		r.log.WithError(err).WithField("incident", inc.ID).Warn("could not announce the incident channel")
		return
	}
	r.rdb.HSet(ctx, r.keyInc(inc.ID), "announce_ch", main, "announce_ts", ts, "status", stateOf(inc))
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
	if st["announce_ts"] != "" && st["status"] != stateOf(inc) {
		if err := r.slack.Update(ctx, st["announce_ch"], st["announce_ts"], bot.Msg{Text: AnnounceText(inc)}); err != nil {
			r.log.WithError(err).WithField("incident", inc.ID).Warn("could not update the incident channel's announcement")
		} else {
			r.rdb.HSet(ctx, r.keyInc(inc.ID), "status", stateOf(inc))
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
		if err := r.slack.Archive(ctx, inc.Room); err != nil {
			switch bot.SlackCode(err) {
			case "not_in_channel", "channel_not_found", "cant_archive_general", "cant_archive_required", "restricted_action":
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
