package fakeslack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// PingInterval is how often the fake pings each socket; slack-go reconnects
// when it hears none for 30 s.
const PingInterval = 2 * time.Second

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	c, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn := &wsConn{c: c, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = c.Close()
		return
	}
	s.conns = append(s.conns, conn)
	s.opened++
	s.cond.Broadcast()
	s.mu.Unlock()

	_ = conn.write(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A1"}})
	go func() {
		t := time.NewTicker(PingInterval)
		defer t.Stop()
		for {
			select {
			case <-conn.done:
				return
			case <-t.C:
				conn.wmu.Lock()
				err := c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				conn.wmu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	defer func() {
		close(conn.done)
		_ = c.Close()
		s.mu.Lock()
		for i, x := range s.conns {
			if x == conn {
				s.conns = append(s.conns[:i], s.conns[i+1:]...)
				break
			}
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		if sent, ok := s.sent[ack.EnvelopeID]; ok {
			if _, dup := s.acks[ack.EnvelopeID]; !dup {
				s.acks[ack.EnvelopeID] = Ack{EnvelopeID: ack.EnvelopeID, Payload: ack.Payload, Latency: time.Since(sent)}
			}
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

func (w *wsConn) write(v any) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_ = w.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return w.c.WriteJSON(v)
}

// WaitConnected blocks until at least one bot socket is connected.
func (s *Server) WaitConnected(timeout time.Duration) error {
	return s.waitFor(timeout, func() bool { return len(s.conns) > 0 })
}

// WaitConnections blocks until at least n bot sockets are connected.
func (s *Server) WaitConnections(n int, timeout time.Duration) error {
	return s.waitFor(timeout, func() bool { return len(s.conns) >= n })
}

// Opened is how many sockets have ever connected: a restarted bot's new
// socket counts even while the stopped one's is still closing.
func (s *Server) Opened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

// WaitOpened waits until n sockets have ever connected.
func (s *Server) WaitOpened(n int, timeout time.Duration) error {
	return s.waitFor(timeout, func() bool { return s.opened >= n })
}

// Connections returns how many sockets are open.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Disconnect asks every connected socket to reconnect, as Slack does.
func (s *Server) Disconnect() {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.write(map[string]any{"type": "disconnect", "reason": "refresh_requested"})
	}
}

// DropConnections closes every socket abruptly, without a close frame, as
// a network failure would.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.c.UnderlyingConn().Close()
	}
}

func (s *Server) send(envType string, payload any, acceptsResponse bool) (string, error) {
	s.mu.Lock()
	if len(s.conns) == 0 {
		s.mu.Unlock()
		return "", errors.New("fakeslack: no bot is connected")
	}
	s.seq++
	id := fmt.Sprintf("env-%d", s.seq)
	conn := s.conns[s.seq%len(s.conns)]
	s.sent[id] = time.Now()
	if m, ok := payload.(map[string]any); ok {
		if u, ok := m["response_url"].(string); ok {
			s.envelopeOf[u[strings.LastIndex(u, "/")+1:]] = id
		}
	}
	env := map[string]any{"envelope_id": id, "type": envType, "accepts_response_payload": acceptsResponse, "payload": payload}
	s.envelopes[id] = env
	s.mu.Unlock()
	// A socket the bot is closing (it was told to reconnect) cannot take
	// it: Slack delivers on another open one, as here.
	tried := map[*wsConn]bool{}
	for {
		err := conn.write(env)
		if err == nil {
			return id, nil
		}
		tried[conn] = true
		s.mu.Lock()
		next := -1
		for i, c := range s.conns {
			if !tried[c] {
				next = i
				break
			}
		}
		if next < 0 {
			s.mu.Unlock()
			return "", fmt.Errorf("fakeslack: write envelope: %w", err)
		}
		conn = s.conns[next]
		s.mu.Unlock()
	}
}

func (s *Server) newResponseURL(user, channel, messageTS string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	key := fmt.Sprintf("%d", s.seq)
	s.responses[key] = respTarget{user: user, channel: channel, messageTS: messageTS}
	return s.srv.URL + "/response/" + key
}

// SlashCommand types `/clerk-incident <text>` as user in channel and
// returns the envelope ID.
func (s *Server) SlashCommand(user, channel, text string) (string, error) {
	return s.send("slash_commands", map[string]any{
		"team_id": "T1", "channel_id": channel, "user_id": user, "user_name": s.userName(user),
		"command": "/clerk-incident", "text": slackEscape(text), "api_app_id": "A1",
		"response_url": s.newResponseURL(user, channel, ""), "trigger_id": "1.2.3",
	}, true)
}

// Press clicks a button of a message as user.
func (s *Server) Press(user string, m *Message, b Button) (string, error) {
	// Only its recipient sees an ephemeral message, so only they can click it.
	if m.Ephemeral && m.User != user {
		return "", fmt.Errorf("fakeslack: %s cannot see the ephemeral message %s (it is %s's)", user, m.TS, m.User)
	}
	channel := m.Channel
	container := map[string]any{"type": "message", "message_ts": m.TS, "channel_id": channel, "is_ephemeral": m.Ephemeral}
	msg := map[string]any{"ts": m.TS, "blocks": json.RawMessage(m.Blocks)}
	if m.ThreadTS != "" {
		container["thread_ts"] = m.ThreadTS
		msg["thread_ts"] = m.ThreadTS
	}
	payload := map[string]any{
		"type": "block_actions", "api_app_id": "A1", "trigger_id": s.newTrigger(user),
		"user": map[string]any{"id": user, "username": s.userName(user), "team_id": "T1"}, "team": map[string]any{"id": "T1"},
		"container": container, "channel": map[string]any{"id": channel}, "message": msg,
		"response_url": s.newResponseURL(user, channel, m.TS),
		"actions": []map[string]any{{"action_id": b.ActionID, "block_id": b.BlockID, "type": "button", "value": b.Value,
			"text": map[string]any{"type": "plain_text", "text": b.Label}, "action_ts": "1700000001.1"}},
	}
	if m.Ephemeral {
		// Slack sends no message for a click on an ephemeral one: only
		// the container (is_ephemeral: true) says which it was.
		delete(payload, "message")
	}
	return s.send("interactive", payload, false)
}

// SubmitView submits a modal as user with text in its first input, as
// Slack sends a view_submission: the view's callback_id and
// private_metadata, and state.values keyed by block_id and action_id.
func (s *Server) SubmitView(user string, v *View, text string) (string, error) {
	var view struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Blocks          []struct {
			Type    string `json:"type"`
			BlockID string `json:"block_id"`
			Element struct {
				ActionID string `json:"action_id"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(v.Raw, &view); err != nil {
		return "", err
	}
	values := map[string]any{}
	for _, b := range view.Blocks {
		if b.Type == "input" {
			values[b.BlockID] = map[string]any{b.Element.ActionID: map[string]any{"type": "plain_text_input", "value": text}}
			break
		}
	}
	return s.send("interactive", map[string]any{
		"type": "view_submission", "api_app_id": "A1", "trigger_id": s.newTrigger(user),
		"user": map[string]any{"id": user, "username": s.userName(user), "team_id": "T1"}, "team": map[string]any{"id": "T1"},
		"view": map[string]any{"id": v.ID, "type": "modal", "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata,
			"state": map[string]any{"values": values}},
	}, true)
}

// Payload is the payload of an envelope sent (a copy), as the bot read it.
func (s *Server) Payload(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	env, _ := s.envelopes[id]["payload"].(map[string]any)
	out := make(map[string]any, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

// Redeliver sends an envelope again with the same ID, as Slack does when
// it believes an ack was lost, on another socket when there are several.
func (s *Server) Redeliver(id string) error {
	s.mu.Lock()
	env, ok := s.envelopes[id]
	if !ok || len(s.conns) == 0 {
		s.mu.Unlock()
		return fmt.Errorf("fakeslack: cannot redeliver %s", id)
	}
	s.seq++
	conn := s.conns[s.seq%len(s.conns)]
	s.mu.Unlock()
	retried := map[string]any{}
	for k, v := range env {
		retried[k] = v
	}
	retried["retry_attempt"] = 1
	retried["retry_reason"] = "timeout"
	return conn.write(retried)
}

// Resend delivers an earlier envelope's payload again under a new envelope
// ID, so the bot's envelope dedupe does not catch it: the same click with
// the same trigger_id, as a duplicate that slipped past dedupe would be.
func (s *Server) Resend(id string) (string, error) {
	s.mu.Lock()
	env, ok := s.envelopes[id]
	s.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("fakeslack: no envelope %s", id)
	}
	accepts, _ := env["accepts_response_payload"].(bool)
	typ, _ := env["type"].(string)
	return s.send(typ, env["payload"], accepts)
}

// SendRaw writes an arbitrary envelope payload (for malformed-input tests).
func (s *Server) SendRaw(envType string, payload any) (string, error) {
	return s.send(envType, payload, false)
}

func (s *Server) userName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.users[id]; ok {
		return n
	}
	return id
}

// WaitAck waits for the envelope's ack.
func (s *Server) WaitAck(id string, timeout time.Duration) (Ack, error) {
	var a Ack
	err := s.waitFor(timeout, func() bool {
		var ok bool
		a, ok = s.acks[id]
		return ok
	})
	if err != nil {
		return Ack{}, fmt.Errorf("envelope %s not acked: %w", id, err)
	}
	return a, nil
}

// Acks returns every ack received so far.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ack, 0, len(s.acks))
	for _, a := range s.acks {
		out = append(out, a)
	}
	return out
}

// waitFor waits until cond (called under the lock) holds. Waiting for the
// bot's asynchronous output is not a deadline: it returns as soon as the
// output arrives; timeout only bounds a broken test.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) || s.closed {
			return errors.New("timed out")
		}
		s.cond.Wait()
	}
	return nil
}

// slackEscape is what Slack does to slash-command text before sending it.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// ResponseURL hands out a response_url for user in channel, as a slash
// command carries one.
func (s *Server) ResponseURL(user, channel string) string { return s.newResponseURL(user, channel, "") }
