package escalation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Holder is who answers a phone listed in contacts.yml: a person, or a
// group that shares one phone (a Slack user group's entry with a phone,
// or one number given to several people of a group).
type Holder struct {
	Name    string
	SlackID string // "" when the entry names a handle or an e-mail only
	Group   string // the contacts group the phone is listed under
	Shared  bool   // several entries give this phone: the group answers
}

// ByPhone finds who answers phone, compared as digits (so "+1 555-123"
// and "+1555123" are one number). Every place a phone is listed is read
// here: a person's `phone`, a group's shared phone, and a schedule
// member's `phone` (group "schedule <name>").
func (c *Contacts) ByPhone(phone string) (Holder, bool) {
	key := phoneKey(phone)
	if c == nil || key == "" {
		return Holder{}, false
	}
	var found []Person
	seen := map[string]bool{}
	for _, people := range c.phoneBook() {
		for _, p := range people {
			// One person listed in two groups is still one person.
			if who := p.SlackID + "|" + normalize(p.Name); phoneKey(p.Phone) == key && !seen[who] {
				seen[who] = true
				found = append(found, p)
			}
		}
	}
	switch {
	case len(found) == 0:
		return Holder{}, false
	case len(found) == 1:
		p := found[0]
		return Holder{Name: p.Name, SlackID: p.SlackID, Group: p.Group, Shared: strings.HasPrefix(p.SlackID, "S")}, true
	}
	// One phone handed around a group: whoever holds it answers as the group.
	h := Holder{Name: found[0].Group + " (shared phone)", Group: found[0].Group, Shared: true}
	for _, p := range found {
		if p.Group != h.Group {
			h = Holder{Name: "shared phone", Shared: true}
			break
		}
	}
	return h, true
}

// phoneBook is every list of people with phones: the groups in file
// order, then each schedule's members.
func (c *Contacts) phoneBook() [][]Person {
	book := make([][]Person, 0, len(c.GroupOrder)+len(c.Schedules))
	for _, g := range c.GroupOrder {
		book = append(book, c.Groups[g])
	}
	for _, s := range c.Schedules {
		members := make([]Person, 0, len(s.Members))
		for _, m := range s.Members {
			members = append(members, Person{Group: "schedule " + s.Name, Name: m.Name, SlackID: m.SlackID, Phone: m.Phone, Line: m.Line})
		}
		book = append(book, members)
	}
	return book
}

// phoneKey is a phone's digits with its leading +; "" when it is no number.
func phoneKey(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "" // a placeholder such as +1-xxx
		}
	}
	if b.Len() < 7 {
		return ""
	}
	return b.String()
}

// PhoneLog remembers which incidents paged each phone, so an SMS reply
// from it finds the incident it answers.
type PhoneLog struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewPhoneLog reads and writes escalation:phone:<number>.
func NewPhoneLog(rdb redis.UniversalClient, prefix string) *PhoneLog {
	return &PhoneLog{rdb: rdb, prefix: prefix}
}

func (ph *PhoneLog) key(phone string) string {
	return ph.prefix + "escalation:phone:" + phoneKey(phone)
}

// phoneLogTTL: an SMS answers a page of the last month at most.
const phoneLogTTL = 30 * 24 * time.Hour

// Add records that incident id paged phone at at.
func (ph *PhoneLog) Add(ctx context.Context, phone, id string, at time.Time) error {
	if phoneKey(phone) == "" {
		return nil
	}
	_, err := ph.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, ph.key(phone), redis.Z{Score: ms(at), Member: id})
		p.Expire(ctx, ph.key(phone), phoneLogTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remember the page to %s: %w", id, err)
	}
	return nil
}

// Incidents are the incidents that paged phone, the latest page first.
func (ph *PhoneLog) Incidents(ctx context.Context, phone string) ([]string, error) {
	if phoneKey(phone) == "" {
		return nil, nil
	}
	ids, err := ph.rdb.ZRevRange(ctx, ph.key(phone), 0, 49).Result()
	if err != nil {
		return nil, fmt.Errorf("read the pages to a phone: %w", err)
	}
	return ids, nil
}

// SamePhone reports whether a and b are one number.
func SamePhone(a, b string) bool { k := phoneKey(a); return k != "" && k == phoneKey(b) }
