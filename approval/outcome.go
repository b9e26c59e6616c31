package approval

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Outcome statuses.
const (
	Done          = "done"            // the action was carried out
	Failed        = "failed"          // it was tried and failed; nothing (more) was done
	NotCarriedOut = "not_carried_out" // it was not tried: the situation changed
	Unsure        = "unsure"          // it was started, but how it ended is not known
)

// Outcome is what carrying out a request did, as data: plain sentences
// and per-target results, never Slack markup. The publisher alone turns
// it into Slack text; the timeline keeps its plain form.
type Outcome struct {
	// Status is Done, Failed, NotCarriedOut or Unsure; "" marks an
	// outcome stored as a bare string, whose Summary is already Slack text.
	Status string `json:"status,omitempty"`
	// Summary is one plain sentence saying what happened.
	Summary string `json:"summary,omitempty"`
	// Until is when what was turned on ends (the bypass).
	Until time.Time `json:"until,omitzero"`
	// Results are per target (a lockout's users), in the order acted on.
	Results []TargetResult `json:"results,omitempty"`
	// Unknown are the targets that matched nothing, so were not acted on.
	Unknown []string `json:"unknown,omitempty"`
}

// TargetResult is what happened to one target.
type TargetResult struct {
	// Target is what was acted on: a Clerk user ID for a lockout.
	Target string `json:"target"`
	// Name is the account's name (the channel reads its initials only).
	Name string `json:"name,omitempty"`
	OK   bool   `json:"ok"`
	// Done is what was done to it even when it failed later ("banned").
	Done string `json:"done,omitempty"`
	// Error is a plain sentence saying what failed.
	Error string `json:"error,omitempty"`
}

// Legacy reports whether o was stored as a bare string of Slack text
// (shown as it is, never escaped again).
func (o *Outcome) Legacy() bool { return o != nil && o.Status == "" }

// UnmarshalJSON reads an outcome object, or a bare string of Slack text
// stored in its place (read as a legacy Summary: requests live 30 days).
func (o *Outcome) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*o = Outcome{Summary: s}
		return nil
	}
	type plain Outcome // without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("decode approval outcome: %w", err)
	}
	*o = Outcome(p)
	return nil
}

// Failure is a failed outcome saying why.
func Failure(format string, a ...any) *Outcome {
	return &Outcome{Status: Failed, Summary: fmt.Sprintf(format, a...)}
}

// NotDone is an outcome that was not tried, saying why.
func NotDone(format string, a ...any) *Outcome {
	return &Outcome{Status: NotCarriedOut, Summary: fmt.Sprintf(format, a...)}
}

// RolledBack is a rollback's TargetResult.Done once production serves
// the deployment it was rolled back to.
const RolledBack = "rolled back"

// RollbackTargets reads a rollback request's "to …" and "from …".
func RollbackTargets(ar *Request) (to, from string) {
	for _, t := range ar.Targets {
		if v, ok := strings.CutPrefix(t, "to "); ok {
			to = v
		}
		if v, ok := strings.CutPrefix(t, "from "); ok {
			from = v
		}
	}
	return to, from
}

// RotateTarget reads a rotate request's target: kind is "machine" or
// "oauth", id the machine's or OAuth application's ID.
func RotateTarget(ar *Request) (kind, id string) {
	if len(ar.Targets) == 1 {
		kind, id, _ = strings.Cut(ar.Targets[0], " ")
	}
	return kind, id
}
