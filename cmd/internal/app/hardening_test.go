package app_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// Procedure 2 end to end against the fake Clerk: each command, who may do
// it, what Clerk receives, and where personal data and secrets go.

// clerkWithinSpec fails the test for any request the fake Clerk received
// that Clerk's OpenAPI spec does not allow (path, method, query, body).
func clerkWithinSpec(t *testing.T, fc *fakeclerk.Server) {
	t.Helper()
	raw, err := os.ReadFile("../../../clerkops/testdata/clerk-bapi-2025-04-10.yml")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := fakeclerk.ParseSpec(raw)
	if err != nil {
		t.Fatal(err)
	}
	problems, _ := sp.Check(fc.Calls())
	for _, p := range problems {
		t.Error(p)
	}
}

// countCalls counts the requests of method whose path ends with suffix,
// answered or not.
func countCalls(fc *fakeclerk.Server, method, suffix string) int {
	n := 0
	for _, c := range fc.Calls() {
		if c.Method == method && strings.HasSuffix(c.Path, suffix) {
			n++
		}
	}
	return n
}

func TestProtectOnAtOnceOffOnlyOnceASecondPersonApproves(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	card := h.open(t, "open security Bot sign-ups")

	// Anyone may read the switches; the answer is what Clerk says.
	s.Command(t, "U9", "C1", "protect status")
	s.ExpectEphemeral(t, "U9", "Clerk Protect: rules *off*, specter *off*")
	// Outsiders may not change them.
	s.Command(t, "U9", "C1", "protect on")
	s.ExpectEphemeral(t, "U9", "Only incident responders may use `protect`")
	if countCalls(fc, "PATCH", "/instance/protect") != 0 {
		t.Fatal("a refused protect reached Clerk")
	}

	h.ticked(t, "INC-1", incident.StepExtraVerification, false)
	s.Command(t, "U1", "C1", "protect on")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"<@U1> turned Clerk Protect's rules *on*", "rules *on*"}})
	s.ExpectEphemeral(t, "U1", "turned Clerk Protect's rules *on*")
	if rules, _ := fc.Protect(); !rules {
		t.Fatal("Protect's rules are not on")
	}
	h.ticked(t, "INC-1", incident.StepExtraVerification, true)

	// Off needs a reason, then a second person.
	s.Command(t, "U1", "C1", "protect off")
	s.ExpectEphemeral(t, "U1", "Say why Protect's rules should go off")
	s.Command(t, "U1", "C1", "protect off bot rules block our partner's load test")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: Clerk Protect off", "partner's load test", "Requested by <@U1>"}})
	stale := req.Buttons()[0] // a copy of the message as a third person still sees it
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U1", req, "Approve")
	s.ExpectEphemeral(t, "U1", "You made this request; someone else must approve it.")
	if rules, _ := fc.Protect(); !rules || countCalls(fc, "PATCH", "/instance/protect") != 1 {
		t.Fatal("the requester's own click turned Protect off")
	}
	s.Click(t, "U2", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U2>", "Clerk Protect's rules are off")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Protect off*", "Clerk Protect's rules are off (Clerk answered rules_enabled false", "`protect on` turns them back on"}})
	if rules, _ := fc.Protect(); rules {
		t.Fatal("Protect's rules are still on after approval")
	}
	pressStale(t, s, "U3", req, stale)
	s.ExpectEphemeral(t, "U3", "already approved by")
	if n := countCalls(fc, "PATCH", "/instance/protect"); n != 2 {
		t.Fatalf("PATCH /instance/protect sent %d times, want on once and off once", n)
	}
	s.NoUnexpectedMessages(t)
	clerkWithinSpec(t, fc)
}

func TestRestrictShowsWhatClerkAnswered(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	card := h.open(t, "open security Fake sign-ups")

	s.Command(t, "U1", "C1", "restrict disposable maybe")
	s.ExpectEphemeral(t, "U1", "Say which restriction and on or off")
	s.Command(t, "U1", "C1", "restrict disposable on")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Clerk now blocks sign-ups from disposable e-mail domains", "disposable e-mail domains blocked *on*", "subaddresses blocked *off*"}})
	s.ExpectEphemeral(t, "U1", "disposable e-mail domains blocked *on*")
	if !fc.Restriction("block_disposable_email_domains") || fc.Restriction("block_email_subaddresses") {
		t.Fatal("Clerk's restrictions are not what was asked")
	}
	h.ticked(t, "INC-1", incident.StepExtraVerification, true)
	s.Command(t, "U2", "C1", "restrict subaddresses on INC-1")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Clerk now blocks e-mail subaddresses"}})
	s.ExpectEphemeral(t, "U2", "subaddresses blocked *on*")
	s.Command(t, "U2", "C1", "restrict subaddresses off")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Clerk no longer blocks e-mail subaddresses"}})
	s.ExpectEphemeral(t, "U2", "subaddresses blocked *off*")
	if fc.Restriction("block_email_subaddresses") {
		t.Fatal("subaddresses still blocked")
	}
	s.NoUnexpectedMessages(t)
	clerkWithinSpec(t, fc)
}

func TestBlockADomainNeedsApprovalAndAnAddressStaysWithTheAsker(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	card := h.open(t, "open security Credential stuffing")

	s.Command(t, "U1", "C1", "block not-an-address")
	s.ExpectEphemeral(t, "U1", "is not an e-mail address, a phone number")
	// An address is blocked at once; the thread names only its kind.
	s.Command(t, "U1", "C1", "block attacker@evil.example")
	line := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"<@U1> put an e-mail address (blid_", "on Clerk's blocklist"}})
	s.ExpectEphemeral(t, "U1", "`attacker@evil.example` is on the blocklist as blid_")
	if strings.Contains(line.Render(), "attacker@") {
		t.Fatalf("the thread names the address:\n%s", line.Render())
	}
	if got := strings.Join(fc.Blocklisted(), ","); got != "attacker@evil.example" {
		t.Fatalf("blocklist %q", got)
	}
	h.ticked(t, "INC-1", incident.StepExtraVerification, true)

	// A domain waits for a second person.
	s.Command(t, "U1", "C1", "block *@evil.example -- the stuffing comes from there")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: domain block", "every address of evil.example", "the stuffing comes from there"}})
	stale := req.Buttons()[0] // a copy of the message as a third person still sees it
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U1", req, "Approve")
	s.ExpectEphemeral(t, "U1", "someone else must approve it")
	if len(fc.Blocklisted()) != 1 {
		t.Fatal("the domain was blocked before approval")
	}
	s.Click(t, "U2", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U2>")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Blocked*", "*@evil.example is on Clerk's blocklist"}})
	pressStale(t, s, "U3", req, stale)
	s.ExpectEphemeral(t, "U3", "already approved by")
	if got := strings.Join(fc.Blocklisted(), ","); got != "*@evil.example,attacker@evil.example" || countCalls(fc, "POST", "/blocklist_identifiers") != 2 {
		t.Fatalf("blocklist %q after %d POSTs", got, countCalls(fc, "POST", "/blocklist_identifiers"))
	}

	// Unblock acts at once; an identifier not on the list changes nothing.
	s.Command(t, "U2", "C1", "unblock *@evil.example")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"<@U2> took `*@evil.example` off Clerk's blocklist"}})
	s.ExpectEphemeral(t, "U2", "is off the blocklist")
	s.Command(t, "U2", "C1", "unblock nobody@example.com")
	s.ExpectEphemeral(t, "U2", "is not on Clerk's blocklist; nothing changed")
	if got := strings.Join(fc.Blocklisted(), ","); got != "attacker@evil.example" {
		t.Fatalf("blocklist after unblock %q", got)
	}
	// A plan without the blocklist is told as such.
	fc.BlocklistStatus(402)
	s.Command(t, "U1", "C1", "block +15555550123")
	s.ExpectEphemeral(t, "U1", "plan does not include it (402")
	s.NoUnexpectedMessages(t)
	clerkWithinSpec(t, fc)
}

