package fakeslack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Timeout bounds how long an expectation waits for the bot.
const Timeout = 10 * time.Second

// Button is an interactive button found in a message.
type Button struct {
	Label, ActionID, BlockID, Value string
}

// Buttons lists a message's buttons in display order.
func (m *Message) Buttons() []Button {
	var blocks []map[string]any
	_ = json.Unmarshal(m.Blocks, &blocks)
	var out []Button
	add := func(blockID string, el map[string]any) {
		if el["type"] != "button" {
			return
		}
		b := Button{BlockID: blockID}
		b.ActionID, _ = el["action_id"].(string)
		b.Value, _ = el["value"].(string)
		if t, ok := el["text"].(map[string]any); ok {
			b.Label, _ = t["text"].(string)
		}
		out = append(out, b)
	}
	for _, bl := range blocks {
		id, _ := bl["block_id"].(string)
		if acc, ok := bl["accessory"].(map[string]any); ok {
			add(id, acc)
		}
		if els, ok := bl["elements"].([]any); ok && bl["type"] == "actions" {
			for _, e := range els {
				if el, ok := e.(map[string]any); ok {
					add(id, el)
				}
			}
		}
	}
	return out
}

// Render flattens a message to readable text: what a person sees.
func (m *Message) Render() string {
	var blocks []map[string]any
	_ = json.Unmarshal(m.Blocks, &blocks)
	if len(blocks) == 0 {
		return m.Text
	}
	var lines []string
	text := func(v any) string {
		if t, ok := v.(map[string]any); ok {
			s, _ := t["text"].(string)
			return s
		}
		return ""
	}
	for _, bl := range blocks {
		switch bl["type"] {
		case "header":
			lines = append(lines, "== "+text(bl["text"])+" ==")
		case "section":
			line := text(bl["text"])
			if fs, ok := bl["fields"].([]any); ok {
				var parts []string
				for _, f := range fs {
					parts = append(parts, strings.ReplaceAll(text(f), "\n", " "))
				}
				line = strings.TrimSpace(line + "\n" + strings.Join(parts, " | "))
			}
			if acc, ok := bl["accessory"].(map[string]any); ok && acc["type"] == "button" {
				line += "  [" + text(acc["text"]) + "]"
			}
			lines = append(lines, line)
		case "context":
			var parts []string
			if els, ok := bl["elements"].([]any); ok {
				for _, e := range els {
					parts = append(parts, text(e))
				}
			}
			lines = append(lines, "  "+strings.Join(parts, " "))
		case "divider":
			lines = append(lines, "---")
		case "actions":
			var parts []string
			if els, ok := bl["elements"].([]any); ok {
				for _, e := range els {
					if el, ok := e.(map[string]any); ok {
						parts = append(parts, "["+text(el["text"])+"]")
					}
				}
			}
			lines = append(lines, strings.Join(parts, " "))
		}
	}
	return strings.Join(lines, "\n")
}

// Contains reports whether the rendered message or its fallback text
// contains s.
func (m *Message) Contains(s string) bool {
	return strings.Contains(m.Render(), s) || strings.Contains(m.Text, s)
}

func (m *Message) String() string {
	kind := "message"
	if m.Ephemeral {
		kind = "ephemeral to " + m.User
	}
	where := m.Channel
	if m.ThreadTS != "" {
		where += " thread " + m.ThreadTS
	}
	return fmt.Sprintf("%s in %s (ts %s):\n%s", kind, where, m.TS, m.Render())
}

// Match selects messages for an expectation.
type Match struct {
	Channel   string // "" any
	Thread    string // "" any; a thread ts to require a reply in that thread
	User      string // ephemeral recipient; "" for channel messages
	Ephemeral bool
	Contains  []string
}

func (ma Match) ok(m *Message) bool {
	if ma.Channel != "" && m.Channel != ma.Channel {
		return false
	}
	if ma.Thread != "" && m.ThreadTS != ma.Thread {
		return false
	}
	if m.Ephemeral != ma.Ephemeral || (ma.Ephemeral && ma.User != "" && m.User != ma.User) {
		return false
	}
	for _, c := range ma.Contains {
		if !m.Contains(c) {
			return false
		}
	}
	return true
}

// merged reports whether m is plain thread lines the bot may have merged.
func (m *Message) merged() bool {
	return m.ThreadTS != "" && !m.Ephemeral && strings.Contains(m.Text, "\n") && m.onlyText()
}

