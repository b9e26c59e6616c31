package render

import (
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/oncall"
)

// `oncall`: a rotation, a cover in force, and one not started yet, with
// times in each schedule's zone and the asker's.
func TestOnCallGolden(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	primary := &oncall.Schedule{Name: "primary", TimeZone: "Europe/Berlin", Loc: berlin, Rotation: oncall.Weekly, Handoff: "monday 09:00",
		Weekday: time.Monday, Hour: 9, Start: time.Date(2026, 11, 16, 0, 0, 0, 0, berlin), UserGroup: "S0ONCALL",
		Members: []oncall.Member{{Name: "Ann", SlackID: "U1"}, {Name: "Bob <b>", SlackID: "U2"}}}
	later := &oncall.Schedule{Name: "db", TimeZone: "America/New_York", Loc: ny, Rotation: oncall.Daily, Handoff: "08:30",
		Hour: 8, Min: 30, Start: time.Date(2027, 1, 4, 0, 0, 0, 0, ny), Members: []oncall.Member{{Name: "Cy", SlackID: "U4"}}}
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	cover := oncall.Override{ID: "o1", Schedule: "db", Who: oncall.Member{Name: "Dana", SlackID: "U5"}, From: now, Until: now.Add(4 * time.Hour), ByName: "carol", At: now}
	views := []oncall.Now{oncall.At(primary, nil, now), oncall.At(later, []oncall.Override{cover}, now)}
	golden(t, "oncall", OnCallMsg(views, ny))
	golden(t, "oncall_no_zone", OnCallMsg(views[:1], nil))
}
