package clerkops

import (
	"context"
	"fmt"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/session"

	"github.com/clerk-incident-bot/clerk-incident-bot/account"
)

// Investigate reads one account (by user ID or e-mail) and its active
// sessions. A reference that matches nobody is apperr-coded not found.
func (c *Client) Investigate(ctx context.Context, ref string) (account.Profile, []account.SessionInfo, error) {
	found, unknown, err := c.FindUsers(ctx, []string{ref})
	if err != nil {
		return account.Profile{}, nil, err
	}
	if len(found) == 0 {
		return account.Profile{}, nil, &Error{Reason: fmt.Sprintf("no Clerk user %s", ref), Status: 404, err: fmt.Errorf("not found: %v", unknown)}
	}
	u, err := c.users.Get(ctx, found[0].ID)
	if err != nil {
		return account.Profile{}, nil, Explain(err, "read user "+found[0].ID)
	}
	p := account.Profile{User: fromClerk(u), Created: ms(u.CreatedAt), TwoFactor: u.TwoFactorEnabled}
	if u.LastSignInAt != nil {
		p.LastSignIn = ms(*u.LastSignInAt)
	}
	if u.LastActiveAt != nil {
		p.LastActive = ms(*u.LastActiveAt)
	}
	for _, e := range u.EmailAddresses {
		if e != nil && e.EmailAddress == p.Email && e.Verification != nil && e.Verification.Status == "verified" {
			p.EmailVerified = true
		}
	}
	var out []account.SessionInfo
	active := "active"
	for offset := int64(0); ; {
		limit := int64(100)
		list, err := c.sessions.List(ctx, &session.ListParams{UserID: &p.ID, Status: &active, ListParams: clerk.ListParams{Limit: &limit, Offset: &offset}})
		if err != nil {
			return p, out, Explain(err, "list sessions of "+p.ID)
		}
		for _, s := range list.Sessions {
			si := account.SessionInfo{ID: s.ID, LastActive: ms(s.LastActiveAt), Created: ms(s.CreatedAt)}
			if a := s.LatestActivity; a != nil {
				si.Device, si.Browser, si.IP, si.City, si.Country = str(a.DeviceType), str(a.BrowserName), str(a.IPAddress), str(a.City), str(a.Country)
				if v := str(a.BrowserVersion); v != "" {
					si.Browser += " " + v
				}
				si.Mobile = a.IsMobile
			}
			out = append(out, si)
		}
		offset += int64(len(list.Sessions))
		if len(list.Sessions) == 0 || offset >= list.TotalCount || offset >= 1000 {
			return p, out, nil
		}
	}
}

// DashboardURL asks Clerk for a one-time link to the Svix dashboard of
// the instance's webhook endpoints (failed deliveries, replays). The link
// is a credential: the caller shows it to one person and never logs it.
func (c *Client) DashboardURL(ctx context.Context) (string, error) {
	w, err := c.svix.RefreshURL(ctx)
	if err != nil {
		return "", Explain(err, "get the webhook dashboard link")
	}
	return w.SvixURL, nil
}

func ms(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
