package fakeclerk

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The security endpoints of Clerk's Backend API (clerk-bapi-2025-04-10):
// Protect, restrictions, the blocklist, trusted devices, sign-in and actor
// tokens, machine and OAuth application secrets. Bodies are read as the
// spec declares them (additionalProperties: false: an unknown field is a
// 422, as Clerk answers form_param_unknown), answers carry the spec's
// shapes, and a rotation's new secret is a fresh value each time.

// secState is the fake instance's security settings and objects.
type secState struct {
	rulesEnabled, specterEnabled bool
	restrict                     map[string]bool // spec field → value
	blocklist                    map[string]*blocked
	devices                      map[string][]*Device // user → devices
	tokens                       map[string]*Token
	machines                     map[string]*Machine
	oauthApps                    map[string]*OAuthApp
	blocklistCode                int // 402 when the plan lacks the blocklist; 0: it answers
}

type blocked struct {
	id, identifier, kind string
	created              int64
}

// Device is a user's trusted device.
type Device struct {
	ID, Platform, Name, Status string
}

// Token is a sign-in token (sit_…) or actor token (act_…).
type Token struct {
	ID, UserID, Status string
	Secret             string // the token itself: a credential
}

// Machine is a machine with its current secret key and the previous
// key's end of validity.
type Machine struct {
	ID, Name, Secret, Previous string
	PreviousUntil              time.Time
	Rotations                  int
}

// OAuthApp is an OAuth application.
type OAuthApp struct {
	ID, Name, Secret string
	Public           bool
	Rotations        int
}

func (s *Server) sec() *secState {
	if s.security == nil {
		s.security = &secState{restrict: map[string]bool{"allowlist": false, "blocklist": true, "allowlist_blocklist_disabled_on_sign_in": false,
			"block_email_subaddresses": false, "block_disposable_email_domains": false},
			blocklist: map[string]*blocked{}, devices: map[string][]*Device{}, tokens: map[string]*Token{},
			machines: map[string]*Machine{}, oauthApps: map[string]*OAuthApp{}}
	}
	return s.security
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AddTrustedDevice enrolls a trusted device for a user and returns its ID.
func (s *Server) AddTrustedDevice(userID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	d := &Device{ID: fmt.Sprintf("td_%06d", s.seq), Platform: "ios", Name: name, Status: "active"}
	s.sec().devices[userID] = append(s.sec().devices[userID], d)
	return d.ID
}

// TrustedDevices counts a user's active trusted devices.
func (s *Server) TrustedDevices(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.sec().devices[userID] {
		if d.Status == "active" {
			n++
		}
	}
	return n
}

// AddToken creates a pending sign-in token (kind "sit") or actor token
// ("act") for a user, as POST /sign_in_tokens or /actor_tokens would.
func (s *Server) AddToken(kind, userID string) Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	t := &Token{ID: fmt.Sprintf("%s_%06d", kind, s.seq), UserID: userID, Status: "pending", Secret: "eyJ" + randomHex(12)}
	s.sec().tokens[t.ID] = t
	return *t
}

// TokenStatus is a token's status ("" when unknown).
func (s *Server) TokenStatus(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.sec().tokens[id]; ok {
		return t.Status
	}
	return ""
}

// AddMachine creates a machine with a secret key and returns its ID.
func (s *Server) AddMachine(name string) string {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("mch_%06dfake", s.seq)
	s.mu.Unlock()
	s.SeedMachine(id, name)
	return id
}

// SeedMachine creates a machine with the given ID (a sandbox's fixed one).
func (s *Server) SeedMachine(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sec().machines[id] = &Machine{ID: id, Name: name, Secret: "ak_" + randomHex(16)}
}

// Machine returns a copy of a machine.
func (s *Server) Machine(id string) Machine {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.sec().machines[id]; ok {
		return *m
	}
	return Machine{}
}

// AddOAuthApp creates an OAuth application and returns its ID.
func (s *Server) AddOAuthApp(name string, public bool) string {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("oa_%06dfake", s.seq)
	s.mu.Unlock()
	s.SeedOAuthApp(id, name, public)
	return id
}

// SeedOAuthApp creates an OAuth application with the given ID.
func (s *Server) SeedOAuthApp(id, name string, public bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &OAuthApp{ID: id, Name: name, Public: public}
	if !public {
		a.Secret = "oas_" + randomHex(16)
	}
	s.sec().oauthApps[id] = a
}

// OAuthApp returns a copy of an OAuth application.
func (s *Server) OAuthApp(id string) OAuthApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.sec().oauthApps[id]; ok {
		return *a
	}
	return OAuthApp{}
}

