package render_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// A revoke too long for one Slack section is cut as a lockout's is:
// failures first, a count of the rest, and every result in a plain file
// (IDs and initials only) whose last lines sum it up.
func TestLongRevokeIsCutAsALockout(t *testing.T) {
	o := &approval.Outcome{Status: approval.Failed, Unknown: []string{"ghost@example.com"}}
	for i := range 120 {
		r := approval.TargetResult{Target: fmt.Sprintf("user_%03d", i), Name: "Una Ulm", OK: true, Done: "2 revoked, none active"}
		if i%40 == 0 {
			r = approval.TargetResult{Target: r.Target, Name: r.Name, Error: "Clerk refused this operation (403) <!channel>"}
		}
		o.Results = append(o.Results, r)
	}
	v := render.Revoke{By: incident.Person{ID: "U1", Name: "alice"}, Outcome: o, Sessions: 234, Failed: 3}
	msg, full := render.RevokeThread(v)
	lines := strings.Split(msg, "\n")
	if len(msg) > 3000 || !strings.HasPrefix(lines[0], ":lock: *Sessions revoked* by <@U1>") || !strings.Contains(lines[1], ":x:") || !strings.Contains(msg, "117 succeeded.") ||
		!strings.Contains(msg, "attached file `revoke-result.txt`") || !strings.Contains(msg, "120 users done, 234 sessions revoked, 3 failed.") ||
		strings.Contains(msg, "<!channel>") || strings.Contains(msg, "ghost@") || !strings.Contains(msg, "1 of the targets given were not found") {
		t.Fatalf("message:\n%s", msg)
	}
	if !strings.HasPrefix(full, "Sessions revoked by alice\n- user_000 (U.U.): FAILED") || strings.Count(full, "\n- ") != 120 ||
		!strings.HasSuffix(full, "120 users done, 234 sessions revoked, 3 failed.\n1 of the targets given were not found in Clerk or not a user ID or e-mail.\n") ||
		strings.Contains(full, ":x:") || strings.Contains(full, "*") || strings.Contains(full, "ghost@") {
		t.Fatalf("file:\n%s", full)
	}
	// The asker's message names the refs not found; it is never a file.
	if reply := render.RevokeReply(v); !strings.Contains(reply, "Not found in Clerk: ghost@example.com") || strings.Contains(reply, "<!channel>") {
		t.Fatalf("reply:\n%s", reply)
	}
}
