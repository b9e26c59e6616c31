package usecase

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
)

// finder answers as clerkops.Client.FindUsers: the users matching any ref.
type finder struct {
	users []account.User
	err   error
}

func (f finder) FindUsers(ctx context.Context, refs []string) ([]account.User, []string, error) {
	if f.err != nil {
		return nil, nil, f.err
	}
	var out []account.User
	for _, u := range f.users {
		for _, r := range refs {
			if matches(u, r) {
				out = append(out, u)
				break
			}
		}
	}
	return out, nil, nil
}

func TestResolveTargetsSortsFoundNotFoundAndAmbiguous(t *testing.T) {
	f := finder{users: []account.User{
		{ID: "user_1", Name: "Eve Smith", Email: "eve@example.com", Emails: []string{"eve@example.com", "eve@work.example"}},
		{ID: "user_3", Email: "twin@example.com", Emails: []string{"twin@example.com"}},
		{ID: "user_2", Email: "twin@example.com", Emails: []string{"twin@example.com"}},
	}}
	got, err := ResolveTargets(context.Background(), f, []string{"EVE@work.example", "user_1", "typo@example.com", "twin@example.com", "user_9"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Found) != 1 || got.Found[0].ID != "user_1" || got.Found[0].Name != "Eve Smith" || got.Found[0].Email != "eve@example.com" {
		t.Fatalf("found %+v (a secondary address and the ID name one account, counted once)", got.Found)
	}
	if strings.Join(got.NotFound, ",") != "typo@example.com,user_9" {
		t.Fatalf("not found %v", got.NotFound)
	}
	if len(got.Ambiguous) != 1 || got.Ambiguous[0].Ref != "twin@example.com" || strings.Join(got.Ambiguous[0].IDs, ",") != "user_2,user_3" {
		t.Fatalf("ambiguous %+v", got.Ambiguous)
	}
	if ids := got.IDs(); len(ids) != 1 || ids[0] != "user_1" {
		t.Fatalf("ids %v", ids)
	}
	if _, err := ResolveTargets(context.Background(), finder{err: errors.New("clerk down")}, []string{"user_1"}); err == nil {
		t.Fatal("a Clerk failure resolved")
	}
}
