package handlers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/escalation"
)

// GroupLister expands a Slack user group into its members, and names
// the groups by @handle.
type GroupLister interface {
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
	GroupHandles(ctx context.Context) (map[string]string, error)
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
	// handles names groups for people (usergroups.list, Tier 2), cached
	// as the members are.
	handles        map[string]string
	handlesFetched time.Time
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

// Named names who may act for a person: users as mentions (Slack shows
// their names), groups by @handle, never a raw S… ID. A group whose
// handle cannot be read is "a Slack user group".
func (a *Authorizer) Named(ctx context.Context) string {
	var parts []string
	for _, u := range slices.Sorted(maps.Keys(a.users)) {
		parts = append(parts, "<@"+u+">")
	}
	if len(a.groups) > 0 {
		handles := a.groupHandles(ctx)
		for _, g := range a.groups {
			if h := handles[g]; h != "" {
				parts = append(parts, "@"+h)
			} else {
				parts = append(parts, a.unnamedGroup(ctx, g))
			}
		}
	}
	if len(parts) > 8 {
		return fmt.Sprintf("%d listed responders", len(parts))
	}
	return strings.Join(parts, ", ")
}

// unnamedGroup names a group whose handle cannot be read by some of its
// members (cached), so a refused person has someone to ask.
func (a *Authorizer) unnamedGroup(ctx context.Context, g string) string {
	members, err := a.members(ctx, g)
	if err != nil || len(members) == 0 {
		return "a Slack user group"
	}
	ids := slices.Sorted(maps.Keys(members))
	var names []string
	for _, u := range ids[:min(len(ids), 3)] {
		names = append(names, "<@"+u+">")
	}
	if len(ids) > 3 {
		names = append(names, fmt.Sprintf("%d more", len(ids)-3))
	}
	return "a Slack user group: " + strings.Join(names, ", ")
}

// groupHandles is the cached handle of every group; a failed refresh
// keeps the last known handles.
func (a *Authorizer) groupHandles(ctx context.Context) map[string]string {
	a.mu.Lock()
	h, at := a.handles, a.handlesFetched
	a.mu.Unlock()
	if h != nil && a.now().Sub(at) < a.ttl {
		return h
	}
	fresh, err := a.lister.GroupHandles(ctx)
	if err != nil {
		if h == nil { // not asked again until the TTL: refusals do not hammer a Tier 2 method
			a.mu.Lock()
			a.handles, a.handlesFetched = map[string]string{}, a.now()
			a.mu.Unlock()
		}
		return h
	}
	a.mu.Lock()
	a.handles, a.handlesFetched = fresh, a.now()
	a.mu.Unlock()
	return fresh
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

// Among reports whether user is one of ids, directly or as a member of
// one of its user groups (cached as the responders' groups are). It is
// how a person paged by an incident's ladder may act on that incident.
func (a *Authorizer) Among(ctx context.Context, user string, ids []string) (bool, error) {
	var firstErr error
	for _, id := range ids {
		if id == user {
			return true, nil
		}
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "S") {
			continue
		}
		members, err := a.members(ctx, id)
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

// Covers reports whether a contact (a user, or every member of a user
// group) is a responder. Start-up uses it to warn about ladder contacts
// who may act only on incidents whose ladder names them.
func (a *Authorizer) Covers(ctx context.Context, id string) (bool, error) {
	if a.Open() || a.users[id] {
		return true, nil
	}
	if !strings.HasPrefix(id, "S") {
		return a.Allowed(ctx, id)
	}
	if slices.Contains(a.groups, id) {
		return true, nil
	}
	members, err := a.members(ctx, id)
	if err != nil {
		return false, err
	}
	for u := range members {
		if ok, err := a.Allowed(ctx, u); !ok || err != nil {
			return false, err
		}
	}
	return true, nil
}

// Outside lists the ladder's contacts who are not responders, once each,
// named from names (the rung's contact otherwise). They may still act on
// the incidents whose ladder pages them, and on no other.
func (a *Authorizer) Outside(ctx context.Context, l escalation.Ladder, names map[string]string) []escalation.Problem {
	if a.Open() {
		return nil
	}
	var out []escalation.Problem
	seen := map[string]bool{}
	for _, r := range l.Rungs {
		for _, id := range r.Targets {
			if seen[id] {
				continue
			}
			seen[id] = true
			ok, err := a.Covers(ctx, id)
			if ok {
				continue
			}
			name := names[id]
			if name == "" {
				name = r.Name
			}
			why := "not in SLACK_RESPONDERS"
			if err != nil {
				why = "could not be checked against SLACK_RESPONDERS: " + err.Error()
			}
			out = append(out, escalation.Problem{ID: id, Name: name, Why: why})
		}
	}
	return out
}