// onlyText reports whether the blocks say nothing the text does not: none,
// or one section holding the text (how the bot posts thread lines).
func (m *Message) onlyText() bool {
	var blocks []struct {
		Type string `json:"type"`
		Text struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	if json.Unmarshal(m.Blocks, &blocks) != nil {
		return len(m.Blocks) == 0
	}
	return len(blocks) == 0 || (len(blocks) == 1 && blocks[0].Type == "section" && blocks[0].Text.Text == m.Text)
}

// takeLines consumes the unused lines of a merged message that hold
// parts; it reports false, consuming nothing, unless every part is in an
// unused line.
func (ma Match) takeLines(m *Message) bool {
	if len(ma.Contains) == 0 || !ma.ok(m) {
		return false
	}
	lines := strings.Split(m.Text, "\n")
	if len(m.used) != len(lines) {
		m.used = make([]bool, len(lines))
	}
	var take []int
	for _, c := range ma.Contains {
		found := -1
		for i, l := range lines {
			if !m.used[i] && strings.Contains(l, c) {
				found = i
				break
			}
		}
		if found < 0 {
			return false
		}
		take = append(take, found)
	}
	for _, i := range take {
		m.used[i] = true
	}
	return true
}

// Expect waits for an unseen message matching q and marks it seen. In a
// message of merged thread lines, each expectation consumes the lines it
// matched, so the next one can match the same message's other lines.
func (s *Server) Expect(t testing.TB, q Match) *Message {
	t.Helper()
	return s.ExpectWithin(t, Timeout, q)
}

// ExpectWithin is Expect with its own bound: under Slack's limits a
// channel takes about one message a second, so a test that makes many
// waits longer for the last.
func (s *Server) ExpectWithin(t testing.TB, d time.Duration, q Match) *Message {
	t.Helper()
	var found *Message
	err := s.waitFor(d, func() bool {
		for _, m := range s.messages {
			if m.merged() && q.takeLines(m) {
				m.seen = true
				found = m
				return true
			}
			if !m.seen && !m.merged() && q.ok(m) {
				m.seen = true
				found = m
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("expected a message %+v; have:\n%s", q, s.dump())
	}
	return found
}

// ExpectMessage waits for a channel (or thread) message containing all of parts.
func (s *Server) ExpectMessage(t testing.TB, channel string, parts ...string) *Message {
	t.Helper()
	return s.Expect(t, Match{Channel: channel, Contains: parts})
}

// ExpectEphemeral waits for a reply only user sees containing all of parts.
func (s *Server) ExpectEphemeral(t testing.TB, user string, parts ...string) *Message {
	t.Helper()
	return s.Expect(t, Match{User: user, Ephemeral: true, Contains: parts})
}

// ExpectUpdated waits until m has been updated to contain all of parts.
func (s *Server) ExpectUpdated(t testing.TB, m *Message, parts ...string) *Message {
	t.Helper()
	return s.ExpectUpdatedWithin(t, Timeout, m, parts...)
}

// ExpectUpdatedWithin is ExpectUpdated with its own bound (a lease to lapse).
func (s *Server) ExpectUpdatedWithin(t testing.TB, d time.Duration, m *Message, parts ...string) *Message {
	t.Helper()
	err := s.waitFor(d, func() bool {
		for _, p := range parts {
			if !m.Contains(p) {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("message %s never came to contain %q; it reads:\n%s", m.TS, parts, s.render(m))
	}
	return m
}

func (s *Server) render(m *Message) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return m.Render()
}

// ExpectFile waits for an uploaded file whose content contains all of parts.
func (s *Server) ExpectFile(t testing.TB, channel string, parts ...string) *File {
	t.Helper()
	var found *File
	err := s.waitFor(Timeout, func() bool {
		for _, f := range s.files {
			if channel != "" && f.Channel != channel {
				continue
			}
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(f.Content, p)
			}
			if ok {
				found = f
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("expected a file in %s containing %q; have %d files", channel, parts, len(s.files))
	}
	return found
}

// ExpectFileNamed waits for a file in channel whose name starts with
// prefix (a binary file, a PNG, has no text to match).
func (s *Server) ExpectFileNamed(t testing.TB, channel, prefix string) *File {
	t.Helper()
	var found *File
	err := s.waitFor(Timeout, func() bool {
		for _, f := range s.files {
			if f.Channel == channel && strings.HasPrefix(f.Name, prefix) {
				found = f
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("expected a file named %s… in %s; have %d files", prefix, channel, len(s.files))
	}
	c := *found
	return &c
}

// Click presses the button labelled label on m as user and waits for the ack.
func (s *Server) Click(t testing.TB, user string, m *Message, label string) {
	t.Helper()
	s.mu.Lock()
	buttons := m.Buttons()
	s.mu.Unlock()
	for _, b := range buttons {
		if b.Label == label {
			id, err := s.Press(user, m, b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.WaitAck(id, Timeout); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no button %q on message:\n%s", label, s.render(m))
}

// Command types /clerk-incident text as user in channel and waits for the ack.
func (s *Server) Command(t testing.TB, user, channel, text string) Ack {
	t.Helper()
	id, err := s.SlashCommand(user, channel, text)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.WaitAck(id, Timeout)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// NoUnexpectedMessages fails if any message was posted that no expectation
// consumed.
func (s *Server) NoUnexpectedMessages(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if !m.seen {
			t.Errorf("unexpected %s", m)
		}
	}
}

// Messages returns a snapshot of all messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// Files returns a snapshot of uploaded files.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, len(s.files))
	for i, f := range s.files {
		out[i] = *f
	}
	return out
}

// SeenBy is everything user can read in Slack, as text: the channels'
// messages and files, their own ephemeral replies, and their own DMs with
// the bot (D<user>) and the group DMs they are in; others' ephemerals and
// DMs are left out, as Slack shows them to nobody else. A channel whose
// members are known (SetMembers, created by the bot) shows to its members;
// any other, to everyone.
func (s *Server) SeenBy(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	visible := func(channel string) bool {
		if strings.HasPrefix(channel, "D") {
			return channel == "D"+user
		}
		if users, ok := s.groupDMs[channel]; ok {
			return slices.Contains(users, user)
		}
		if _, known := s.members[channel]; known || s.roomsLocked().byID[channel] != nil {
			return slices.Contains(s.membersLocked(channel), user)
		}
		return true
	}
	var b strings.Builder
	for _, m := range s.messages {
		if (m.Ephemeral && m.User != user) || !visible(m.Channel) {
			continue
		}
		b.WriteString(m.String() + "\n" + m.Text + "\n\n")
	}
	for _, f := range s.files {
		if visible(f.Channel) {
			fmt.Fprintf(&b, "file %s in %s: %s\n%s\n%s\n\n", f.Name, f.Channel, f.Title, f.Comment, f.Content)
		}
	}
	return b.String()
}

func (s *Server) dump() string {
	var b strings.Builder
	for _, m := range s.messages {
		seen := ""
		if m.seen {
			seen = " (seen)"
		}
		b.WriteString(m.String() + seen + "\n\n")
	}
	return b.String()
}
