// Package resync re-sends Clerk users to the app's own webhook endpoint as
// user.updated events signed exactly as Clerk (Svix) signs them, so the
// app's upsert code repairs its data: a resumable, rate-limited job whose
// position lives in Redis. It also checks the endpoint. No Slack here.
package resync

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Secret is a decoded whsec_ signing secret.
type Secret []byte

// ParseSecret decodes "whsec_<base64>". The error never includes it.
func ParseSecret(s string) (Secret, error) {
	if !strings.HasPrefix(s, "whsec_") {
		return nil, errors.New("the signing secret must start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("the signing secret is not valid base64 after whsec_")
	}
	return key, nil
}

// Sign returns the svix-signature value for a message.
func (se Secret) Sign(id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, se)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Headers sets a fresh svix-id, svix-timestamp and svix-signature.
func (se Secret) Headers(h http.Header, body []byte, now time.Time) {
	se.HeadersFor(h, NewMessageID(), body, now)
}

// IDPrefix starts the svix-id of every delivery the bot sends (resync and
// webhook check). Svix's own ids are "msg_" and base62, never an
// underscore after it, so the app can tell the bot's deliveries apart; the
// svix-id is signed, so only a holder of the secret can claim the prefix.
// Apps honouring a webhook pause (GET /v1/webhooks) let these through.
const IDPrefix = "msg_resync_"

// NewMessageID is a delivery's svix-id. A retry of the same delivery keeps
// it, so a receiver that de-duplicates by svix-id (as Svix asks) applies
// it once.
func NewMessageID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return IDPrefix + hex.EncodeToString(b)
}

// HeadersFor signs one attempt of delivery id with a fresh timestamp.
func (se Secret) HeadersFor(h http.Header, id string, body []byte, now time.Time) {
	ts := now.Unix()
	h.Set("svix-id", id)
	h.Set("svix-timestamp", strconv.FormatInt(ts, 10))
	h.Set("svix-signature", se.Sign(id, ts, body))
}

// Verify checks a delivery the way a receiver must: any of the
// space-separated v1 signatures matches (constant time) and the timestamp
// is within 5 minutes.
func (se Secret) Verify(h http.Header, body []byte, now time.Time) error {
	id, tsRaw, sigs := h.Get("svix-id"), h.Get("svix-timestamp"), h.Get("svix-signature")
	if id == "" || tsRaw == "" || sigs == "" {
		return errors.New("missing svix headers")
	}
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil {
		return errors.New("bad svix-timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("svix-timestamp too far from now")
	}
	want := []byte(se.Sign(id, ts, body))
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}
