package incident

import "time"

// SetRoom records the incident's own channel. Until its card is posted,
// the card and its thread move there too.
func SetRoom(by Person, room, name string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		inc.Room = room
		if inc.CardTS == "" {
			inc.Channel = room
		}
		return []Entry{{Actor: by, Text: "Incident channel #" + name + " created"}}, nil
	}
}
