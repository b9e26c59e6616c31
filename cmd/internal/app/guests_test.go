package app_test

import (
	"os"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeslack"
)

// guestContacts has an on-call phone, which `contacts` shows responders.
const guestContacts = `contacts:
  on_call:
    - {name: Alice, slack_id: U1, phone: "+15550000002"}
  escalation:
    - {level: 1, contact: on_call, time: 0+ min, via: [slack]}
policy: {repeat_every: 1h, repeat_times: 0}
`

// A Slack guest in the channel never gets personal data, whatever
// SLACK_RESPONDERS says: empty (everyone is a responder, guests
// included) or naming the guest. `user <e-mail>` (IPs, cities), `affected`
// and `affected export` (e-mails), *Show targets* (e-mails) and `contacts` (phones) are
// refused with a reply that says why; a full member asking the same gets
// it. `affected` is refused whole: its list names accounts by e-mail too.
func TestGuestNeverGetsPersonalData(t *testing.T) {
	t.Parallel()
	for name, responders := range map[string]string{"SLACK_RESPONDERS empty": "", "SLACK_RESPONDERS naming the guest": "U1,U2,UG"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := t.TempDir() + "/contacts.yml"
			if err := os.WriteFile(path, []byte(guestContacts), 0o600); err != nil {
				t.Fatal(err)
			}
			h := startSecurity(t, map[string]string{"SLACK_RESPONDERS": responders, "SLACK_APPROVERS": "U3", "CONTACTS_FILE": path})
			s, fc := h.slack, h.clerk
			s.AddGuest("UG", "gary-guest", false)
			eve := fc.AddUser("Eve", "eve@example.com", 0)
			fc.AddSessionFrom(eve.ID, fakeclerk.Activity{Device: "Macintosh", Browser: "Chrome", Version: "131", IP: "198.51.100.7", City: "Berlin", Country: "DE"})
			card := h.open(t, "open security Account takeover")

			s.Command(t, "U2", "C1", "user eve@example.com")
			s.ExpectEphemeral(t, "U2", "eve@example.com", "198.51.100.7", "Berlin, DE")

			s.Command(t, "UG", "C1", "user eve@example.com")
			s.ExpectEphemeral(t, "UG", "`user` shows personal data", "Slack guests of this workspace never get", "Nothing changed")
			s.Command(t, "UG", "C1", "affected export")
			s.ExpectEphemeral(t, "UG", "`affected` shows personal data", "Slack guests")
			s.Command(t, "U2", "C1", "contacts")
			s.ExpectEphemeral(t, "U2", "555")
			s.Command(t, "UG", "C1", "contacts")
			s.ExpectEphemeral(t, "UG", "`contacts` shows personal data", "Slack guests")
			s.Command(t, "UG", "C1", "affected") // the list names accounts by e-mail too
			s.ExpectEphemeral(t, "UG", "`affected` shows personal data", "Slack guests")

			s.Command(t, "U1", "C1", "lockout eve@example.com -- takeover")
			req := s.Expect(t, fakeslack.Match{Channel: "CINC", Thread: card.TS, Contains: []string{"Approval needed: lockout", "[Show targets]"}})
			s.ExpectEphemeral(t, "U1", "Approval requested")
			s.Click(t, "UG", req, "Show targets")
			s.ExpectEphemeral(t, "UG", "*Show a request's targets* shows personal data", "Slack guests")
			s.Click(t, "U3", req, "Show targets")
			s.ExpectEphemeral(t, "U3", "Targets of apr-", "eve@example.com")

			seen := s.SeenBy("UG")
			for _, p := range []string{"eve@example.com", "198.51.100.7", "Berlin", "+15550000002"} {
				if strings.Contains(seen, p) {
					t.Fatalf("the guest saw %s:\n%s", p, seen)
				}
			}
		})
	}
}