// The new secret appears in the requester's direct message and nowhere
// else: no other Slack message or file, not the audit log, the timeline,
// the stored request, nor the logs.
func secretOnlyInDM(t *testing.T, h *secHarness, secret, dm string) {
	t.Helper()
	if secret == "" {
		t.Fatal("no secret to look for")
	}
	inDM := 0
	for _, m := range h.slack.Messages() {
		if strings.Contains(m.Text+string(m.Blocks), secret) {
			if m.Channel != dm || m.Ephemeral || m.ThreadTS != "" {
				t.Fatalf("the secret is in a message to %s/%s (user %q):\n%s", m.Channel, m.ThreadTS, m.User, m.Render())
			}
			inDM++
		}
	}
	if want := map[bool]int{true: 0, false: 1}[dm == ""]; inDM != want {
		t.Fatalf("the secret is in %d direct messages, want %d", inDM, want)
	}
	for _, f := range h.slack.Files() {
		if strings.Contains(f.Content+f.Comment+f.Title, secret) {
			t.Fatalf("the secret is in file %s in %s", f.Name, f.Channel)
		}
	}
	rdb, _ := redistest.Client(t)
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, h.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		var vals []string
		switch rdb.Type(ctx, k).Val() {
		case "string":
			vals = []string{rdb.Get(ctx, k).Val()}
		case "list":
			vals = rdb.LRange(ctx, k, 0, -1).Val()
		case "hash":
			for _, v := range rdb.HGetAll(ctx, k).Val() {
				vals = append(vals, v)
			}
		case "stream":
			for _, e := range rdb.XRange(ctx, k, "-", "+").Val() {
				for _, v := range e.Values {
					if s, ok := v.(string); ok {
						vals = append(vals, s)
					}
				}
			}
		}
		for _, v := range vals {
			if strings.Contains(v, secret) {
				t.Fatalf("Redis key %s (audit, timeline or request) holds the secret", k)
			}
		}
	}
	if strings.Contains(h.logs.String(), secret) {
		t.Fatal("the logs hold the secret")
	}
}

