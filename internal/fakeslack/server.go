// Package fakeslack is an in-process Slack for tests and the sandbox: the
// Web API methods the bot calls, form-encoded as slack-go sends them, and a
// Socket Mode websocket that sends envelopes and records acks with their
// latency. The real slack-go client runs against it unchanged.
package fakeslack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Message is a message as the channel shows it now, with its history.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	// User is set for ephemeral messages: only they see it.
	User      string
	Ephemeral bool
	Text      string
	Blocks    json.RawMessage
	Versions  int // 1 + number of chat.update calls
	Broadcast bool

	seen bool
	// used marks the lines of a plain thread message that an expectation
	// matched: the bot merges thread lines that wait together into one
	// message, and each expectation consumes the lines it names.
	used []bool
}

// File is an uploaded file shared to a channel or thread.
type File struct {
	ID, Title, Name, Channel, ThreadTS, Comment string
	Content                                     string
}

// Ack is a Socket Mode acknowledgement as received.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage
	Latency    time.Duration
}

// Event is what the sandbox prints: a post, an update or a file.
type Event struct {
	Kind    string // "post", "update", "ephemeral", "file"
	Message *Message
	File    *File
}

// Server is the fake Slack.
type Server struct {
	BotToken string
	AppToken string

	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu           sync.Mutex
	cond         *sync.Cond
	seq          int
	messages     []*Message
	files        []*File
	pendingUp    map[string]*File
	acks         map[string]Ack
	envelopes    map[string]map[string]any
	sent         map[string]time.Time
	envelopeOf   map[string]string    // response_url key → envelope ID
	replied      map[string]time.Time // envelope ID → first reply on its response_url
	conns        []*wsConn
	responses    map[string]respTarget
	users        map[string]string
	profiles     map[string][2]string // user ID → profile display_name, real_name
	guests       map[string]bool      // user ID → a guest: single-channel (true) or multi-channel (AddGuest)
	members      map[string][]string  // channel ID → members (SetMembers)
	groupDMs     map[string][]string  // group DM ID → its users (conversations.open with several)
	groups       map[string][]string
	handles      map[string]string  // group ID → handle
	emails       map[string]string  // e-mail → user ID
	gone         map[string]string  // user ID → the error Slack gives for them (user_not_found, user_disabled, …)
	chans        map[string]string  // channel ID → not_in_channel, channel_not_found, is_archived or restricted_action
	rateLimited  map[string]int     // method → number of 429s still to give
	limits       bool               // Slack's per-method rate limits (on unless Unlimited)
	latency      time.Duration      // added to every call (SetLatency)
	holds        []replyHold        // chat.postMessage answers held back (HoldPostReplies)
	misrendered  []string           // messages with a bare < (Misrendered)
	throttle     map[string]int     // channel → Retry-After seconds for every chat.postMessage there (Throttle)
	throttleAll  map[string]int     // method → Retry-After seconds for every call of it (ThrottleMethod)
	triggers     map[string]trigger // trigger_id → who clicked, when (views.open takes it for 3 s)
	slowTriggers bool               // every trigger_id has expired by the time views.open comes (ExpireTriggers)
	views        []*View
	rejected     []string           // every block list refused, with Slack's reason (Rejected)
	buckets      map[string]*bucket // method[/channel] → tokens
	throttled    int
	calls        map[string]int
	onEvent      func(Event)
	closed       bool
	rooms        *roomState  // conversations.create/invite/archive (rooms.go)
	groupEdits   *groupState // users' time zones, usergroups.users.update (groups.go)
}

type respTarget struct {
	user, channel, messageTS string
	uses                     int
}

type wsConn struct {
	c    *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}
}

