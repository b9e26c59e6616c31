package publish

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/sirupsen/logrus"
)

// UserNames asks Slack how a user is shown (users.info: the profile's
// display name, else real name, else handle).
type UserNames interface {
	DisplayName(ctx context.Context, user string) (string, error)
}

// How long a name from Slack is kept, and how long a failed look-up is
// not retried (the person keeps their contacts.yml name or handle).
const (
	nameTTL     = time.Hour
	nameFailTTL = 5 * time.Minute
	nameTimeout = 2 * time.Second
)

// Names gives each person the one name they go by, from Slack (cached)
// or contacts.yml.
type Names struct {
	users UserNames
	names map[string]string // contacts.yml
	mu    sync.Mutex
	cache map[string]cachedName // user → Slack display name
	log   logrus.FieldLogger
	now   func() time.Time
}

type cachedName struct {
	name  string
	until time.Time
}

// Person gives who the one name they go by everywhere on an incident, so
// the timeline and the report name each person one way whether they came
// from a slash command (user_name is a handle such as "alice"), a button,
// contacts.yml or a page: their Slack display name (cached), else their
// contacts.yml name, else the name they came with. CLI operators and
// components (the status poller) keep theirs.
func (na *Names) Person(ctx context.Context, who incident.Person) incident.Person {
	if !slackUser(who.ID) {
		return who
	}
	if n := na.displayName(ctx, who.ID); n != "" {
		who.Name = n
	} else if n := na.names[who.ID]; n != "" {
		who.Name = n
	}
	return who
}

// Name is a paged person's (or a user group's) name in the timeline: the
// same as Person's, else the contacts.yml name, else the ID.
func (na *Names) Name(ctx context.Context, id string) string {
	if n := na.Person(ctx, incident.Person{ID: id}).Name; n != "" {
		return n
	}
	if n := na.names[id]; n != "" {
		return n // a user group named in contacts.yml
	}
	return id
}

func slackUser(id string) bool { return strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W") }

// displayName asks Slack once an hour per person; a failure is not asked
// again for a few minutes and never holds a command up for long.
func (na *Names) displayName(ctx context.Context, id string) string {
	if na.users == nil {
		return ""
	}
	now := na.now()
	na.mu.Lock()
	c, ok := na.cache[id]
	na.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.name
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), nameTimeout)
	defer cancel()
	n, err := na.users.DisplayName(lctx, id)
	c = cachedName{name: strings.TrimSpace(n), until: now.Add(nameTTL)}
	if err != nil {
		na.log.WithError(err).WithField("user", id).Debug("users.info failed; using the name we have")
		c = cachedName{until: now.Add(nameFailTTL)}
	}
	na.mu.Lock()
	na.cache[id] = c
	na.mu.Unlock()
	return c.name
}