func TestRotateMachineNeedsASecondPersonAndTheSecretGoesToTheRequesterAlone(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	mch := fc.AddMachine("billing-worker")
	old := fc.Machine(mch).Secret
	card := h.open(t, "open security Machine key in a public repo")

	s.Command(t, "U1", "C1", "rotate machine nope")
	s.ExpectEphemeral(t, "U1", "Give a machine ID (mch_…) first")
	s.Command(t, "U1", "C1", "rotate machine "+mch+" --keep 9h")
	s.ExpectEphemeral(t, "U1", "--keep takes a duration from 0 to 8h")
	h.ticked(t, "INC-1", incident.StepResetKeys, false)

	s.Command(t, "U1", "C1", "rotate machine "+mch+" --keep 2h pushed to a public repo")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: secret rotation", "machine " + mch, "keeps working for 2 h", "pushed to a public repo"}})
	stale := req.Buttons()[0] // a copy of the message as a third person still sees it
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U1", req, "Approve")
	s.ExpectEphemeral(t, "U1", "someone else must approve it")
	if fc.Machine(mch).Rotations != 0 {
		t.Fatal("the requester's own click rotated the key")
	}
	s.Click(t, "U2", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U2>", "Rotated the secret key of machine "+mch)
	dm := s.Expect(t, fakeslack.Match{Channel: "DU1", Contains: []string{"New secret for the secret key of machine " + mch, "keeps working until"}})
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Rotated*", "for alice (U1)", "direct message with the bot", "the old key works until"}})
	pressStale(t, s, "U3", req, stale)
	s.ExpectEphemeral(t, "U3", "already approved by")
	m := fc.Machine(mch)
	if m.Rotations != 1 || m.Secret == old || m.Previous != old {
		t.Fatalf("rotations %d (want 1), the old key kept: %v", m.Rotations, m.Previous == old)
	}
	if grace := time.Until(m.PreviousUntil); grace < 119*time.Minute || grace > 121*time.Minute {
		t.Fatalf("the old key stays valid for %v, want 2 h", grace)
	}
	if !strings.Contains(dm.Render(), m.Secret) {
		t.Fatal("the DM lacks the new secret")
	}
	h.ticked(t, "INC-1", incident.StepResetKeys, true)
	s.NoUnexpectedMessages(t)
	secretOnlyInDM(t, h, m.Secret, "DU1")
	clerkWithinSpec(t, fc)
}

func TestRotateOAuthSecretAndTheInstanceKeys(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	app := fc.AddOAuthApp("Partner portal", false)
	card := h.open(t, "open security OAuth secret leaked")

	// The instance's own keys: the Dashboard, and what to do after.
	s.Command(t, "U1", "C1", "rotate")
	s.ExpectEphemeral(t, "U1", "rotated in the Clerk Dashboard", "dashboard.clerk.com", "the app's environment", "this bot's own `CLERK_SECRET_KEY`")
	// A key pasted by mistake is neither echoed nor kept in the audit log.
	s.Command(t, "U1", "C1", "rotate sk_live_pastedbymistake12345")
	if m := s.ExpectEphemeral(t, "U1", "If you pasted a secret key here, rotate it now"); strings.Contains(m.Render(), "pastedbymistake") {
		t.Fatal("the pasted key was echoed")
	}
	s.Command(t, "U1", "C1", "rotate oauth "+app+" --keep 1h")
	s.ExpectEphemeral(t, "U1", "--keep is for machine keys")

	s.Command(t, "U2", "C1", "rotate oauth "+app+" secret in a support ticket")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: secret rotation", "OAuth application " + app, "stops working at once"}})
	stale := req.Buttons()[0] // a copy of the message as a third person still sees it
	s.ExpectEphemeral(t, "U2", "Approval requested")
	s.Click(t, "U2", req, "Approve")
	s.ExpectEphemeral(t, "U2", "someone else must approve it")
	s.Click(t, "U1", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U1>")
	s.Expect(t, fakeslack.Match{Channel: "DU2", Contains: []string{"New secret for the client secret of OAuth application " + app + " (Partner portal)", "stopped working at once"}})
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Rotated*", "for bob (U2)", "the old client secret stopped working at once"}})
	pressStale(t, s, "U3", req, stale)
	s.ExpectEphemeral(t, "U3", "already approved by")
	a := fc.OAuthApp(app)
	if a.Rotations != 1 {
		t.Fatalf("rotated %d times", a.Rotations)
	}
	h.ticked(t, "INC-1", incident.StepResetKeys, true)
	s.NoUnexpectedMessages(t)
	secretOnlyInDM(t, h, a.Secret, "DU2")
	secretOnlyInDM(t, h, "sk_live_pastedbymistake12345", "") // the audit log masked it
	clerkWithinSpec(t, fc)
}

func TestLockoutAlsoRemovesTrustedDevicesAndNamedTokensButNeverMFA(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	eve := fc.AddUser("Eve", "eve@example.com", 1)
	fc.AddTrustedDevice(eve.ID, "Eve's iPhone")
	fc.AddTrustedDevice(eve.ID, "Eve's iPad")
	sit := fc.AddToken("sit", eve.ID)
	act := fc.AddToken("act", eve.ID)
	card := h.open(t, "open security Account takeover")

	s.Command(t, "U1", "C1", "lockout "+eve.ID+" "+sit.ID+" "+act.ID+" -- takeover")
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout", "remove their trusted devices", "their MFA stays on", "revoke 2 named sign-in/actor token(s)", sit.ID}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	s.Click(t, "U2", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U2>")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"*Lockout*", "2 trusted devices removed", sit.ID + " (" + eve.ID + "): token revoked", act.ID + " (" + eve.ID + "): token revoked"}})
	if fc.TrustedDevices(eve.ID) != 0 || fc.TokenStatus(sit.ID) != "revoked" || fc.TokenStatus(act.ID) != "revoked" || !fc.User(eve.ID).Banned {
		t.Fatalf("devices %d, tokens %s/%s, banned %v", fc.TrustedDevices(eve.ID), fc.TokenStatus(sit.ID), fc.TokenStatus(act.ID), fc.User(eve.ID).Banned)
	}
	if n := countCalls(fc, "DELETE", "/mfa"); n != 0 {
		t.Fatalf("the lockout disabled MFA (%d calls)", n)
	}
	// The tokens themselves (credentials in Clerk's answers) go nowhere.
	for _, tok := range []string{sit.Secret, act.Secret} {
		for _, m := range s.Messages() {
			if strings.Contains(m.Text+string(m.Blocks), tok) {
				t.Fatalf("a token's value reached Slack:\n%s", m.Render())
			}
		}
		if strings.Contains(h.logs.String(), tok) {
			t.Fatal("a token's value reached the logs")
		}
	}
	s.NoUnexpectedMessages(t)
	clerkWithinSpec(t, fc)
}

