package app_test

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// The approver decides on what is real: before the request is posted each
// target is looked up in Clerk; typos and unknown IDs are listed apart and
// not counted ("Ban 1 user(s)", not 31), an address two accounts share is
// not guessed at, and a request with nothing found is refused. The full
// list (names, e-mails, the reason unmasked) is the approvers' alone, and
// a decided request keeps its targets, reason and outcome.
func TestApproverSeesWhatIsRealBeforeAndAfterDeciding(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U3"})
	s, fc := h.slack, h.clerk
	s.AddGuest("UG", "gary-guest", true)
	eve := fc.AddUser("Eve", "eve@example.com", 2)
	tia, tom := fc.AddUser("Tia", "shared@example.com", 1), fc.AddUser("Tom", "shared@example.com", 1)
	card := h.open(t, "open security Credential stuffing")

	// Nothing found: refused, nothing posted, nothing stored.
	s.Command(t, "U1", "C1", "lockout typo@exmaple.com user_nobody")
	s.ExpectEphemeral(t, "U1", "No lockout requested", "none of the 2 target(s) is one account in Clerk", "Not found in Clerk: typo@exmaple.com, user_nobody")
	for _, m := range s.Messages() {
		if strings.Contains(m.Text+string(m.Blocks), "Approval needed") {
			t.Fatalf("a request with no account found was posted: %s", m.String())
		}
	}

	refs := []string{"eve@example.com", "shared@example.com"}
	for i := range 29 {
		refs = append(refs, fmt.Sprintf("typo-%02d@exmaple.com", i))
	}
	s.Command(t, "U1", "C1", "lockout "+strings.Join(refs, "\n")+" -- stuffing from 203.0.113.7")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout", "Ban 1 user(s)", "*Targets (1):* " + eve.ID + " (E.)",
		"*Not in the count:* 29 not found in Clerk, 1 matching several accounts", "stuffing from [IP]", "[Show targets]"}})
	s.ExpectEphemeral(t, "U1", "Approval requested", "Not found in Clerk (29), not in the count", "shared@example.com → "+tia.ID+", "+tom.ID, "name one by ID")

	// The approver reads what they approve; a guest who clicks does not.
	s.Click(t, "U3", req, "Show targets")
	s.ExpectEphemeral(t, "U3", "Targets of apr-", "Only you can see this", eve.ID+" · Eve · eve@example.com", "Not found in Clerk (29), not in the count: typo-00@exmaple.com",
		"shared@example.com → "+tia.ID+", "+tom.ID, "Reason: stuffing from 203.0.113.7")
	s.Click(t, "UG", req, "Show targets")
	refusal := s.ExpectEphemeral(t, "UG")
	if strings.Contains(refusal.Render(), "eve@example.com") {
		t.Fatalf("the guest was shown the targets:\n%s", refusal.Render())
	}

	s.Click(t, "U3", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U3>", "*Targets (1):* "+eve.ID+" (E.)", "29 not found in Clerk", "stuffing from [IP]", eve.ID+" (E.): banned, sign-in blocked", "[Show targets]")
	if n := fc.CountCalls("POST", "/ban"); n != 1 || !fc.User(eve.ID).Banned || fc.User(tia.ID).Banned || fc.User(tom.ID).Banned {
		t.Fatalf("ban calls %d; only Eve is to be banned", n)
	}

	// Denied: the decided message still says what was asked and why.
	s.Command(t, "U1", "C1", "lockout "+tia.ID+" -- shares an address with a stuffed account")
	req2 := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout", tia.ID + " (T.)"}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U3", req2, "Deny")
	s.ExpectUpdated(t, req2, "Denied by <@U3>", "*Targets (1):* "+tia.ID+" (T.)", "*Reason:* shares an address with a stuffed account", "Nothing was done")
	s.Click(t, "U3", req2, "Show targets")
	s.ExpectEphemeral(t, "U3", "Targets of apr-", tia.ID+" · Tia · shared@example.com")
	if fc.User(tia.ID).Banned {
		t.Fatal("a denied lockout banned")
	}
}

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	ipv4Re  = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	ipv6Re  = regexp.MustCompile(`(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}`)
)

// personalIn lists the e-mail and IP addresses in text.
func personalIn(text string) []string {
	out := append(emailRe.FindAllString(text, -1), ipv4Re.FindAllString(text, -1)...)
	for _, c := range ipv6Re.FindAllString(text, -1) {
		if strings.Count(c, ":") >= 2 && net.ParseIP(c) != nil {
			out = append(out, c)
		}
	}
	return out
}

