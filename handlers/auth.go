package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// GroupLister expands a Slack user group into its members.
type GroupLister interface {
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Authorizer decides who may change state: users listed in
// SLACK_RESPONDERS directly or through a user group. Group membership is
// cached (usergroups.users.list is Tier 2) and refreshed every TTL; a
// failed refresh keeps the last known members.
type Authorizer struct {
	users  map[string]bool
	groups []string
	lister GroupLister
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]groupEntry
}

type groupEntry struct {
	members map[string]bool
	fetched time.Time
}

// NewAuthorizer takes the responder IDs (U…/W… users, S… groups). An empty
// list lets everyone act.
func NewAuthorizer(ids []string, lister GroupLister, ttl time.Duration, now func() time.Time) *Authorizer {
	a := &Authorizer{users: map[string]bool{}, lister: lister, ttl: ttl, now: now, cache: map[string]groupEntry{}}
	for _, id := range ids {
		if strings.HasPrefix(id, "S") {
			a.groups = append(a.groups, id)
		} else {
			a.users[id] = true
		}
	}
	return a
}

// Open reports whether everyone may act.
func (a *Authorizer) Open() bool { return len(a.users) == 0 && len(a.groups) == 0 }

// Allowed reports whether user may run state-changing subcommands.
func (a *Authorizer) Allowed(ctx context.Context, user string) (bool, error) {
	if a.Open() || a.users[user] {
		return true, nil
	}
	var firstErr error
	for _, g := range a.groups {
		members, err := a.members(ctx, g)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if members[user] {
			return true, nil
		}
	}
	return false, firstErr
}

// Describe names who may act, for refusal messages.
func (a *Authorizer) Describe() string {
	var parts []string
	for u := range a.users {
		parts = append(parts, "<@"+u+">")
	}
	for _, g := range a.groups {
		parts = append(parts, "<!subteam^"+g+">")
	}
	if len(parts) > 8 {
		return fmt.Sprintf("%d listed responders", len(parts))
	}
	return strings.Join(parts, ", ")
}

func (a *Authorizer) members(ctx context.Context, group string) (map[string]bool, error) {
	a.mu.Lock()
	e, ok := a.cache[group]
	a.mu.Unlock()
	if ok && a.now().Sub(e.fetched) < a.ttl {
		return e.members, nil
	}
	list, err := a.lister.GroupMembers(ctx, group)
	if err != nil {
		if ok {
			return e.members, nil
		}
		return nil, fmt.Errorf("read members of user group %s: %w", group, err)
	}
	m := make(map[string]bool, len(list))
	for _, u := range list {
		m[u] = true
	}
	a.mu.Lock()
	a.cache[group] = groupEntry{members: m, fetched: a.now()}
	a.mu.Unlock()
	return m, nil
}
