package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/bot"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

func TestRedactMasksEmailsAndIPs(t *testing.T) {
	for in, want := range map[string]string{
		"credential stuffing from 203.0.113.7 against eve@example.com": "credential stuffing from [IP] against [e-mail]",
		"v6 2001:db8::1 and 2001:db8:0:0:0:0:0:2":                      "v6 [IP] and [IP]",
		"<mailto:a.b+c@sub.example.co.uk|a.b+c@sub.example.co.uk>":     "<mailto:[e-mail]|[e-mail]>",
		"at 03:15:00 UTC, 12 sessions, v1.2":                           "at 03:15:00 UTC, 12 sessions, v1.2",
		"user_2abc and apr-abc123def456":                               "user_2abc and apr-abc123def456",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
		if HasPersonalData(Redact(in)) {
			t.Errorf("Redact(%q) still has personal data", in)
		}
	}
	if Initials("Eve  van Smith") != "E.V.S." || Initials("") != "" || Account("user_1", "Éva Kiss") != "user_1 (É.K.)" || Account("user_1", "") != "user_1" {
		t.Fatalf("initials: %q %q", Initials("Eve  van Smith"), Account("user_1", "Éva Kiss"))
	}
}

// A lockout request as the thread reads it, pending and decided: user
// IDs and initials, counts of what was left out, the reason masked; the
// full list behind *Show targets*.
func TestLockoutRequestInTheThreadHasNoPersonalData(t *testing.T) {
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	a := &approval.Request{ID: "apr-abc123def456", Incident: "INC-1", Action: approval.Lockout, Status: approval.Pending,
		Targets:  []string{"user_1"},
		Accounts: []approval.Account{{ID: "user_1", Name: "Eve Smith", Email: "eve@example.com"}},
		NotFound: []string{"typo@example.com", "user_gone"}, Ambiguous: []approval.Ambiguous{{Ref: "shared@example.com", IDs: []string{"user_7", "user_8"}}},
		Reason: "stuffing from 203.0.113.7", Summary: "Ban 1 user(s) in Clerk",
		RequestedBy: incident.Person{ID: "U1", Name: "alice"}, RequestedAt: now, ExpiresAt: now.Add(15 * time.Minute)}
	pending := ApprovalMsg(a, "<@U2>")
	golden(t, "approval_lockout", pending)
	decided := *a
	decided.Status, decided.DecidedBy, decided.DecidedAt = approval.Denied, &incident.Person{ID: "U2"}, now.Add(time.Minute)
	golden(t, "approval_lockout_denied", DecidedMsg(&decided))
	for _, m := range []string{msgText(pending), msgText(DecidedMsg(&decided))} {
		if HasPersonalData(m) || !strings.Contains(m, "user_1 (E.S.)") || !strings.Contains(m, "2 not found in Clerk, 1 matching several accounts") ||
			!strings.Contains(m, "stuffing from [IP]") || !strings.Contains(m, "Show targets") {
			t.Errorf("thread message:\n%s", m)
		}
	}
	full, fits := TargetsMsg(a)
	text := msgText(full)
	if !fits || !strings.Contains(text, "user_1 · Eve Smith · eve@example.com") || !strings.Contains(text, "typo@example.com, user_gone") ||
		!strings.Contains(text, "shared@example.com → user_7, user_8") || !strings.Contains(text, "203.0.113.7") {
		t.Errorf("the approver's view:\n%s", text)
	}
	refused := LockoutRefused([]string{"typo@example.com"}, nil)
	if !strings.Contains(refused, "No lockout requested") || !strings.Contains(refused, "typo@example.com") {
		t.Errorf("refusal: %s", refused)
	}
}

func TestShareWarningCountsGuests(t *testing.T) {
	m := ShareWarning("The investigation", ThreadReaders{Channel: "CINC", People: 5, Guests: []string{"U7"}}, ActShareUserTo, "INC-1|user_1")
	golden(t, "share_warning", m)
	text := msgText(m)
	if !strings.Contains(text, "public channel with 5 people, *1 of them guests* (<@U7>)") || !strings.Contains(text, "group DM of the responders") {
		t.Errorf("warning:\n%s", text)
	}
}

// msgText is a message's text and its blocks' JSON, as a reader would
// search it.
func msgText(m bot.Msg) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m.Blocks)
	return m.Text + "\n" + b.String()
}
