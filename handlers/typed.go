package handlers

import (
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/render"
)

// TypedButton is the command (the words after /clerk-incident, or after
// `clerk-incident-bot do`) that does what a button does, so the
// break-glass CLI can show a message's buttons as commands; "" for a
// button only a click in Slack can do (edit a draft in a modal, share a
// private answer in the thread). The value is the button's own, checked
// as a click's would be.
func TypedButton(actionID, value string) string {
	id, okID := incident.ParseID(value)
	switch actionID {
	case render.ActAck, render.ActPageAck:
		return withID("ack", id, okID)
	case render.ActChecklist:
		return withID("checklist", id, okID)
	case render.ActResolve:
		return withID("resolve", id, okID)
	case render.ActOpenContinue:
		return withID("status", id, okID)
	case render.ActRemindDraft:
		return withID("update draft", id, okID)
	case render.ActTick:
		parts := strings.Split(value, "|")
		if len(parts) != 3 {
			return ""
		}
		if _, ok := incident.ParseID(parts[0]); !ok || strings.ContainsAny(parts[1], " \t") {
			return ""
		}
		verb := "tick"
		if parts[2] == "0" {
			verb = "untick"
		}
		return verb + " " + parts[0] + " " + parts[1]
	case render.ActApprove, render.ActDeny:
		if !strings.HasPrefix(value, "apr-") || strings.ContainsAny(value, " \t") {
			return ""
		}
		return map[string]string{render.ActApprove: "approve ", render.ActDeny: "deny "}[actionID] + value
	case render.ActUserRevoke, render.ActUserLockout:
		incPart, user, ok := strings.Cut(value, "|")
		if !ok || !strings.HasPrefix(user, "user_") || strings.ContainsAny(user, " \t") {
			return ""
		}
		cmd := "revoke "
		if actionID == render.ActUserLockout {
			cmd = "lockout "
		}
		if id, ok := incident.ParseID(incPart); ok {
			cmd += id + " "
		}
		return cmd + user
	}
	return ""
}

func withID(cmd, id string, ok bool) string {
	if !ok {
		return ""
	}
	return cmd + " " + id
}
