package usecase

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
	"github.com/clerk-incident-bot/clerk-incident-bot/approval"
)

// UserFinder is what resolving targets needs of Clerk.
type UserFinder interface {
	FindUsers(ctx context.Context, refs []string) ([]account.User, []string, error)
}

// Targets is each ref of a request resolved in Clerk before anyone is
// asked to approve it: the accounts found (once each, in the order typed),
// the refs that match none, and those that match several. Only Found is
// acted on and counted.
type Targets struct {
	Found     []approval.Account
	NotFound  []string
	Ambiguous []approval.Ambiguous
}

// IDs are the found accounts' user IDs, what an approved request acts on.
func (t Targets) IDs() []string {
	ids := make([]string, len(t.Found))
	for i, a := range t.Found {
		ids[i] = a.ID
	}
	return ids
}

// ResolveTargets looks every ref up in Clerk: a user ID matches that user,
// an e-mail matches each user holding the address (primary or not). Two
// refs naming one account count it once.
func ResolveTargets(ctx context.Context, clerk UserFinder, refs []string) (Targets, error) {
	users, _, err := clerk.FindUsers(ctx, refs)
	if err != nil {
		return Targets{}, fmt.Errorf("resolve targets: %w", err)
	}
	var t Targets
	seen := map[string]bool{}
	for _, ref := range refs {
		var matched []account.User
		for _, u := range users {
			if matches(u, ref) && !containsID(matched, u.ID) {
				matched = append(matched, u)
			}
		}
		switch len(matched) {
		case 0:
			t.NotFound = append(t.NotFound, ref)
		case 1:
			u := matched[0]
			if !seen[u.ID] {
				seen[u.ID] = true
				t.Found = append(t.Found, approval.Account{ID: u.ID, Name: u.Name, Email: u.Email})
			}
		default:
			amb := approval.Ambiguous{Ref: ref}
			for _, u := range matched {
				amb.IDs = append(amb.IDs, u.ID)
			}
			slices.Sort(amb.IDs)
			t.Ambiguous = append(t.Ambiguous, amb)
		}
	}
	return t, nil
}

func matches(u account.User, ref string) bool {
	if account.IsUserID(ref) {
		return u.ID == ref
	}
	if strings.EqualFold(u.Email, ref) {
		return true
	}
	for _, e := range u.Emails {
		if strings.EqualFold(e, ref) {
			return true
		}
	}
	return false
}

func containsID(us []account.User, id string) bool {
	for _, u := range us {
		if u.ID == id {
			return true
		}
	}
	return false
}
