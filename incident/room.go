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

// RoomArchived records that the incident's channel was archived: Slack
// refuses posts there now, so the card starts afresh in main (the main
// channel) at the next change. Room stays, naming the channel.
func RoomArchived(by Person, main string) Mutation {
	return func(inc *Incident, now time.Time) ([]Entry, error) {
		if main != "" && inc.Channel == inc.Room {
			inc.Channel, inc.CardTS, inc.ChecklistTS = main, "", ""
		}
		return []Entry{{Actor: by, Text: "Incident channel archived"}}, nil
	}
}