// Everything a security incident posts where the channel reads it (the
// channel, its threads, files there; not the ephemeral answers and DMs
// of the one who asked, nor the responders' group DM) holds no e-mail or
// IP address, though every action of the incident handles them: user and
// its share, revoke, lockout and its approval, affected add and export and
// its share, unlock, resolve, the postmortem report.
func TestSecurityIncidentPostsNoEmailOrIPWhereTheChannelReads(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U2,U3"})
	s, fc := h.slack, h.clerk
	s.AddGuest("UG", "gary-guest", false)
	eve := fc.AddUser("Eve", "eve@example.com", 0)
	fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Macintosh", Browser: "Chrome", Version: "131", IP: "198.51.100.7", City: "Berlin", Country: "DE"})
	fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Windows", Browser: "Firefox", Version: "128", IP: "2001:db8::7", City: "Lagos", Country: "NG"})
	ann, ben := fc.AddUser("Ann", "ann@example.com", 2), fc.AddUser("Ben", "ben@example.com", 1)
	card := h.open(t, "open security Account takeover at eve@example.com")

	s.Command(t, "U1", "C1", "user eve@example.com")
	inv := s.ExpectEphemeral(t, "U1", "198.51.100.7", "[Share in thread]")
	s.Click(t, "U1", inv, "Share in thread")
	warn := s.ExpectEphemeral(t, "U1", "Who reads the thread", "1 of them guests")
	s.Click(t, "U1", warn, "Share with the responders only")
	s.ExpectEphemeral(t, "U1", "Shared the investigation")

	s.Command(t, "U1", "C1", "revoke eve@example.com\nann@example.com\nghost@example.com")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Sessions revoked", ann.ID + " (A.)"}})
	s.ExpectEphemeral(t, "U1", "Sessions revoked", "ghost@example.com")

	s.Command(t, "U1", "C1", "lockout ann@example.com ben@example.com typo@example.com -- phished from 203.0.113.7 via ann@example.com")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout", "Ban 2 user(s)"}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U2", req, "Show targets")
	s.ExpectEphemeral(t, "U2", "ben@example.com")
	s.Click(t, "U2", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U2>", ben.ID+" (B.): banned")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Ended", "lockout of 2 accounts"}})

	s.Command(t, "U1", "C1", "affected add ben@example.com nobody@example.com")
	s.ExpectEphemeral(t, "U1", "1 account(s) added", "nobody@example.com")
	s.Command(t, "U1", "C1", "affected export")
	exp := s.ExpectEphemeral(t, "U1", "inc-1-affected-accounts.csv", "[Share in thread]")
	s.Click(t, "U1", exp, "Share in thread")
	warn = s.ExpectEphemeral(t, "U1", "Who reads the thread", "The export")
	s.Click(t, "U1", warn, "Share with the responders only")
	s.ExpectEphemeral(t, "U1", "Shared the affected-accounts export")

	s.Command(t, "U1", "C1", "unlock ann@example.com")
	s.ExpectEphemeral(t, "U1", "unbanned and unlocked ann@example.com")
	s.Command(t, "U1", "C1", "resolve INC-1 locked out the stuffed accounts")
	s.ExpectEphemeral(t, "U1", "INC-1 is resolved")
	s.Command(t, "U1", "C1", "postmortem INC-1")
	s.ExpectEphemeral(t, "U1", "The report for INC-1 is in the thread")
	report := s.ExpectFileNamed(t, "CINC", "inc-1-postmortem")

	// Everything the channel reads, guests included.
	shared, channelMsgs := 0, 0
	for _, m := range s.Messages() {
		if m.Ephemeral || strings.HasPrefix(m.Channel, "D") {
			continue
		}
		if s.GroupDM(m.Channel) != nil {
			shared++
			continue
		}
		channelMsgs++
		if got := personalIn(m.Text + "\n" + string(m.Blocks)); len(got) > 0 {
			t.Errorf("the channel reads %v in:\n%s", got, m.Render())
		}
	}
	for _, f := range s.Files() {
		if strings.HasPrefix(f.Channel, "D") || s.GroupDM(f.Channel) != nil {
			continue
		}
		if got := personalIn(f.Title + "\n" + f.Comment + "\n" + f.Content); len(got) > 0 {
			t.Errorf("the channel's file %s holds %v:\n%s", f.Name, got, f.Content)
		}
	}
	if got := leaks(s.SeenBy("UG")); len(got) > 0 {
		t.Errorf("the guest reads %v", got)
	}
	// The report records the long actions with their outcomes.
	if !strings.Contains(report.Content, "### Long actions") || !strings.Contains(report.Content, "revoke of the sessions of 2 users") ||
		!strings.Contains(report.Content, "lockout of 2 accounts (apr-") || !strings.Contains(report.Content, "done - 2 of 2 users banned") {
		t.Errorf("the report lacks the long actions:\n%s", report.Content)
	}
	if shared < 1 || channelMsgs < 5 || !strings.Contains(report.Content, ann.ID) {
		t.Fatalf("%d channel messages, %d shared with the responders; report:\n%s", channelMsgs, shared, report.Content)
	}
}
