package fakeslack

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// groupState is what usergroups.users.update and users.info's time zone
// keep, as Slack documents them.
type groupState struct {
	tz         map[string]string // user → IANA zone (users.info tz)
	restricted map[string]bool   // group → only admins may edit it (permission_denied)
	updates    []GroupUpdate
}

// GroupUpdate is one accepted usergroups.users.update.
type GroupUpdate struct {
	Group string
	Users []string
}

// defaultTZ is the zone Slack gives a user who never set one.
const defaultTZ = "America/Los_Angeles"

func (s *Server) groupsLocked() *groupState {
	if s.groupEdits == nil {
		s.groupEdits = &groupState{tz: map[string]string{}, restricted: map[string]bool{}}
	}
	return s.groupEdits
}

// SetTimeZone sets the time zone users.info gives a user (tz, tz_label,
// tz_offset in seconds east of UTC).
func (s *Server) SetTimeZone(user, tz string) {
	s.mu.Lock()
	s.groupsLocked().tz[user] = tz
	s.mu.Unlock()
}

// RestrictGroupEdits makes usergroups.users.update on the group answer
// permission_denied, as a workspace that keeps group edits to admins.
func (s *Server) RestrictGroupEdits(group string) {
	s.mu.Lock()
	s.groupsLocked().restricted[group] = true
	s.mu.Unlock()
}

// GroupUpdates are the accepted usergroups.users.update calls, oldest first.
func (s *Server) GroupUpdates() []GroupUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.groupsLocked().updates)
}

// Group is a user group's members now.
func (s *Server) Group(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.groups[id])
}

// timeZoneOf is users.info's tz, tz_label and tz_offset; the caller holds s.mu.
func (s *Server) timeZoneOf(user string) (string, string, int) {
	tz := s.groupsLocked().tz[user]
	if tz == "" {
		tz = defaultTZ
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return tz, tz, 0
	}
	name, off := time.Now().In(loc).Zone()
	return tz, name, off
}

// apiUsergroupsUsersUpdate answers usergroups.users.update (scope
// usergroups:write): it replaces the group's members; the caller holds s.mu.
func (s *Server) apiUsergroupsUsersUpdate(w http.ResponseWriter, _ *http.Request, f url.Values) {
	g := s.groupsLocked()
	id := f.Get("usergroup")
	var users []string
	for _, u := range strings.Split(f.Get("users"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	_, exists := s.groups[id]
	switch {
	case !slices.Contains(s.roomsLocked().scopes, "usergroups:write"):
		writeJSON(w, map[string]any{"ok": false, "error": "missing_scope", "needed": "usergroups:write", "provided": s.scopeHeader()})
	case id == "" || !exists:
		writeJSON(w, map[string]any{"ok": false, "error": "no_such_subteam"})
	case g.restricted[id]:
		writeJSON(w, map[string]any{"ok": false, "error": "permission_denied"})
	case len(users) == 0:
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_users"})
	default:
		for _, u := range users {
			if _, gone := s.gone[u]; gone || !strings.HasPrefix(u, "U") && !strings.HasPrefix(u, "W") {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_users"})
				return
			}
		}
		s.groups[id] = users
		g.updates = append(g.updates, GroupUpdate{Group: id, Users: slices.Clone(users)})
		writeJSON(w, map[string]any{"ok": true, "usergroup": map[string]any{"id": id, "team_id": "T1", "is_usergroup": true,
			"handle": s.handles[id], "users": users, "user_count": len(users), "date_update": time.Now().Unix()}})
	}
}