// Protect reports Clerk Protect's rules and specter switches.
func (s *Server) Protect() (rules, specter bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sec().rulesEnabled, s.sec().specterEnabled
}

// Restriction reads one instance restriction by its spec field name.
func (s *Server) Restriction(field string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sec().restrict[field]
}

// Blocklisted lists the identifiers on the blocklist, sorted.
func (s *Server) Blocklisted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, b := range s.sec().blocklist {
		out = append(out, b.identifier)
	}
	sort.Strings(out)
	return out
}

// BlocklistStatus makes the blocklist endpoints answer status (402: the
// plan lacks it, as the spec documents); 0 answers again.
func (s *Server) BlocklistStatus(status int) {
	s.mu.Lock()
	s.sec().blocklistCode = status
	s.mu.Unlock()
}

// decodeBody reads a JSON body against the fields the spec allows; an
// unknown field or a wrong type is Clerk's 422.
func decodeBody(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if len(bytes.TrimSpace(body)) == 0 || string(bytes.TrimSpace(body)) == "null" {
		return true
	}
	if err := dec.Decode(v); err != nil {
		code := "form_param_format_invalid"
		if strings.Contains(err.Error(), "unknown field") {
			code = "form_param_unknown"
		}
		clerkError(w, http.StatusUnprocessableEntity, code, "the request body is not valid: "+err.Error())
		return false
	}
	return true
}

var (
	blockEmailRe  = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	blockDomainRe = regexp.MustCompile(`^\*@[^\s@*]+\.[^\s@*]+$`)
	blockPhoneRe  = regexp.MustCompile(`^\+[0-9]{7,15}$`)
)

// serveSecurity answers the security endpoints; false: not one of them.
func (s *Server) serveSecurity(w http.ResponseWriter, r *http.Request, body []byte) bool {
	path := r.URL.Path
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/instance/protect" && (r.Method == http.MethodGet || r.Method == http.MethodPatch):
		s.protect(w, r, body)
	case path == "/instance/restrictions" && r.Method == http.MethodPatch:
		s.restrictions(w, body)
	case path == "/blocklist_identifiers" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		s.blocklistRoot(w, r, body)
	case len(parts) == 2 && parts[0] == "blocklist_identifiers" && r.Method == http.MethodDelete:
		s.unblock(w, parts[1])
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "trusted_devices" && r.Method == http.MethodGet:
		s.listDevices(w, parts[1])
	case len(parts) == 4 && parts[0] == "users" && parts[2] == "trusted_devices" && r.Method == http.MethodDelete:
		s.revokeDevice(w, parts[1], parts[3])
	case len(parts) == 3 && (parts[0] == "sign_in_tokens" || parts[0] == "actor_tokens") && parts[2] == "revoke" && r.Method == http.MethodPost:
		s.revokeToken(w, parts[0], parts[1], body)
	case len(parts) == 4 && parts[0] == "machines" && parts[2] == "secret_key" && parts[3] == "rotate" && r.Method == http.MethodPost:
		s.rotateMachine(w, parts[1], body)
	case len(parts) == 3 && parts[0] == "oauth_applications" && parts[2] == "rotate_secret" && r.Method == http.MethodPost:
		s.rotateOAuth(w, parts[1], body)
	default:
		return false
	}
	return true
}

