package usecase_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/clerk-incident-bot/clerk-incident-bot/incident"
	"github.com/clerk-incident-bot/clerk-incident-bot/usecase"
)

// shareSlack is a public channel's members and every user's kind.
type shareSlack struct {
	members []string
	kinds   map[string]usecase.Member
	group   []string
}

func (s *shareSlack) ChannelPrivate(context.Context, string) (bool, error) { return false, nil }
func (s *shareSlack) ChannelMembers(context.Context, string, int) ([]string, bool, error) {
	return s.members, false, nil
}
func (s *shareSlack) MemberKind(_ context.Context, id string) (usecase.Member, error) {
	m, ok := s.kinds[id]
	if !ok {
		return usecase.Member{}, errors.New("user_not_found")
	}
	return m, nil
}
func (s *shareSlack) OpenGroup(_ context.Context, users []string) (string, error) {
	s.group = users
	return "GDM1", nil
}

type responderSet []string

func (r responderSet) Allowed(_ context.Context, id string) (bool, error) {
	return slices.Contains(r, id), nil
}

// The incident's named people join the responders' group DM only when
// they are not guests: comms named from an agency (a guest, not in the
// channel) and a lead Slack cannot vouch for are left out; a commander
// outside the channel who is a full member is in.
func TestShareLeavesOutAGuestNamedOnTheIncident(t *testing.T) {
	slack := &shareSlack{members: []string{"U1", "U2", "UGUEST"}, kinds: map[string]usecase.Member{
		"U1": {ID: "U1"}, "U2": {ID: "U2"}, "UGUEST": {ID: "UGUEST", Guest: true},
		"UAGENCY": {ID: "UAGENCY", Guest: true}, "UCMD": {ID: "UCMD"}}}
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := usecase.NewSharing(slack, responderSet{"U1", "U2"}, log)
	inc := &incident.Incident{ID: "INC-1", Channel: "CINC", CardTS: "1.0", OpenedBy: incident.Person{ID: "U1"},
		AckedBy: &incident.Person{ID: "UGONE"}, Commander: &incident.Person{ID: "UCMD"}, Comms: &incident.Person{ID: "UAGENCY"}}
	d, readers, err := s.Destination(context.Background(), inc, "U2")
	if err != nil {
		t.Fatal(err)
	}
	if d.Thread || len(readers.Guests) != 1 {
		t.Fatalf("a public channel with a guest: %+v %+v", d, readers)
	}
	want := []string{"U2", "U1", "UCMD"}
	if !slices.Equal(slack.group, want) || !slices.Equal(d.Users, want) {
		t.Fatalf("group DM of %v, want %v (no guest, nobody Slack does not know)", slack.group, want)
	}
}
