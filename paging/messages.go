package paging

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/apperr"
)

// Message is one SMS received, as Twilio's message list gives it.
type Message struct {
	SID, From, To, Body string
	Sent                time.Time // date_sent, to the second
}

// messagePageSize and messagePages bound one read of the list: 3,000 messages.
const (
	messagePageSize = 100
	messagePages    = 30
)

// Received lists the messages texted to number (inbound ones: the list
// holds what was sent too) whose date_sent is at or after since, oldest
// first. Twilio's list is newest first and its date filter is by day, so
// pages are read until one reaches past since. truncated is true when
// more pages remained than one read takes.
func (t *Twilio) Received(ctx context.Context, number string, since time.Time) (msgs []Message, truncated bool, err error) {
	q := url.Values{"To": {number}, "DateSent>": {since.UTC().Format(time.DateOnly)}, "PageSize": {strconv.Itoa(messagePageSize)}}
	what := "Messages.json?" + q.Encode()
	for range messagePages {
		var page struct {
			Messages []struct {
				SID       string `json:"sid"`
				From      string `json:"from"`
				To        string `json:"to"`
				Body      string `json:"body"`
				Direction string `json:"direction"`
				DateSent  string `json:"date_sent"`
			} `json:"messages"`
			NextPageURI string `json:"next_page_uri"`
		}
		if err := t.do(ctx, http.MethodGet, what, nil, &page); err != nil {
			return nil, false, err
		}
		older := false
		for _, m := range page.Messages {
			sent, err := time.Parse(time.RFC1123Z, m.DateSent)
			if err != nil {
				if m.DateSent == "" {
					continue // not sent yet: an outbound message still queued
				}
				return nil, false, apperr.New(apperr.UnavailableRemote, "Twilio's message list has a date_sent that is not RFC 2822: "+m.DateSent)
			}
			if sent.Before(since) {
				older = true
				continue
			}
			if m.Direction == "inbound" {
				msgs = append(msgs, Message{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Sent: sent})
			}
		}
		if older || page.NextPageURI == "" {
			slices.Reverse(msgs)
			return msgs, false, nil
		}
		what = page.NextPageURI
	}
	slices.Reverse(msgs)
	return msgs, true, nil
}
