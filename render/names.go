package render

import (
	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
)

// PersonName is a person's one name as plain mrkdwn text.
func PersonName(who incident.Person) string { return PlainName(who.Display()) }