func TestAccessReviewAndNotifyDraftGoToTheAskerAlone(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s, fc := h.slack, h.clerk
	eve := fc.AddUser("Eve", "eve@example.com", 0)
	ann := fc.AddUser("Ann", "ann@example.com", 0)
	for range 2 {
		fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Macintosh", Browser: "Chrome", Version: "131", IP: "198.51.100.7", City: "Berlin", Country: "DE"})
	}
	fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Windows", Browser: "Firefox", Version: "128", IP: "203.0.113.9", City: "Lagos", Country: "NG"})
	fc.AddTrustedDevice(eve.ID, "Eve's iPhone")
	card := h.open(t, "open security Account takeover")

	s.Command(t, "U1", "C1", "access review")
	s.ExpectEphemeral(t, "U1", "No accounts are recorded as affected by INC-1")
	s.Command(t, "U1", "C1", "affected add eve@example.com "+ann.ID)
	s.ExpectEphemeral(t, "U1", "2 account(s) added")

	h.ticked(t, "INC-1", incident.StepAccessLogs, false)
	s.Command(t, "U1", "C1", "access review")
	s.ExpectEphemeral(t, "U1", "access review of INC-1 is in your direct messages", "2 account(s): 3 active session(s), 1 flagged as outliers, 1 trusted device(s)")
	f := s.ExpectFile(t, "DU1", "eve@example.com ("+eve.ID+")", "IP 203.0.113.9  Lagos, NG", "FLAGGED: country NG differs from the usual DE", "Eve's iPhone", "ann@example.com")
	if f.ThreadTS != "" {
		t.Fatal("the review went into a thread")
	}
	h.ticked(t, "INC-1", incident.StepAccessLogs, true)

	h.ticked(t, "INC-1", incident.StepNotifyAffected, false)
	s.Command(t, "U2", "C1", "notify draft")
	s.ExpectEphemeral(t, "U2", "inc-1-notify-addresses.csv is in your direct messages", "2 address(es)", "Edit it, then click Final")
	s.ExpectFile(t, "DU2", "email,name,user_id", "eve@example.com,Eve,"+eve.ID, "ann@example.com,Ann,"+ann.ID)
	h.ticked(t, "INC-1", incident.StepNotifyAffected, true)
	draft := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Draft notice to the affected users of INC-1", "we secured your account", "[Edit] [Final] [Discard]"}})

	// Edited like a customer update, then made final once.
	edit := press(t, s, "U1", draft, "Edit")
	v, err := s.WaitView("U1", fakeslack.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	// The same click cannot open a second editor (Slack's exchanged_trigger_id).
	if _, err := s.Resend(edit); err != nil {
		t.Fatal(err)
	}
	s.ExpectEphemeral(t, "U1", "That click already opened the editor once", "click Edit again to edit the notice", "The notice is unchanged")
	submit(t, s, v, "We signed you out everywhere after suspicious activity. Please sign in again.")
	s.ExpectUpdated(t, draft, "We signed you out everywhere after suspicious activity")
	s.Click(t, "U2", draft, "Final")
	s.ExpectUpdated(t, draft, "final, by <@U2>", "We signed you out everywhere")
	s.ExpectEphemeral(t, "U2", "The notice is final")

	// Nothing personal reached the channel: no address, IP or city.
	for _, m := range s.Messages() {
		if m.Channel != "CINC" {
			continue
		}
		for _, p := range []string{"eve@example.com", "ann@example.com", "198.51.100.7", "203.0.113.9", "Lagos"} {
			if strings.Contains(m.Text+string(m.Blocks), p) {
				t.Fatalf("the channel shows %s:\n%s", p, m.Render())
			}
		}
	}
	for _, file := range s.Files() {
		if file.Channel == "CINC" {
			t.Fatalf("a file went to the channel: %s", file.Name)
		}
	}
	s.NoUnexpectedMessages(t)
	clerkWithinSpec(t, fc)
}

func TestHelpSecurityListsProcedureTwo(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	h.slack.Command(t, "U9", "C1", "help security")
	h.slack.ExpectEphemeral(t, "U9", "*Security*", "revoke", "lockout", "protect on|status", "restrict disposable|subaddresses on|off", "block", "unblock", "rotate machine|oauth", "access review", "notify draft")
}

// pressStale clicks a button of an older copy of m (its buttons gone
// since) as user, and waits for the ack.
func pressStale(t *testing.T, s *fakeslack.Server, user string, m *fakeslack.Message, b fakeslack.Button) {
	t.Helper()
	id, err := s.Press(user, m, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitAck(id, fakeslack.Timeout); err != nil {
		t.Fatal(err)
	}
}

// The reasons of Procedure 2's approvals show as text: a broadcast or a
// disguised link typed into them is inert in every message.
func TestHostileReasonsOfProcedureTwoAreInert(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, nil)
	s := h.slack
	card := h.open(t, "open security Takeover")
	for _, c := range []struct{ text, done string }{
		{"protect off INC-1 " + hostile, "*Protect off*"},
		{"block INC-1 *@evil.example -- " + hostile, "*Blocked*"},
		{"rotate machine INC-1 mch_missing " + hostile, "was not rotated"},
	} {
		s.Command(t, "U1", "C1", c.text)
		req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed", "evil.example"}})
		inert(t, *req)
		s.ExpectEphemeral(t, "U1", "Approval requested")
		s.Click(t, "U2", req, "Approve")
		s.ExpectUpdated(t, req, "Approved by <@U2>")
		s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{c.done}})
	}
	for _, m := range s.Messages() {
		inert(t, m)
	}
	s.NoUnexpectedMessages(t)
}