func (s *Server) protect(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method == http.MethodPatch {
		var in struct {
			Rules   *bool `json:"rules_enabled"`
			Specter *bool `json:"specter_enabled"`
		}
		if !decodeBody(w, body, &in) {
			return
		}
		s.mu.Lock()
		if in.Rules != nil {
			s.sec().rulesEnabled = *in.Rules
		}
		if in.Specter != nil {
			s.sec().specterEnabled = *in.Specter
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	out := map[string]any{"object": "instance_protect", "rules_enabled": s.sec().rulesEnabled, "specter_enabled": s.sec().specterEnabled, "checks_bypassed": false}
	s.mu.Unlock()
	writeJSON(w, out)
}

func (s *Server) restrictions(w http.ResponseWriter, body []byte) {
	var in map[string]*bool
	if !decodeBody(w, body, &in) {
		return
	}
	s.mu.Lock()
	st := s.sec()
	for k := range in {
		if _, ok := st.restrict[k]; !ok {
			s.mu.Unlock()
			clerkError(w, http.StatusUnprocessableEntity, "form_param_unknown", "is not a valid parameter for this request: "+k)
			return
		}
	}
	for k, v := range in {
		if v != nil {
			st.restrict[k] = *v
		}
	}
	out := map[string]any{"object": "instance_restrictions"}
	for k, v := range st.restrict {
		out[k] = v
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

func blockedJSON(b *blocked) map[string]any {
	return map[string]any{"object": "blocklist_identifier", "id": b.id, "identifier": b.identifier, "identifier_type": b.kind,
		"instance_id": "ins_fake", "created_at": b.created, "updated_at": b.created}
}

func (s *Server) blocklistRoot(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	code := s.sec().blocklistCode
	s.mu.Unlock()
	if code != 0 {
		clerkError(w, code, "feature_not_enabled", "The blocklist is not available on your plan")
		return
	}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		data := []map[string]any{}
		for _, b := range s.sec().blocklist {
			data = append(data, blockedJSON(b))
		}
		s.mu.Unlock()
		sort.Slice(data, func(i, j int) bool { return data[i]["id"].(string) < data[j]["id"].(string) })
		writeJSON(w, map[string]any{"data": data, "total_count": len(data)})
		return
	}
	var in struct {
		Identifier *string `json:"identifier"`
	}
	if !decodeBody(w, body, &in) {
		return
	}
	if in.Identifier == nil || *in.Identifier == "" {
		clerkError(w, http.StatusUnprocessableEntity, "form_param_missing", "identifier must be included")
		return
	}
	id := strings.ToLower(*in.Identifier)
	kind := "email_address"
	switch {
	case blockPhoneRe.MatchString(id):
		kind = "phone_number"
	case blockDomainRe.MatchString(id), blockEmailRe.MatchString(id):
	default:
		clerkError(w, http.StatusUnprocessableEntity, "form_param_format_invalid", "identifier must be an email address, a phone number or a web3 wallet")
		return
	}
	s.mu.Lock()
	for _, b := range s.sec().blocklist {
		if b.identifier == id {
			s.mu.Unlock()
			clerkError(w, http.StatusUnprocessableEntity, "duplicate_record", "That identifier is already on the block-list")
			return
		}
	}
	s.seq++
	b := &blocked{id: fmt.Sprintf("blid_%06d", s.seq), identifier: id, kind: kind, created: time.Now().UnixMilli()}
	s.sec().blocklist[b.id] = b
	out := blockedJSON(b)
	s.mu.Unlock()
	writeJSON(w, out)
}

func (s *Server) unblock(w http.ResponseWriter, id string) {
	s.mu.Lock()
	code := s.sec().blocklistCode
	_, ok := s.sec().blocklist[id]
	if ok && code == 0 {
		delete(s.sec().blocklist, id)
	}
	s.mu.Unlock()
	switch {
	case code != 0:
		clerkError(w, code, "feature_not_enabled", "The blocklist is not available on your plan")
	case !ok:
		clerkError(w, http.StatusNotFound, "resource_not_found", "Blocklist identifier not found")
	default:
		writeJSON(w, map[string]any{"object": "blocklist_identifier", "id": id, "deleted": true})
	}
}

func deviceJSON(d *Device) map[string]any {
	return map[string]any{"object": "trusted_device", "id": d.ID, "platform": d.Platform, "app_identifier": "com.example.app", "name": d.Name,
		"algorithm": "ES256", "status": d.Status, "created_at": 1700000000000, "updated_at": 1700000000000, "last_used_at": 1700000000000, "revoked_at": nil}
}

func (s *Server) listDevices(w http.ResponseWriter, userID string) {
	s.mu.Lock()
	_, ok := s.users[userID]
	data := []map[string]any{}
	for _, d := range s.sec().devices[userID] {
		if d.Status == "active" {
			data = append(data, deviceJSON(d))
		}
	}
	s.mu.Unlock()
	if !ok {
		clerkError(w, http.StatusNotFound, "resource_not_found", "User not found")
		return
	}
	writeJSON(w, map[string]any{"data": data, "total_count": len(data)})
}

func (s *Server) revokeDevice(w http.ResponseWriter, userID, deviceID string) {
	s.mu.Lock()
	var found *Device
	for _, d := range s.sec().devices[userID] {
		if d.ID == deviceID && d.Status == "active" {
			found = d
			d.Status = "revoked"
		}
	}
	var out map[string]any
	if found != nil {
		out = deviceJSON(found)
		out["revoked_at"] = time.Now().UnixMilli()
	}
	s.mu.Unlock()
	if found == nil {
		clerkError(w, http.StatusNotFound, "resource_not_found", "Trusted device not found")
		return
	}
	writeJSON(w, out)
}

func (s *Server) revokeToken(w http.ResponseWriter, kind, id string, body []byte) {
	if !noBody(w, body) {
		return
	}
	prefix := map[string]string{"sign_in_tokens": "sit_", "actor_tokens": "act_"}[kind]
	s.mu.Lock()
	t, ok := s.sec().tokens[id]
	ok = ok && strings.HasPrefix(id, prefix)
	var out map[string]any
	pending := ok && t.Status == "pending"
	if pending {
		t.Status = "revoked"
	}
	if ok {
		object := map[string]string{"sit_": "sign_in_token", "act_": "actor_token"}[prefix]
		out = map[string]any{"object": object, "id": t.ID, "status": t.Status, "user_id": t.UserID, "token": t.Secret,
			"url": "https://accounts.example.com/v1/tickets/accept?ticket=" + t.Secret, "created_at": 1700000000000, "updated_at": time.Now().UnixMilli()}
		if prefix == "act_" {
			out["actor"] = map[string]string{"sub": "user_admin"}
		}
	}
	s.mu.Unlock()
	switch {
	case !ok:
		clerkError(w, http.StatusNotFound, "resource_not_found", "Token not found")
	case !pending && prefix == "act_":
		// The spec documents 400 for an actor token that is not pending.
		clerkError(w, http.StatusBadRequest, "actor_token_cannot_be_revoked", "Only pending actor tokens can be revoked")
	default:
		writeJSON(w, out)
	}
}

// noBody refuses a body on an endpoint the spec gives none.
func noBody(w http.ResponseWriter, body []byte) bool {
	if b := strings.TrimSpace(string(body)); b != "" && b != "null" && b != "{}" {
		clerkError(w, http.StatusUnprocessableEntity, "form_param_unknown", "this endpoint takes no body")
		return false
	}
	return true
}

func (s *Server) rotateMachine(w http.ResponseWriter, id string, body []byte) {
	var in struct {
		TTL *int64 `json:"previous_token_ttl"`
	}
	if !decodeBody(w, body, &in) {
		return
	}
	switch {
	case in.TTL == nil:
		clerkError(w, http.StatusUnprocessableEntity, "form_param_missing", "previous_token_ttl must be included")
		return
	case *in.TTL < 0 || *in.TTL > 28800:
		clerkError(w, http.StatusUnprocessableEntity, "form_param_value_invalid", "previous_token_ttl must be between 0 and 28800")
		return
	}
	s.mu.Lock()
	m, ok := s.sec().machines[id]
	var secret string
	if ok {
		m.Previous, m.PreviousUntil = m.Secret, time.Now().Add(time.Duration(*in.TTL)*time.Second)
		m.Secret = "ak_" + randomHex(16)
		m.Rotations++
		secret = m.Secret
	}
	s.mu.Unlock()
	if !ok {
		clerkError(w, http.StatusNotFound, "resource_not_found", "Machine not found")
		return
	}
	writeJSON(w, map[string]any{"object": "machine_secret_key", "secret": secret})
}

func (s *Server) rotateOAuth(w http.ResponseWriter, id string, body []byte) {
	if !noBody(w, body) {
		return
	}
	s.mu.Lock()
	a, ok := s.sec().oauthApps[id]
	var out map[string]any
	if ok {
		if !a.Public {
			a.Secret = "oas_" + randomHex(16)
			a.Rotations++
		}
		out = map[string]any{"object": "oauth_application", "id": a.ID, "instance_id": "ins_fake", "name": a.Name, "client_id": "client_" + a.ID,
			"client_uri": nil, "client_image_url": nil, "dynamically_registered": false, "consent_screen_enabled": true, "pkce_required": false,
			"public": a.Public, "scopes": "profile email", "redirect_uris": []string{"https://app.example.com/callback"}, "callback_url": "https://app.example.com/callback",
			"authorize_url": "https://clerk.example.com/oauth/authorize", "token_fetch_url": "https://clerk.example.com/oauth/token",
			"user_info_url": "https://clerk.example.com/oauth/userinfo", "discovery_url": "https://clerk.example.com/.well-known/openid-configuration",
			"token_introspection_url": "https://clerk.example.com/oauth/token_info", "created_at": 1700000000000, "updated_at": time.Now().UnixMilli(),
			"client_secret": a.Secret}
	}
	s.mu.Unlock()
	if !ok {
		clerkError(w, http.StatusNotFound, "resource_not_found", "OAuth application not found")
		return
	}
	writeJSON(w, out)
}
