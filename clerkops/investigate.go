package clerkops

import (
	"context"
	"fmt"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/session"
)

// Profile is what `user` shows about an account.
type Profile struct {
	User
	Created, LastSignIn, LastActive time.Time // zero: never
	TwoFactor, EmailVerified        bool
}

// SessionInfo is one active session with where it was last used from;
// Clerk's latest_activity may be null, leaving those fields empty.
type SessionInfo struct {
	ID                                 string
	Device, Browser, IP, City, Country string
	Mobile                             bool
	LastActive, Created                time.Time
}

// Investigate reads one account (by user ID or e-mail) and its active
// sessions. A reference that matches nobody is apperr-coded not found.
func (c *Client) Investigate(ctx context.Context, ref string) (Profile, []SessionInfo, error) {
	found, unknown, err := c.FindUsers(ctx, []string{ref})
	if err != nil {
		return Profile{}, nil, err
	}
	if len(found) == 0 {
		return Profile{}, nil, &Error{Reason: fmt.Sprintf("no Clerk user %s", ref), Status: 404, err: fmt.Errorf("not found: %v", unknown)}
	}
	u, err := c.users.Get(ctx, found[0].ID)
	if err != nil {
		return Profile{}, nil, Explain(err, "read user "+found[0].ID)
	}
	p := Profile{User: fromClerk(u), Created: ms(u.CreatedAt), TwoFactor: u.TwoFactorEnabled}
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
	var out []SessionInfo
	active := "active"
	for offset := int64(0); ; {
		limit := int64(100)
		list, err := c.sessions.List(ctx, &session.ListParams{UserID: &p.ID, Status: &active, ListParams: clerk.ListParams{Limit: &limit, Offset: &offset}})
		if err != nil {
			return p, out, Explain(err, "list sessions of "+p.ID)
		}
		for _, s := range list.Sessions {
			si := SessionInfo{ID: s.ID, LastActive: ms(s.LastActiveAt), Created: ms(s.CreatedAt)}
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

// Groups are a user's sessions by IP address and by country, and which
// sessions stand out: a country (or, when most sessions share one IP,
// an IP) that differs from the majority.
type Groups struct {
	ByIP, ByCountry map[string]int
	MajorityCountry string
	MajorityIP      string            // "" unless more than half share it
	Flagged         map[string]string // session ID → why
}

// GroupSessions groups sessions and flags the outliers.
func GroupSessions(ss []SessionInfo) Groups {
	g := Groups{ByIP: map[string]int{}, ByCountry: map[string]int{}, Flagged: map[string]string{}}
	for _, s := range ss {
		g.ByIP[orUnknown(s.IP)]++
		g.ByCountry[orUnknown(s.Country)]++
	}
	g.MajorityCountry = majority(g.ByCountry, 0)
	g.MajorityIP = majority(g.ByIP, len(ss)/2)
	for _, s := range ss {
		switch {
		case len(g.ByCountry) > 1 && s.Country != "" && s.Country != g.MajorityCountry:
			g.Flagged[s.ID] = fmt.Sprintf("country %s differs from the usual %s", s.Country, g.MajorityCountry)
		case g.MajorityIP != "" && s.IP != "" && s.IP != g.MajorityIP:
			g.Flagged[s.ID] = fmt.Sprintf("IP %s differs from the usual %s", s.IP, g.MajorityIP)
		}
	}
	return g
}

// majority is the key with the largest count, if that count is over
// more (ties go to the alphabetically first, so the result is stable).
func majority(m map[string]int, more int) string {
	best, n := "", 0
	for k, c := range m {
		if k == "unknown" {
			continue
		}
		if c > n || (c == n && k < best) {
			best, n = k, c
		}
	}
	if n <= more {
		return ""
	}
	return best
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