// New starts a fake Slack on a loopback port.
func New() *Server {
	s := &Server{
		BotToken: "xoxb-fake-bot-token", AppToken: "xapp-fake-app-token",
		upgrader:    websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		pendingUp:   map[string]*File{},
		acks:        map[string]Ack{},
		envelopes:   map[string]map[string]any{},
		sent:        map[string]time.Time{},
		envelopeOf:  map[string]string{},
		replied:     map[string]time.Time{},
		responses:   map[string]respTarget{},
		users:       map[string]string{},
		profiles:    map[string][2]string{},
		guests:      map[string]bool{},
		members:     map[string][]string{},
		groupDMs:    map[string][]string{},
		groups:      map[string][]string{},
		handles:     map[string]string{},
		emails:      map[string]string{},
		rateLimited: map[string]int{},
		calls:       map[string]int{},
		limits:      true,
	}
	s.cond = sync.NewCond(&s.mu)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/ws", s.handleWS)
	mux.HandleFunc("/upload/", s.handleUpload)
	mux.HandleFunc("/response/", s.handleResponse)
	s.srv = httptest.NewServer(mux)
	return s
}

// APIURL is what SLACK_API_URL should be set to.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// Close stops the server and its sockets.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.cond.Broadcast()
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.c.Close()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// OnEvent registers a callback for every post, update and file (sandbox).
func (s *Server) OnEvent(f func(Event)) {
	s.mu.Lock()
	s.onEvent = f
	s.mu.Unlock()
}

// AddUser names a user for users.info.
func (s *Server) AddUser(id, name string) {
	s.mu.Lock()
	s.users[id] = name
	s.mu.Unlock()
}

// SetProfile gives a user the profile users.info shows: a display name
// (often empty in Slack: then people see the real name) and a real name.
// Payloads keep carrying the handle AddUser gave (user_name).
func (s *Server) SetProfile(id, displayName, realName string) {
	s.mu.Lock()
	s.profiles[id] = [2]string{displayName, realName}
	s.mu.Unlock()
}

// SetGroup sets a user group's members for usergroups.users.list.
func (s *Server) SetGroup(id string, members ...string) {
	s.mu.Lock()
	s.groups[id] = members
	s.mu.Unlock()
}

// RemoveUser makes a user unreachable as Slack does for a departed or
// deactivated one: conversations.open answers code (user_not_found,
// user_disabled, cannot_dm_bot, user_not_visible) and users.info says so.
func (s *Server) RemoveUser(id, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone == nil {
		s.gone = map[string]string{}
	}
	s.gone[id] = code
}

// SetChannel makes posts to a channel fail as Slack does when the bot is
// not a member (not_in_channel), the channel is gone (channel_not_found),
// archived (is_archived) or closed to bots (restricted_action); "" heals it.
func (s *Server) SetChannel(id, problem string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chans == nil {
		s.chans = map[string]string{}
	}
	s.chans[id] = problem
}

// SetEmail gives a user an e-mail address for users.lookupByEmail.
func (s *Server) SetEmail(id, email string) {
	s.mu.Lock()
	s.emails[strings.ToLower(email)] = id
	s.mu.Unlock()
}

// SetGroupHandle gives a user group an @handle for usergroups.list.
func (s *Server) SetGroupHandle(id, handle string) {
	s.mu.Lock()
	s.handles[id] = strings.TrimPrefix(handle, "@")
	s.mu.Unlock()
}

// RateLimit makes the next n calls of method answer 429 with Retry-After: 1.
// (Slack's Retry-After is in whole seconds.)
func (s *Server) RateLimit(method string, n int) {
	s.mu.Lock()
	s.rateLimited[method] = n
	s.mu.Unlock()
}

// Calls returns how many times a Web API method was called.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *Server) nextTS() string {
	s.seq++
	return fmt.Sprintf("1700000000.%06d", s.seq)
}

