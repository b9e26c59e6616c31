package fakeslack

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Channel is a channel made with conversations.create.
type Channel struct {
	ID, Name string
	Private  bool
	Archived bool
	Members  []string // the bot (UBOT) first
}

// roomState is what conversations.create/invite/archive keep.
type roomState struct {
	byID       map[string]*Channel
	order      []string
	restricted bool     // workspace forbids the bot to create channels
	scopes     []string // the bot token's scopes, as auth.test tells them
}

// defaultScopes are the manifest's scopes (slack-app-manifest.yml).
var defaultScopes = []string{"commands", "chat:write", "im:write", "mpim:write", "users:read", "users:read.email", "usergroups:read",
	"files:write", "channels:read", "groups:read", "channels:manage", "groups:write", "usergroups:write"}

func (s *Server) roomsLocked() *roomState {
	if s.rooms == nil {
		s.rooms = &roomState{byID: map[string]*Channel{}, scopes: defaultScopes}
	}
	return s.rooms
}

// RestrictChannelCreation makes conversations.create answer
// restricted_action, as a workspace that lets only admins create channels.
func (s *Server) RestrictChannelCreation(on bool) {
	s.mu.Lock()
	s.roomsLocked().restricted = on
	s.mu.Unlock()
}

// SetScopes sets the scopes auth.test reports in X-OAuth-Scopes.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	s.roomsLocked().scopes = scopes
	s.mu.Unlock()
}

// AddChannel makes a channel exist already (a name taken before the bot
// asks for it).
func (s *Server) AddChannel(id, name string) {
	s.mu.Lock()
	r := s.roomsLocked()
	r.byID[id] = &Channel{ID: id, Name: name}
	r.order = append(r.order, id)
	s.mu.Unlock()
}

// Channels returns the channels created or added, oldest first (copies).
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.roomsLocked()
	var out []Channel
	for _, id := range r.order {
		c := *r.byID[id]
		c.Members = slices.Clone(c.Members)
		out = append(out, c)
	}
	return out
}

func (s *Server) scopeHeader() string {
	return strings.Join(s.roomsLocked().scopes, ",")
}

var channelName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// apiConversationsCreate answers conversations.create; the caller holds s.mu.
func (s *Server) apiConversationsCreate(w http.ResponseWriter, _ *http.Request, f url.Values) {
	r := s.roomsLocked()
	name := f.Get("name")
	private := f.Get("is_private") == "true"
	need := "channels:manage"
	if private {
		need = "groups:write"
	}
	switch {
	case !slices.Contains(r.scopes, need):
		writeJSON(w, map[string]any{"ok": false, "error": "missing_scope", "needed": need})
	case name == "":
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_name_required"})
	case len(name) > 80:
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_name_maxlength"})
	case strings.ToLower(name) != name || strings.ContainsAny(name, " .,!?'\"#@"):
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_name_punctuation"})
	case !channelName.MatchString(name):
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_name_specials"})
	case r.restricted:
		writeJSON(w, map[string]any{"ok": false, "error": "restricted_action"})
	case s.channelNamed(name) != nil:
		writeJSON(w, map[string]any{"ok": false, "error": "name_taken"})
	default:
		s.seq++
		c := &Channel{ID: fmt.Sprintf("CR%06d", s.seq), Name: name, Private: private, Members: []string{"UBOT"}}
		r.byID[c.ID] = c
		r.order = append(r.order, c.ID)
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": c.ID, "name": name, "is_channel": !private,
			"is_group": private, "is_private": private, "is_member": true, "is_archived": false}})
	}
}

