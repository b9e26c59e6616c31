package render

import (
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
)

func ActionName(a string) string {
	switch a {
	case approval.Lockout:
		return "lockout"
	case approval.BypassOn:
		return "emergency bypass"
	case approval.BypassExtend:
		return "bypass extension"
	}
	return a
}
