package statuswatch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"
)

// feedWindow is how far back a feed item may still be an ongoing problem:
// a feed is history, and an item never marked resolved must not page
// forever.
const feedWindow = 24 * time.Hour

// parseFeed reads an RSS or Atom feed (incident.io's /feed.rss and
// /history.rss, Statuspage's /history.rss and /history.atom). A feed has
// no component statuses: an item is ongoing while its latest update is
// not "Resolved" or "Completed", its impact is read from its words
// ("full outage", "partial outage", "degraded"), and its components are
// the known names it mentions.
func parseFeed(body []byte, now time.Time, known []string) (Summary, error) {
	s := Summary{Format: FormatFeed}
	pageURL, items, err := feedItems(body)
	if err != nil {
		return Summary{}, err
	}
	s.PageURL = pageURL
	rank := map[string]int{Degraded: 1, Partial: 2, Major: 3}
	worst := 0
	for _, it := range items {
		at, ok := feedTime(it.at)
		if ok && now.Sub(at) > feedWindow {
			continue
		}
		text := plainText(it.text)
		status := latestStatus(text)
		if status == "resolved" || status == "completed" || status == "postmortem" {
			continue
		}
		id := it.id
		if id == "" {
			h := sha256.Sum256([]byte(it.link + it.title))
			id = hex.EncodeToString(h[:8])
		}
		words := strings.ToLower(it.title + " " + text)
		if strings.Contains(words, "maintenance") || status == "scheduled" || status == "in progress" {
			s.Maintenances = append(s.Maintenances, Planned{ID: id, Name: it.title, Status: status, URL: it.link, Components: mentioned(words, known)})
			continue
		}
		impact := feedImpact(words)
		in := Incident{ID: id, Name: it.title, Status: status, Impact: impact, URL: it.link}
		for _, name := range mentioned(words, known) {
			in.Components = append(in.Components, Component{Name: name, Status: impact})
		}
		if text != "" {
			in.Updates = []Update{{ID: id + ":" + hashText(text), Status: status, Body: firstUpdate(text)}}
		}
		worst = max(worst, rank[impact])
		s.Incidents = append(s.Incidents, in)
	}
	s.Indicator, s.Description = indicatorOf(worst)
	return s, nil
}

// feedItem is an RSS item or an Atom entry.
type feedItem struct{ id, title, link, text, at string }

// feedItems reads an RSS or Atom document: the page's link and its items.
func feedItems(body []byte) (pageURL string, items []feedItem, err error) {
	var doc struct {
		XMLName xml.Name
		Channel struct {
			Link  string `xml:"link"`
			Items []struct {
				Title       string `xml:"title"`
				Link        string `xml:"link"`
				Description string `xml:"description"`
				GUID        string `xml:"guid"`
				PubDate     string `xml:"pubDate"`
			} `xml:"item"`
		} `xml:"channel"`
		Links []struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			Title   string `xml:"title"`
			ID      string `xml:"id"`
			Updated string `xml:"updated"`
			Summary string `xml:"summary"`
			Content string `xml:"content"`
			Links   []struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return "", nil, fmt.Errorf("not a readable feed: %w", err)
	}
	switch doc.XMLName.Local {
	case "rss":
		for _, it := range doc.Channel.Items {
			items = append(items, feedItem{id: it.GUID, title: it.Title, link: it.Link, text: it.Description, at: it.PubDate})
		}
		return doc.Channel.Link, items, nil
	case "feed":
		if len(doc.Links) > 0 {
			pageURL = doc.Links[0].Href
		}
		for _, e := range doc.Entries {
			link := ""
			if len(e.Links) > 0 {
				link = e.Links[0].Href
			}
			items = append(items, feedItem{id: e.ID, title: e.Title, link: link, text: e.Content + e.Summary, at: e.Updated})
		}
		return pageURL, items, nil
	}
	return "", nil, errors.New("XML that is neither RSS nor Atom")
}

// feedImpact reads an item's impact from its words.
func feedImpact(words string) string {
	switch {
	case strings.Contains(words, "full outage") || strings.Contains(words, "major outage"):
		return Major
	case strings.Contains(words, "partial outage"):
		return Partial
	case strings.Contains(words, "degraded") || strings.Contains(words, "elevated latency") || strings.Contains(words, "slow"):
		return Degraded
	}
	return Partial
}

func feedTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var (
	tags     = regexp.MustCompile(`<[^>]*>`)
	statusRE = regexp.MustCompile(`(?i)\b(resolved|completed|postmortem|monitoring|identified|investigating|update|scheduled|in progress|verifying)\b`)
)

// plainText strips the HTML of a feed item.
func plainText(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(html.UnescapeString(s), " "))), " ")
}

// latestStatus is the first status word of the text: feeds list the
// newest update first.
func latestStatus(text string) string {
	m := statusRE.FindString(text)
	if m == "" {
		return "investigating"
	}
	return strings.ToLower(m)
}

// firstUpdate is the newest update's text, up to the next status word.
func firstUpdate(text string) string {
	loc := statusRE.FindAllStringIndex(text, 2)
	if len(loc) == 2 {
		return strings.TrimSpace(text[:loc[1][0]])
	}
	return text
}

func mentioned(words string, known []string) []string {
	var out []string
	for _, k := range known {
		if strings.Contains(words, strings.ToLower(k)) {
			out = append(out, k)
		}
	}
	return out
}

func hashText(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}
