package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeapp"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/redistest"
)

// Resolving an incident voids its pending bypass and lockout requests; an
// old Approve button clicked afterwards does nothing, and the bypass stays
// off.
func TestResolveVoidsPendingApprovals(t *testing.T) {
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U3"})
	s := h.slack
	card := h.open(t, "open outage Clerk down")
	bp := h.request(t, card, "bypass on 30m", "Approval needed: emergency bypass")
	abe := h.clerk.AddUser("Abe", "abe@example.com", 1)
	lo := h.request(t, card, "lockout abe@example.com", "Approval needed: lockout", abe.ID)
	staleBypass, staleLockout := bp.Buttons()[0], lo.Buttons()[0]

	s.Command(t, "U1", "C1", "resolve Clerk recovered")
	s.ExpectUpdated(t, bp, "void: incident resolved")
	s.ExpectUpdated(t, lo, "void: incident resolved")
	for _, click := range []struct {
		m *fakeslack.Message
		b fakeslack.Button
	}{{bp, staleBypass}, {lo, staleLockout}} {
		if _, err := s.Press("U3", click.m, click.b); err != nil {
			t.Fatal(err)
		}
		s.ExpectEphemeral(t, "U3", "void (incident resolved); nothing was done")
	}
	if _, body := h.bypassJSON(t, ""); body["enabled"] != false {
		t.Fatalf("a stale Approve turned the bypass on: %v", body)
	}
	if n := h.clerk.CountCalls("POST", ""); n != 0 {
		t.Fatalf("a stale Approve reached Clerk (%d changes)", n)
	}
}

// Carrying out refuses when the incident is no longer open, even if the
// request itself is still pending (resolved from elsewhere).
func TestApprovedRequestOfAClosedIncidentIsNotCarriedOut(t *testing.T) {
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U3"})
	s := h.slack
	card := h.open(t, "open outage Clerk down")
	req := h.request(t, card, "bypass on 30m", "Approval needed: emergency bypass")
	rdb, _ := redistest.Client(t)
	if _, err := incident.NewStore(rdb, h.prefix, time.Now).Update(context.Background(), "INC-1", incident.Resolve(incident.Person{Name: "elsewhere"}, "")); err != nil {
		t.Fatal(err)
	}
	s.Click(t, "U3", req, "Approve")
	s.ExpectUpdated(t, req, "Not carried out: INC-1 is no longer open")
	if _, body := h.bypassJSON(t, ""); body["enabled"] != false {
		t.Fatalf("bypass on for a resolved incident: %v", body)
	}
}

// `bypass off` voids a bypass still waiting for approval.
func TestBypassOffVoidsPendingBypass(t *testing.T) {
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U3"})
	s := h.slack
	card := h.open(t, "open outage Clerk down")
	req := h.request(t, card, "bypass on 30m", "Approval needed: emergency bypass")
	stale := req.Buttons()[0]
	s.Command(t, "U2", "C1", "bypass off")
	s.ExpectUpdated(t, req, "void: bypass turned off")
	s.ExpectEphemeral(t, "U2", "not on")
	if _, err := s.Press("U3", req, stale); err != nil {
		t.Fatal(err)
	}
	s.ExpectEphemeral(t, "U3", "void (bypass turned off)")
	if _, body := h.bypassJSON(t, ""); body["enabled"] != false {
		t.Fatalf("bypass on after off: %v", body)
	}
}