// apiConversationsInvite answers conversations.invite; the caller holds s.mu.
func (s *Server) apiConversationsInvite(w http.ResponseWriter, _ *http.Request, f url.Values) {
	r := s.roomsLocked()
	c, ok := r.byID[f.Get("channel")]
	switch {
	case !ok:
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	case c.Archived:
		writeJSON(w, map[string]any{"ok": false, "error": "is_archived"})
		return
	case !slices.Contains(c.Members, "UBOT"):
		writeJSON(w, map[string]any{"ok": false, "error": "not_in_channel"})
		return
	}
	users := strings.Split(f.Get("users"), ",")
	if f.Get("users") == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "no_user"})
		return
	}
	var errs []map[string]any
	var add []string
	for _, u := range users {
		u = strings.TrimSpace(u)
		code := ""
		switch _, gone := s.gone[u]; {
		case u == "UBOT":
			code = "cant_invite_self"
		case gone || !strings.HasPrefix(u, "U") && !strings.HasPrefix(u, "W"):
			code = "user_not_found"
		case slices.Contains(c.Members, u) || slices.Contains(add, u):
			code = "already_in_channel"
		}
		if code != "" {
			errs = append(errs, map[string]any{"user": u, "ok": false, "error": code})
			continue
		}
		add = append(add, u)
	}
	// Without force one failure fails the whole call; with force the
	// others are added and the failures still listed.
	if len(errs) == 0 || f.Get("force") == "true" {
		c.Members = append(c.Members, add...)
	}
	if len(errs) > 0 {
		writeJSON(w, map[string]any{"ok": false, "error": errs[0]["error"], "errors": errs})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": c.ID, "name": c.Name}})
}

// apiConversationsArchive answers conversations.archive; the caller holds s.mu.
func (s *Server) apiConversationsArchive(w http.ResponseWriter, _ *http.Request, f url.Values) {
	r := s.roomsLocked()
	c, ok := r.byID[f.Get("channel")]
	switch {
	case !ok:
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
	case c.Archived:
		writeJSON(w, map[string]any{"ok": false, "error": "already_archived"})
	case !slices.Contains(c.Members, "UBOT"):
		writeJSON(w, map[string]any{"ok": false, "error": "not_in_channel"})
	default:
		c.Archived = true
		if s.chans == nil {
			s.chans = map[string]string{}
		}
		s.chans[c.ID] = "is_archived" // posting there now answers is_archived
		writeJSON(w, map[string]any{"ok": true})
	}
}

func (s *Server) channelNamed(name string) *Channel {
	for _, c := range s.rooms.byID {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// AddGuest adds a guest: users.info says is_restricted (a multi-channel
// guest) or, when single, is_ultra_restricted (a single-channel guest),
// as Slack does.
func (s *Server) AddGuest(id, name string, single bool) {
	s.mu.Lock()
	s.users[id] = name
	s.guests[id] = single
	s.mu.Unlock()
}

// SetMembers sets who is in a channel the bot did not create
// (conversations.members). Unset, every user added is a member.
func (s *Server) SetMembers(channel string, users ...string) {
	s.mu.Lock()
	s.members[channel] = slices.Clone(users)
	s.mu.Unlock()
}

// membersLocked lists a channel's members, the bot first; the caller
// holds s.mu.
func (s *Server) membersLocked(channel string) []string {
	if c, ok := s.roomsLocked().byID[channel]; ok {
		return slices.Clone(c.Members)
	}
	if m, ok := s.members[channel]; ok {
		return append([]string{"UBOT"}, m...)
	}
	return append([]string{"UBOT"}, slices.Sorted(maps.Keys(s.users))...)
}

// apiConversationsMembers answers conversations.members: the members a
// page at a time (limit, default 100; an opaque next_cursor).
func (s *Server) apiConversationsMembers(w http.ResponseWriter, r *http.Request, f url.Values) {
	ch := f.Get("channel")
	if p := s.chans[ch]; p == "channel_not_found" {
		writeJSON(w, map[string]any{"ok": false, "error": p})
		return
	}
	all := s.membersLocked(ch)
	limit, _ := strconv.Atoi(f.Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start := 0
	if c := f.Get("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		n, aerr := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || aerr != nil || n < 0 || n > len(all) {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_cursor"})
			return
		}
		start = n
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	writeJSON(w, map[string]any{"ok": true, "members": all[start:end], "response_metadata": map[string]any{"next_cursor": next}})
}