func (s *Server) emit(e Event) {
	if s.onEvent != nil {
		// Copies, so the callback never races with later updates.
		if e.Message != nil {
			m := *e.Message
			e.Message = &m
		}
		// Called under the lock, so events arrive in order; the callback
		// must not call back into the server.
		s.onEvent(e)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// handleAPI answers a Web API call: rate limits, auth, then the method.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	s.delay()
	if s.refuse(w, r, method) {
		return
	}

	if method == "apps.connections.open" {
		if r.Header.Get("Authorization") != "Bearer "+s.AppToken {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if token != s.BotToken {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	hw := &heldWriter{ResponseWriter: w}
	s.mu.Lock()
	answer, ok := s.apiMethods()[method]
	if !ok {
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
		return
	}
	answer(hw, r, r.PostForm)
	s.mu.Unlock()
	hw.flush()
}

// heldWriter keeps a method's answer until its hold is released
// (HoldPostReplies); without a hold it is written at once.
type heldWriter struct {
	http.ResponseWriter
	hold <-chan struct{}
	code int
	body bytes.Buffer
}

func (h *heldWriter) WriteHeader(code int)        { h.code = code }
func (h *heldWriter) Write(b []byte) (int, error) { return h.body.Write(b) }

func (h *heldWriter) flush() {
	if h.hold != nil {
		<-h.hold
	}
	if h.code != 0 {
		h.ResponseWriter.WriteHeader(h.code)
	}
	_, _ = h.ResponseWriter.Write(h.body.Bytes())
}

// HoldPostReplies lets every chat.postMessage whose text holds part land
// (people see it and may click it at once) but keeps the bot waiting for
// Slack's answer until release: in Slack a message can show before the
// poster hears its ts.
func (s *Server) HoldPostReplies(part string) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.holds = append(s.holds, replyHold{part: part, ch: ch})
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.holds = slices.DeleteFunc(s.holds, func(h replyHold) bool { return h.ch == ch })
			s.mu.Unlock()
			close(ch)
		})
	}
}

type replyHold struct {
	part string
	ch   chan struct{}
}