// Approvers see every target with the count, as user IDs in the thread
// (the full list behind *Show targets*); a list too long for the message
// is attached as a file of IDs, and the message says so.
func TestApprovalShowsEveryTarget(t *testing.T) {
	h := startSecurity(t, nil)
	s := h.slack
	card := h.open(t, "open security Credential stuffing")
	var few, ids []string
	for i := range 15 {
		few = append(few, fmt.Sprintf("user_%02d@example.com", i))
		ids = append(ids, h.clerk.AddUser("Ann", few[i], 1).ID)
	}
	s.Command(t, "U1", "C1", "lockout "+strings.Join(few, " "))
	req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: append([]string{"Targets (15):"}, ids...)})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	if strings.Contains(req.Render(), "@example.com") {
		t.Fatalf("the thread names e-mails:\n%s", req.Render())
	}
	var many []string
	for i := range 400 {
		many = append(many, fmt.Sprintf("compromised-account-%03d@example.com", i))
		h.clerk.AddUser("Bo", many[i], 0)
	}
	s.Command(t, "U1", "C1", "lockout "+strings.Join(many, "\n"))
	big := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Targets (400):", "their IDs are in the attached file"}})
	s.ExpectEphemeral(t, "U1", "Approval requested")
	var list string
	for _, f := range s.Files() {
		if strings.HasSuffix(f.Name, "-targets.txt") {
			list = f.Content
		}
	}
	if strings.Count(list, "user_") != 400 || strings.Contains(list, "@") {
		t.Fatalf("the attached list is not the 400 IDs:\n%.300s", list)
	}
	// The approver reads the full list in their DM: too long for a message.
	s.Click(t, "U2", big, "Show targets")
	s.ExpectEphemeral(t, "U2", "too many for a message")
	var full string
	for _, f := range s.Files() {
		if strings.HasSuffix(f.Name, "-targets-full.txt") {
			full = f.Content
			if f.Channel != "DU2" {
				t.Fatalf("the full list went to %s, not U2's DM", f.Channel)
			}
		}
	}
	for _, m := range many {
		if !strings.Contains(full, m) {
			t.Fatalf("the approver's list lacks %s", m)
		}
	}
}

// Whoever may approve may also deny, responder or not.
func TestApproverWhoIsNotAResponderMayDeny(t *testing.T) {
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U9"})
	s := h.slack
	card := h.open(t, "open security Account takeover")
	abe := h.clerk.AddUser("Abe", "abe@example.com", 1)
	req := h.request(t, card, "lockout "+abe.ID, "Approval needed: lockout")
	s.Click(t, "U9", req, "Deny")
	s.ExpectUpdated(t, req, "Denied by <@U9>")
}

// The 5-minute reminder offers an extension that works: `bypass extend`
// behind the same approval keeps the bypass on longer.
func TestBypassExtendNeedsApproval(t *testing.T) {
	t.Parallel()
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U3"})
	s := h.slack
	card := h.open(t, "open outage Clerk down")
	req := h.request(t, card, "bypass on 30m", "Approval needed: emergency bypass")
	s.Click(t, "U3", req, "Approve")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Emergency auth bypass is ON"}})
	h.clock.Add(26 * time.Minute)
	h.sweep(context.Background())
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"bypass ends at", "bypass extend &lt;duration&gt;"}})
	ext := h.request(t, card, "bypass extend 15m still down", "Approval needed: bypass extension", "15 min longer")
	s.Click(t, "U3", ext, "Approve")
	s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Emergency auth bypass extended"}})
	_, body := h.bypassJSON(t, "")
	want := h.clock.Now().Add(-26 * time.Minute).Add(45 * time.Minute).UTC().Format(time.RFC3339)
	if body["enabled"] != true || body["expires_at"] != want {
		t.Fatalf("after extension: %v (want %s)", body, want)
	}
	_ = http.StatusOK
}

