package app

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/commands"
	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/publish"
	"github.com/clerk-incident-bot/clerk-incident-bot/rooms"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
	"github.com/redis/go-redis/v9"
)

// grantedScopes keeps the scopes Slack last said the bot token has
// (X-OAuth-Scopes on auth.test).
type grantedScopes struct {
	mu     sync.Mutex
	scopes string
	seen   bool
}

func (g *grantedScopes) observe(path string, h http.Header) {
	if !strings.HasSuffix(path, "auth.test") {
		return
	}
	g.mu.Lock()
	g.scopes, g.seen = h.Get("X-OAuth-Scopes"), true
	g.mu.Unlock()
}

// checkRoomScopes fails start-up when INCIDENT_CHANNELS is on and the
// token cannot create the channels; unknown scopes (auth.test did not
// answer) are not held against it.
func checkRoomScopes(cfg Config, g *grantedScopes) error {
	g.mu.Lock()
	scopes, seen := g.scopes, g.seen
	g.mu.Unlock()
	if !cfg.Rooms || !seen {
		return nil
	}
	feature := "INCIDENT_CHANNELS=on"
	if cfg.RoomsPrivate {
		feature += " with INCIDENT_CHANNELS_PRIVATE=on"
	}
	if missing := bot.MissingScopes(scopes, publish.ChannelScopes(cfg.RoomsPrivate)...); len(missing) > 0 {
		return bot.ScopeError(feature, missing)
	}
	return nil
}

// roomHooks are how the incident channels hook into the other parts: the
// card watcher, the opener's and the engine's options, the channel lookup
// and the archive sweep; all empty when the option is off or Slack cannot
// be reached (the CLI).
type roomHooks struct {
	watch   publish.CardWatcher
	open    []usecase.Option
	lookup  commands.RoomLookup
	engine  []escalation.Option
	archive func(ctx context.Context) error
}

func newRooms(ctx context.Context, cfg Config, opt Options, rdb redis.UniversalClient, store *incident.Store, out slackSide, strict bool, log logrus.FieldLogger) roomHooks {
	if !cfg.Rooms || !strict { // the CLI cannot reach Slack: incidents open in the main channel
		return roomHooks{}
	}
	var invite []string
	for _, id := range cfg.RoomInvite {
		if strings.HasPrefix(id, "@") {
			lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			resolved, err := out.LookupHandle(lctx, id)
			cancel()
			if err != nil {
				log.WithError(err).WithField("handle", id).Warn("INCIDENT_CHANNEL_INVITE: handle not found; not invited")
				continue
			}
			id = resolved
		}
		invite = append(invite, id)
	}
	r := rooms.New(rdb, cfg.RedisPrefix, rooms.Config{Main: cfg.Channel, Private: cfg.RoomsPrivate, Invite: invite, ArchiveAfter: cfg.ArchiveAfter, GroupTTL: cfg.GroupCacheTTL},
		publish.NewChannels(out), store, opt.Now, log.WithField("component", "rooms"))
	return roomHooks{watch: r, open: []usecase.Option{usecase.WithRooms(r)}, lookup: r, engine: []escalation.Option{escalation.WithPaged(r)}, archive: r.ArchiveDue}
}