// refuse counts the call and answers 429 when the method, the channel or
// the tier's rate is limited.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, method string) bool {
	s.mu.Lock()
	s.calls[method]++
	if n := s.rateLimited[method]; n > 0 {
		s.rateLimited[method] = n - 1
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	if secs := s.throttleAll[method]; secs > 0 {
		s.throttled++
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	if method == "chat.postMessage" {
		_ = r.ParseForm()
		if secs := s.throttle[r.PostForm.Get("channel")]; secs > 0 {
			s.throttled++
			s.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
	}
	if wait := s.limited(method, r); wait > 0 {
		s.throttled++
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	s.mu.Unlock()
	return false
}

// apiMethods maps each Web API method the fake speaks to its handler;
// each runs with s.mu held and the form parsed.
func (s *Server) apiMethods() map[string]func(w http.ResponseWriter, r *http.Request, f url.Values) {
	return map[string]func(w http.ResponseWriter, r *http.Request, f url.Values){
		"auth.test":                    s.apiAuthTest,
		"conversations.create":         s.apiConversationsCreate,
		"conversations.invite":         s.apiConversationsInvite,
		"conversations.archive":        s.apiConversationsArchive,
		"views.open":                   s.apiViewsOpen,
		"views.update":                 s.apiViewsUpdate,
		"chat.postMessage":             s.apiChatPostMessage,
		"conversations.info":           s.apiConversationsInfo,
		"chat.update":                  s.apiChatUpdate,
		"chat.postEphemeral":           s.apiChatPostEphemeral,
		"conversations.open":           s.apiConversationsOpen,
		"conversations.members":        s.apiConversationsMembers,
		"users.info":                   s.apiUsersInfo,
		"users.lookupByEmail":          s.apiUsersLookupByEmail,
		"users.list":                   s.apiUsersList,
		"usergroups.list":              s.apiUsergroupsList,
		"usergroups.users.list":        s.apiUsergroupsUsersList,
		"usergroups.users.update":      s.apiUsergroupsUsersUpdate,
		"files.getUploadURLExternal":   s.apiFilesGetUploadURLExternal,
		"files.completeUploadExternal": s.apiFilesCompleteUploadExternal,
	}
}

// apiAuthTest answers auth.test.
func (s *Server) apiAuthTest(w http.ResponseWriter, r *http.Request, f url.Values) {
	w.Header().Set("X-OAuth-Scopes", s.scopeHeader())
	writeJSON(w, map[string]any{"ok": true, "user_id": "UBOT", "user": "clerk-incident", "team_id": "T1", "bot_id": "B1"})
}

// apiViewsOpen answers views.open.
func (s *Server) apiViewsOpen(w http.ResponseWriter, r *http.Request, f url.Values) {
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_json"})
		return
	}
	tr, ok := s.triggers[req.TriggerID]
	switch {
	case !ok:
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_trigger_id"})
		return
	case tr.used:
		// Slack takes each trigger_id once.
		writeJSON(w, map[string]any{"ok": false, "error": "exchanged_trigger_id"})
		return
	case time.Since(tr.at) > 3*time.Second || s.slowTriggers:
		writeJSON(w, map[string]any{"ok": false, "error": "expired_trigger_id"})
		return
	}
	if s.invalidView(w, "views.open", req.View) {
		return
	}
	tr.used = true
	s.triggers[req.TriggerID] = tr
	s.seq++
	v := &View{ID: fmt.Sprintf("V%06d", s.seq), User: tr.user, Raw: req.View}
	s.views = append(s.views, v)
	s.cond.Broadcast()
	writeJSON(w, map[string]any{"ok": true, "view": map[string]any{"id": v.ID}})
}

// apiViewsUpdate answers views.update.
func (s *Server) apiViewsUpdate(w http.ResponseWriter, r *http.Request, f url.Values) {
	var req struct {
		ViewID string          `json:"view_id"`
		View   json.RawMessage `json:"view"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_json"})
		return
	}
	var v *View
	for _, x := range s.views {
		if x.ID == req.ViewID {
			v = x
		}
	}
	if v == nil {
		writeJSON(w, map[string]any{"ok": false, "error": "not_found"})
		return
	}
	if s.invalidView(w, "views.update", req.View) {
		return
	}
	v.Raw = req.View
	writeJSON(w, map[string]any{"ok": true, "view": map[string]any{"id": v.ID}})
}

// apiChatPostMessage answers chat.postMessage.
func (s *Server) apiChatPostMessage(w http.ResponseWriter, r *http.Request, f url.Values) {
	ch := f.Get("channel")
	if ch == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	if p := s.chans[ch]; p != "" {
		writeJSON(w, map[string]any{"ok": false, "error": p})
		return
	}
	if ch[0] == 'U' { // posting to a user ID lands in their DM
		ch = "D" + ch
	}
	if f.Get("text") == "" && f.Get("blocks") == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	if s.invalidBlocks(w, "chat.postMessage", f.Get("text"), f.Get("blocks")) {
		return
	}
	m := &Message{Channel: ch, TS: s.nextTS(), ThreadTS: f.Get("thread_ts"), Text: truncText(f.Get("text")),
		Blocks: json.RawMessage(orEmpty(f.Get("blocks"))), Versions: 1, Broadcast: f.Get("reply_broadcast") == "true"}
	s.messages = append(s.messages, m)
	s.emit(Event{Kind: "post", Message: m})
	s.cond.Broadcast()
	if hw, ok := w.(*heldWriter); ok {
		for _, h := range s.holds {
			if strings.Contains(m.Text, h.part) {
				hw.hold = h.ch
			}
		}
	}
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS})
}

// apiConversationsInfo answers conversations.info.
func (s *Server) apiConversationsInfo(w http.ResponseWriter, r *http.Request, f url.Values) {
	ch := f.Get("channel")
	switch s.chans[ch] {
	case "channel_not_found":
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
	default:
		private := false
		if c, ok := s.roomsLocked().byID[ch]; ok {
			private = c.Private
		}
		_, mpim := s.groupDMs[ch]
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": ch, "is_channel": !private && !mpim, "is_group": private,
			"is_private": private || mpim, "is_mpim": mpim,
			"is_member": s.chans[ch] != "not_in_channel", "is_archived": s.chans[ch] == "is_archived"}})
	}
}

// apiChatUpdate answers chat.update.
func (s *Server) apiChatUpdate(w http.ResponseWriter, r *http.Request, f url.Values) {
	if p := s.chans[f.Get("channel")]; p != "" {
		writeJSON(w, map[string]any{"ok": false, "error": p})
		return
	}
	m := s.find(f.Get("channel"), f.Get("ts"))
	if m == nil {
		writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	if s.invalidBlocks(w, "chat.update", f.Get("text"), f.Get("blocks")) {
		return
	}
	m.Text = truncText(f.Get("text"))
	m.Blocks = json.RawMessage(orEmpty(f.Get("blocks")))
	m.Versions++
	s.emit(Event{Kind: "update", Message: m})
	s.cond.Broadcast()
	writeJSON(w, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS})
}

// apiChatPostEphemeral answers chat.postEphemeral.
func (s *Server) apiChatPostEphemeral(w http.ResponseWriter, r *http.Request, f url.Values) {
	if f.Get("text") == "" && f.Get("blocks") == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	if s.invalidBlocks(w, "chat.postEphemeral", f.Get("text"), f.Get("blocks")) {
		return
	}
	m := &Message{Channel: f.Get("channel"), TS: s.nextTS(), ThreadTS: f.Get("thread_ts"), User: f.Get("user"),
		Ephemeral: true, Text: truncText(f.Get("text")), Blocks: json.RawMessage(orEmpty(f.Get("blocks"))), Versions: 1}
	s.messages = append(s.messages, m)
	s.emit(Event{Kind: "ephemeral", Message: m})
	s.cond.Broadcast()
	writeJSON(w, map[string]any{"ok": true, "message_ts": m.TS})
}

// apiConversationsOpen answers conversations.open.
func (s *Server) apiConversationsOpen(w http.ResponseWriter, r *http.Request, f url.Values) {
	users := strings.Split(f.Get("users"), ",")
	for _, u := range users {
		if code, ok := s.gone[u]; ok {
			writeJSON(w, map[string]any{"ok": false, "error": code})
			return
		}
	}
	if len(users) == 1 {
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + users[0]}})
		return
	}
	// A group DM (mpim): Slack takes at most 8 users besides the caller
	// and needs mpim:write.
	switch {
	case !slices.Contains(s.roomsLocked().scopes, "mpim:write"):
		writeJSON(w, map[string]any{"ok": false, "error": "missing_scope", "needed": "mpim:write"})
		return
	case len(users) > 8:
		writeJSON(w, map[string]any{"ok": false, "error": "too_many_users"})
		return
	}
	sorted := slices.Sorted(slices.Values(users))
	id := "G" + strings.Join(sorted, "")
	s.groupDMs[id] = sorted
	writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": id, "is_mpim": true, "is_private": true}})
}

// GroupDM returns the users of a group DM the bot opened (nil: none).
func (s *Server) GroupDM(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.groupDMs[id])
}

// apiUsersInfo answers users.info.
func (s *Server) apiUsersInfo(w http.ResponseWriter, r *http.Request, f url.Values) {
	id := f.Get("user")
	switch s.gone[id] {
	case "":
	case "user_disabled":
		writeJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": s.users[id], "deleted": true}})
		return
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
		return
	}
	name, ok := s.users[id]
	if !ok {
		name = id // as payloads call a user AddUser never named
	}
	display, real := name, name
	if p, ok := s.profiles[id]; ok {
		display, real = p[0], p[1]
	}
	tz, label, offset := s.timeZoneOf(id)
	// Slack sends the account-type flags on every user: a multi-channel
	// guest is_restricted, a single-channel guest is_restricted and
	// is_ultra_restricted.
	single, guest := s.guests[id]
	writeJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": name, "real_name": real, "deleted": false,
		"is_bot": id == "UBOT", "is_admin": false, "is_owner": false, "is_restricted": guest, "is_ultra_restricted": guest && single,
		"tz": tz, "tz_label": label, "tz_offset": offset,
		"profile": map[string]any{"display_name": display, "real_name": real}}})
}

// apiUsersLookupByEmail answers users.lookupByEmail.
func (s *Server) apiUsersLookupByEmail(w http.ResponseWriter, r *http.Request, f url.Values) {
	id, ok := s.emails[strings.ToLower(f.Get("email"))]
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "users_not_found"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": s.users[id]}})
}

// apiUsersList answers users.list.
func (s *Server) apiUsersList(w http.ResponseWriter, r *http.Request, f url.Values) {
	var members []map[string]any
	for id, name := range s.users {
		members = append(members, map[string]any{"id": id, "name": name, "profile": map[string]any{"display_name": name}})
	}
	writeJSON(w, map[string]any{"ok": true, "members": members, "response_metadata": map[string]any{"next_cursor": ""}})
}

// apiUsergroupsList answers usergroups.list.
func (s *Server) apiUsergroupsList(w http.ResponseWriter, r *http.Request, f url.Values) {
	var groups []map[string]any
	for id, h := range s.handles {
		groups = append(groups, map[string]any{"id": id, "handle": h, "name": h})
	}
	writeJSON(w, map[string]any{"ok": true, "usergroups": groups})
}

// apiUsergroupsUsersList answers usergroups.users.list.
func (s *Server) apiUsergroupsUsersList(w http.ResponseWriter, r *http.Request, f url.Values) {
	members, ok := s.groups[f.Get("usergroup")]
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "no_such_subteam"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "users": members})
}

// apiFilesGetUploadURLExternal answers files.getUploadURLExternal.
func (s *Server) apiFilesGetUploadURLExternal(w http.ResponseWriter, r *http.Request, f url.Values) {
	// filename and length (bytes) are required, as on Slack.
	if n, err := strconv.Atoi(f.Get("length")); err != nil || n < 1 || f.Get("filename") == "" {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	id := fmt.Sprintf("F%d", len(s.pendingUp)+len(s.files)+1)
	s.pendingUp[id] = &File{ID: id, Name: f.Get("filename")}
	writeJSON(w, map[string]any{"ok": true, "file_id": id, "upload_url": s.srv.URL + "/upload/" + id})
}

// apiFilesCompleteUploadExternal answers files.completeUploadExternal.
func (s *Server) apiFilesCompleteUploadExternal(w http.ResponseWriter, r *http.Request, f url.Values) {
	var summaries []struct{ ID, Title string }
	if err := json.Unmarshal([]byte(f.Get("files")), &summaries); err != nil || len(summaries) == 0 {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	var out []map[string]string
	for _, sm := range summaries {
		file, ok := s.pendingUp[sm.ID]
		if !ok {
			writeJSON(w, map[string]any{"ok": false, "error": "file_not_found"})
			return
		}
		delete(s.pendingUp, sm.ID)
		file.Title, file.Channel, file.ThreadTS, file.Comment = sm.Title, f.Get("channel_id"), f.Get("thread_ts"), f.Get("initial_comment")
		s.files = append(s.files, file)
		s.emit(Event{Kind: "file", File: file})
		out = append(out, map[string]string{"id": file.ID, "title": file.Title})
	}
	s.cond.Broadcast()
	writeJSON(w, map[string]any{"ok": true, "files": out})
}

// delay waits out the configured latency.
func (s *Server) delay() {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
}

func orEmpty(s string) string {
	if s == "" {
		return "[]"
	}
	return s
}

// invalidBlocks answers invalid_blocks, as Slack does, when blocks
// break a Block Kit limit, and remembers the refusal for Rejected. Text
// Slack would show other than meant is taken, and remembered for
// Misrendered.
func (s *Server) invalidBlocks(w http.ResponseWriter, method, text, blocks string) bool {
	if bad := misrendered(text, blocks); bad != "" {
		s.misrendered = append(s.misrendered, method+": "+bad)
	}
	e := validBlocks(blocks)
	if e == "" {
		return false
	}
	s.rejected = append(s.rejected, method+": "+e)
	writeJSON(w, map[string]any{"ok": false, "error": "invalid_blocks", "errors": []string{e}})
	return true
}

// invalidView answers a modal over Slack's limits as views.* do:
// invalid_arguments, the detail in response_metadata.messages.
func (s *Server) invalidView(w http.ResponseWriter, method string, view json.RawMessage) bool {
	e := validView(view)
	if e == "" {
		return false
	}
	s.rejected = append(s.rejected, method+": "+e)
	writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments",
		"response_metadata": map[string]any{"messages": []string{"[ERROR] " + e}}})
	return true
}

// Rejected lists every message, reply or modal the fake refused for
// breaking Slack's block limits ("method: reason"); a test that expects
// every reply delivered checks it is empty.
func (s *Server) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

// Misrendered lists every message Slack would have shown other than the
// bot meant ("method: the text around it"): a < that starts no mention,
// channel, command or link. Slack takes such a message and reads
// `open <outage|webhook>` as a link to "outage", even in code.
func (s *Server) Misrendered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.misrendered)
}

func (s *Server) find(channel, ts string) *Message {
	for _, m := range s.messages {
		if m.Channel == channel && m.TS == ts && !m.Ephemeral {
			return m
		}
	}
	return nil
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(file)
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.pendingUp[id]
	if !ok {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	up.Content = string(body) // the bytes as sent: a PNG stays decodable
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(body)))
}

// handleResponse receives posts to a response_url: ephemeral replies to the
// user who typed the command or clicked.
func (s *Server) handleResponse(w http.ResponseWriter, r *http.Request) {
	s.delay()
	key := strings.TrimPrefix(r.URL.Path, "/response/")
	var body struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	target, ok := s.responses[key]
	if !ok {
		http.Error(w, "unknown response_url", http.StatusNotFound)
		return
	}
	// Slack takes at most 5 posts to a response_url within 30 minutes.
	if target.uses >= 5 {
		http.Error(w, "used_url", http.StatusNotFound)
		return
	}
	if bad := misrendered(body.Text, string(body.Blocks)); bad != "" {
		s.misrendered = append(s.misrendered, "response_url: "+bad)
	}
	if e := validBlocks(string(body.Blocks)); e != "" {
		// A response_url answers a bad payload with HTTP 400 and the
		// error code as the body, like an incoming webhook.
		s.rejected = append(s.rejected, "response_url: "+e)
		http.Error(w, "invalid_blocks", http.StatusBadRequest)
		return
	}
	if body.Text == "" && len(orRaw(body.Blocks)) <= 2 {
		http.Error(w, "no_text", http.StatusBadRequest)
		return
	}
	body.Text = truncText(body.Text)
	target.uses++
	s.responses[key] = target
	if env := s.envelopeOf[key]; env != "" && target.uses == 1 {
		s.replied[env] = time.Now()
	}
	if body.ReplaceOriginal && target.messageTS != "" {
		if m := s.findAny(target.channel, target.messageTS); m != nil {
			m.Text, m.Blocks = body.Text, orRaw(body.Blocks)
			m.Versions++
			s.emit(Event{Kind: "update", Message: m})
			s.cond.Broadcast()
			_, _ = io.WriteString(w, "ok")
			return
		}
	}
	m := &Message{Channel: target.channel, TS: s.nextTS(), User: target.user, Ephemeral: body.ResponseType != "in_channel",
		Text: body.Text, Blocks: orRaw(body.Blocks), Versions: 1}
	s.messages = append(s.messages, m)
	kind := "ephemeral"
	if !m.Ephemeral {
		kind = "post"
	}
	s.emit(Event{Kind: kind, Message: m})
	s.cond.Broadcast()
	_, _ = io.WriteString(w, "ok")
}

func (s *Server) findAny(channel, ts string) *Message {
	for _, m := range s.messages {
		if m.Channel == channel && m.TS == ts {
			return m
		}
	}
	return nil
}

func orRaw(b json.RawMessage) json.RawMessage {
	if len(b) == 0 || string(b) == "null" {
		return json.RawMessage("[]")
	}
	return b
}

// bucket is one rate limit: burst tokens, refilled at rate per second.
type bucket struct {
	tokens float64
	at     time.Time
}

// tier is Slack's limit for a method: a burst, then a steady rate.
func tier(method string) (burst, perSecond float64, perChannel bool) {
	switch method {
	case "chat.postMessage":
		return 4, 1, true // about 1 per second per channel, short bursts tolerated
	case "chat.update", "conversations.open", "conversations.info", "users.lookupByEmail", "conversations.invite":
		return 20, 50.0 / 60, false // Tier 3
	case "chat.postEphemeral", "users.info", "conversations.members":
		return 40, 100.0 / 60, false // Tier 4
	case "usergroups.users.list", "usergroups.users.update", "usergroups.list", "users.list", "conversations.create", "conversations.archive":
		return 5, 20.0 / 60, false // Tier 2
	}
	return 0, 0, false
}

// limited spends a token of the method's limit, or says how long to wait;
// the caller holds s.mu.
func (s *Server) limited(method string, r *http.Request) time.Duration {
	burst, rate, perChannel := tier(method)
	if !s.limits || rate == 0 {
		return 0
	}
	key := method
	if perChannel {
		_ = r.ParseForm()
		key += "/" + r.PostForm.Get("channel")
	}
	if s.buckets == nil {
		s.buckets = map[string]*bucket{}
	}
	now := time.Now()
	b, ok := s.buckets[key]
	if !ok {
		b = &bucket{tokens: burst, at: now}
		s.buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// Unlimited turns Slack's rate limits off for a test that needs every
// call to succeed at once. They are on by default: chat.postMessage about
// 1 per second per channel (a burst of 4), Tier 2/3/4 methods per minute,
// each answered 429 with Retry-After when spent.
func (s *Server) Unlimited() { s.mu.Lock(); s.limits = false; s.mu.Unlock() }

// Throttle answers every chat.postMessage in channel with 429 and
// Retry-After (whole seconds) until Unthrottle: a bot that sleeps on it
// holds whatever it was posting.
func (s *Server) Throttle(channel string, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle == nil {
		s.throttle = map[string]int{}
	}
	s.throttle[channel] = max(1, int(retryAfter/time.Second))
}

// ThrottleMethod answers every call of method (say chat.update) with 429
// and Retry-After (whole seconds) until UnthrottleMethod, as Slack does
// to an app that overspent a tier.
func (s *Server) ThrottleMethod(method string, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttleAll == nil {
		s.throttleAll = map[string]int{}
	}
	s.throttleAll[method] = max(1, int(retryAfter/time.Second))
}

// UnthrottleMethod lets calls of method through again.
func (s *Server) UnthrottleMethod(method string) {
	s.mu.Lock()
	delete(s.throttleAll, method)
	s.mu.Unlock()
}

// Unthrottle lets posts in channel through again.
func (s *Server) Unthrottle(channel string) { s.mu.Lock(); delete(s.throttle, channel); s.mu.Unlock() }

// TotalCalls is the number of Web API calls so far, every method.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// View is a modal the bot opened.
type View struct {
	ID, User string
	Raw      json.RawMessage
}

type trigger struct {
	user string
	at   time.Time
	used bool // views.open took it: another use is exchanged_trigger_id
}

// ExpireTriggers makes views.open answer expired_trigger_id (or stop
// doing so), as Slack does when the bot takes more than 3 s after the click.
func (s *Server) ExpireTriggers(on bool) { s.mu.Lock(); s.slowTriggers = on; s.mu.Unlock() }

// newTrigger issues a trigger_id for a click, valid for views.open for 3 s.
func (s *Server) newTrigger(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.triggers == nil {
		s.triggers = map[string]trigger{}
	}
	s.seq++
	id := fmt.Sprintf("%d.%d.trigger", s.seq, time.Now().UnixNano())
	s.triggers[id] = trigger{user: user, at: time.Now()}
	return id
}

// WaitView waits for the bot to open a modal for user.
func (s *Server) WaitView(user string, timeout time.Duration) (*View, error) {
	var found *View
	err := s.waitFor(timeout, func() bool {
		for _, v := range s.views {
			if v.User == user {
				found = v
			}
		}
		return found != nil
	})
	return found, err
}

// WaitViewAfter waits for a modal opened for user after prev.
func (s *Server) WaitViewAfter(user string, prev *View, timeout time.Duration) (*View, error) {
	var found *View
	err := s.waitFor(timeout, func() bool {
		seen := false
		for _, v := range s.views {
			if v == prev {
				seen = true
			} else if seen && v.User == user {
				found = v
			}
		}
		return found != nil
	})
	return found, err
}

// ReplyTime is how long after the envelope was sent the first reply
// reached its response_url: the time until the person sees an answer.
func (s *Server) ReplyTime(envelope string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.replied[envelope]
	if !ok {
		return 0, false
	}
	return at.Sub(s.sent[envelope]), true
}

// SetLatency adds d to every Web API call and response_url post: the
// round trip to the real Slack.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// Throttled is how many calls drew a 429 from the rate limits.
func (s *Server) Throttled() int { s.mu.Lock(); defer s.mu.Unlock(); return s.throttled }
