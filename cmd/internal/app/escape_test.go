package app_test

import (
	"strings"
	"testing"
	"time"
)

// liveControls fails if text holds a live Slack link, mention of U2 or
// broadcast: what an outsider typed must show as text.
func liveControls(t *testing.T, what, text string) {
	t.Helper()
	for _, bad := range []string{"<https://", "<@U2>", "<!channel>"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s holds %q live:\n%s", what, bad, text)
		}
	}
}

// An outsider's refused command, link, mention and broadcast included,
// shows in a responder's `audit` as escaped text; a flood of refusals is
// stored ten a minute and counted beyond, and the real entries stay.
func TestAuditShowsRefusedTextEscapedAndSurvivesAFlood(t *testing.T) {
	h := startSecurity(t, nil)
	s := h.slack
	h.open(t, "open security Token leak")
	s.Command(t, "U1", "C1", "note INC-1 rotated the signing key")
	s.ExpectEphemeral(t, "U1", "Note added")
	s.Command(t, "U9", "C1", "note INC-1 <https://evil.example|Open the runbook> <@U2> approved <!channel>")
	s.ExpectEphemeral(t, "U9", "Only incident responders")
	escaped := "&lt;https://evil.example|Open the runbook&gt; &lt;@U2&gt; approved &lt;!channel&gt;"
	// Each entry is written as its command returns: ask until it is in.
	var text string
	for range 100 {
		s.Command(t, "U1", "C1", "audit INC-1")
		text = s.ExpectEphemeral(t, "U1", "Audit log of INC-1").Render()
		if strings.Contains(text, "<@U9> · note") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	liveControls(t, "audit INC-1", text)
	if !strings.Contains(text, escaped) {
		t.Errorf("audit INC-1 does not show the refused text escaped:\n%s", text)
	}
	for range 40 {
		s.Command(t, "U9", "C1", "ack INC-1")
		s.ExpectEphemeral(t, "U9", "Only incident responders")
	}
	for range 100 {
		s.Command(t, "U1", "C1", "audit")
		text = s.ExpectEphemeral(t, "U1", "Audit log").Render()
		if strings.Contains(text, "refused 31 more times") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	liveControls(t, "audit", text)
	for _, want := range []string{
		escaped, "<@U1> · open ·", "<@U1> · note · INC-1 · ok · note INC-1 rotated the signing key",
		"<@U9> · refusals over the limit · refused · refused 31 more times",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("audit lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "<@U9> · ack · INC-1 · refused"); n > 10 {
		t.Errorf("%d refusals of U9 stored in one minute, want at most 10:\n%s", n, text)
	}
}

// Tokens of pasted user lists that are neither IDs nor e-mails are named
// back escaped: x<!channel>y is text, not a broadcast.
func TestPastedRefsAreEchoedEscaped(t *testing.T) {
	h := startSecurity(t, nil)
	s := h.slack
	h.open(t, "open security Token leak")
	s.Command(t, "U1", "C1", "lockout user_abc x<!channel>y z<https://evil.example|runbook>z -- why")
	text := s.ExpectEphemeral(t, "U1", "not user IDs or e-mail addresses").Render()
	liveControls(t, "lockout reply", text)
	if !strings.Contains(text, "x&lt;!channel&gt;y, z&lt;https://evil.example|runbook&gt;z") {
		t.Errorf("lockout reply does not name the tokens escaped:\n%s", text)
	}
	s.Command(t, "U1", "C1", "affected INC-1 add user_abc a<@U2>b")
	text = s.ExpectEphemeral(t, "U1", "Not one:").Render()
	liveControls(t, "affected reply", text)
	if !strings.Contains(text, "a&lt;@U2&gt;b") {
		t.Errorf("affected reply does not name the token escaped:\n%s", text)
	}
}

// A failed command's outcome names what was typed; `audit` shows it as
// text: `severity <!channel>` broadcasts nothing when audit is read.
func TestAuditShowsAFailedOutcomeEscaped(t *testing.T) {
	h := startSecurity(t, nil)
	s := h.slack
	h.open(t, "open security Token leak")
	s.Command(t, "U1", "C1", "severity INC-1 <!channel>")
	s.ExpectEphemeral(t, "U1", "is not a severity")
	var text string
	for range 100 {
		s.Command(t, "U1", "C1", "audit INC-1")
		text = s.ExpectEphemeral(t, "U1", "Audit log of INC-1").Render()
		if strings.Contains(text, "is not a severity") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	liveControls(t, "audit INC-1", text)
	if !strings.Contains(text, "· failed: \"&lt;!channel&gt;\" is not a severity") {
		t.Errorf("audit INC-1 does not show the failed outcome escaped:\n%s", text)
	}
}