// Refused clicks are audited as refused, each decision is an entry of its
// own, and a plain `resync` is audited like its variants.
func TestAuditRecordsRefusalsAsRefusals(t *testing.T) {
	t.Parallel()
	fapp := fakeapp.New()
	t.Cleanup(fapp.Close)
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U1,U2,U3", "APP_WEBHOOK_URL": fapp.WebhookURL(), "APP_WEBHOOK_SECRET": fapp.Secret})
	s := h.slack
	card := h.open(t, "open security Account takeover")
	abe, dee := h.clerk.AddUser("Abe", "abe@example.com", 1), h.clerk.AddUser("Dee", "dee@example.com", 1)
	req := h.request(t, card, "lockout "+abe.ID, "Approval needed: lockout")
	approve := req.Buttons()[0]
	s.Click(t, "U1", req, "Approve") // self-approval
	s.ExpectEphemeral(t, "U1", "You made this request")
	s.Click(t, "U9", req, "Approve") // not an approver
	s.ExpectEphemeral(t, "U9", "Only approvers may approve")
	s.Click(t, "U2", req, "Approve")
	s.ExpectUpdated(t, req, "Approved by <@U2>")
	if _, err := s.Press("U3", req, approve); err != nil { // too late
		t.Fatal(err)
	}
	s.ExpectEphemeral(t, "U3", "already approved")
	req2 := h.request(t, card, "lockout "+dee.ID, "Approval needed: lockout", dee.ID)
	stale := req2.Buttons()[0]
	h.clock.Add(16 * time.Minute)
	h.sweep(context.Background())
	s.ExpectUpdated(t, req2, "Expired at")
	if _, err := s.Press("U2", req2, stale); err != nil {
		t.Fatal(err)
	}
	s.ExpectEphemeral(t, "U2", "expired")
	s.Command(t, "U1", "C1", "resync")
	s.ExpectEphemeral(t, "U1", "Pause first?") // a plain resync now asks to pause webhooks first; still audited

	var text string
	for range 50 {
		s.Command(t, "U1", "C1", "audit")
		text = s.ExpectEphemeral(t, "U1", "Audit log").Render()
		// A click's refusal is audited after its reply: wait for it too.
		if strings.Contains(text, "· resync ·") && strings.Contains(text, "refused: expired") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"<@U1> · button approval_approve · INC-1 · refused: self-approval",
		"<@U9> · button approval_approve · INC-1 · refused: not an approver",
		"<@U3> · button approval_approve · INC-1 · refused: already approved",
		"<@U2> · button approval_approve · INC-1 · refused: expired",
		"<@U2> · approval approved", "bot · approval expired", "<@U1> · resync",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("audit lacks %q:\n%s", want, text)
		}
	}
}

// request types a command that asks for approval and returns the request
// posted in the incident's thread.
func (h *secHarness) request(t *testing.T, card *fakeslack.Message, text string, contains ...string) *fakeslack.Message {
	t.Helper()
	h.slack.Command(t, "U1", "C1", text)
	req := h.slack.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: contains})
	h.slack.ExpectEphemeral(t, "U1", "Approval requested")
	return req
}

// `bypass off` also cancels a bypass approved but not carried out yet (the
// approving replica died after the click): no sweep turns it on afterwards.
func TestBypassOffCancelsApprovedBypassNotCarriedOut(t *testing.T) {
	h := startSecurity(t, map[string]string{"SLACK_APPROVERS": "U3"})
	s := h.slack
	card := h.open(t, "open outage Clerk down")
	req := h.request(t, card, "bypass on 30m", "Approval needed: emergency bypass")
	rdb, _ := redistest.Client(t)
	ctx := context.Background()
	ids, err := rdb.ZRange(ctx, h.prefix+"approvals:expiry", 0, -1).Result()
	if err != nil || len(ids) != 1 {
		t.Fatalf("pending requests %v %v", ids, err)
	}
	// The decision is written, the replica dies before carrying it out.
	store := approval.NewStore(rdb, h.prefix, 15*time.Minute, h.clock.Now)
	if _, err := store.Decide(ctx, ids[0], incident.Person{ID: "U3"}, true); err != nil {
		t.Fatal(err)
	}
	s.Command(t, "U2", "C1", "bypass off")
	s.ExpectEphemeral(t, "U2", "not on")
	s.ExpectUpdated(t, req, "Not carried out: bypass turned off")
	h.sweep(ctx)
	if left, _ := store.Unexecuted(ctx); len(left) != 0 {
		t.Fatalf("still to be carried out: %v", left)
	}
	if _, body := h.bypassJSON(t, ""); body["enabled"] != false {
		t.Fatalf("bypass on after off: %v", body)
	}
}
