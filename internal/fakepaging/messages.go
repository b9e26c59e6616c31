package fakepaging

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// rfc2822 is how Twilio writes date_sent: "Mon, 16 Aug 2010 03:45:01 +0000".
const rfc2822 = "Mon, 02 Jan 2006 15:04:05 -0700"

// listMessages answers GET Messages.json as Twilio does: newest first,
// filtered by To, From and the day filters (DateSent, DateSent< and
// DateSent>, each a YYYY-MM-DD: on, on or before, on or after), PageSize
// (default 50, at most 1000) at a time, the next page by next_page_uri
// (its PageToken marks where the page ended, so new messages do not shift
// it).
func (t *Twilio) listMessages(w http.ResponseWriter, q url.Values) {
	size := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			twilioErr(w, http.StatusBadRequest, 20001, "Invalid PageSize")
			return
		}
		size = min(n, 1000)
	}
	var days [3]string
	for i, k := range []string{"DateSent", "DateSent<", "DateSent>"} {
		if v := q.Get(k); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				twilioErr(w, http.StatusBadRequest, 20001, "Invalid "+k+": "+v)
				return
			}
			days[i] = v
		}
	}
	t.mu.Lock()
	var out []map[string]any
	after := q.Get("PageToken") // the SID the previous page ended with
	started := after == ""
	more := false
	for i := len(t.messages) - 1; i >= 0; i-- {
		m := t.messages[i]
		if !started {
			started = "PA"+m.sid == after
			continue
		}
		day := m.sent.UTC().Format(time.DateOnly)
		if (q.Get("To") != "" && m.to != q.Get("To")) || (q.Get("From") != "" && m.from != q.Get("From")) ||
			(days[0] != "" && day != days[0]) || (days[1] != "" && day > days[1]) || (days[2] != "" && day < days[2]) {
			continue
		}
		if len(out) == size {
			more = true
			break
		}
		out = append(out, t.messageJSON(m))
	}
	t.mu.Unlock()
	page, _ := strconv.Atoi(q.Get("Page"))
	base := "/2010-04-01/Accounts/" + t.SID + "/Messages.json"
	first := url.Values{}
	for k, v := range q {
		if k != "Page" && k != "PageToken" {
			first[k] = v
		}
	}
	first.Set("PageSize", strconv.Itoa(size))
	uri := base + "?" + q.Encode()
	res := map[string]any{"messages": out, "page": page, "page_size": size, "start": page * size, "end": page*size + max(len(out)-1, 0),
		"uri": uri, "first_page_uri": base + "?" + first.Encode(), "next_page_uri": nil, "previous_page_uri": nil}
	if more {
		next := url.Values{}
		for k, v := range first {
			next[k] = v
		}
		next.Set("Page", strconv.Itoa(page+1))
		next.Set("PageToken", "PA"+out[len(out)-1]["sid"].(string))
		res["next_page_uri"] = base + "?" + next.Encode()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// messageJSON is a message resource with Twilio's fields.
func (t *Twilio) messageJSON(m message) map[string]any {
	var service any
	if m.service != "" {
		service = m.service
	}
	date := m.sent.Format(rfc2822)
	return map[string]any{"sid": m.sid, "account_sid": t.SID, "from": m.from, "to": m.to, "body": m.body, "direction": m.direction,
		"status": m.status, "date_sent": date, "date_created": date, "date_updated": date, "num_segments": "1", "num_media": "0",
		"messaging_service_sid": service, "api_version": "2010-04-01", "price": nil, "price_unit": "USD", "error_code": nil, "error_message": nil,
		"uri":              "/2010-04-01/Accounts/" + t.SID + "/Messages/" + m.sid + ".json",
		"subresource_uris": map[string]string{"media": "/2010-04-01/Accounts/" + t.SID + "/Messages/" + m.sid + "/Media.json"}}
}
