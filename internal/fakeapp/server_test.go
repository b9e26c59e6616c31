package fakeapp

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// The library the fake verifies with computes Svix's documented test
// vector (REFERENCE.md §4), so the fake checks what Svix specifies.
func TestSvixLibraryComputesTheDocumentedVector(t *testing.T) {
	wh, err := svix.NewWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"test": 2432232314}`)
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got, _ := wh.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	h := http.Header{}
	h.Set("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("svix-timestamp", "1614265330")
	h.Set("svix-signature", "v1,bm90IGl0 "+want)
	if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
		t.Fatalf("the vector among several signatures: %v", err)
	}
}

// The bot's own signing (resync.Secret, used by resync and webhook check)
// passes Svix's verification in the fake app; a changed body, a stale or
// future timestamp, or a wrong secret does not.
func TestBotDeliveriesPassSvixVerification(t *testing.T) {
	app := New()
	defer app.Close()
	body := []byte(`{"type":"user.updated","object":"event","data":{"id":"user_1"}}`)
	post := func(secret string, b []byte, at time.Time, mutate func(http.Header)) int {
		t.Helper()
		key, err := resync.ParseSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, app.WebhookURL(), bytes.NewReader(b))
		key.Headers(req.Header, body, at)
		if mutate != nil {
			mutate(req.Header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now()
	if code := post(app.Secret, body, now, nil); code != http.StatusNoContent || !app.Has("user_1") {
		t.Fatalf("the bot's delivery: %d, has user %v", code, app.Has("user_1"))
	}
	cases := []struct {
		name   string
		secret string
		body   []byte
		at     time.Time
		mutate func(http.Header)
	}{
		{"changed body", app.Secret, []byte(`{"type":"user.updated","object":"event","data":{"id":"user_2"}}`), now, nil},
		{"stale timestamp", app.Secret, body, now.Add(-6 * time.Minute), nil},
		{"future timestamp", app.Secret, body, now.Add(6 * time.Minute), nil},
		{"wrong secret", "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", body, now, nil},
		{"svix-id swapped", app.Secret, body, now, func(h http.Header) { h.Set("svix-id", resync.IDPrefix+"other") }},
	}
	for _, c := range cases {
		if code := post(c.secret, c.body, c.at, c.mutate); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", c.name, code)
		}
	}
	if _, bad := app.Stats(); bad != len(cases) {
		t.Fatalf("%d signature failures counted, want %d", bad, len(cases))
	}
	// Deliver signs as Svix does (with its library) and is accepted too.
	if code, err := app.Deliver("msg_p5jXN8AQM9LWM0D4loKWxJek", []byte(`{"type":"user.created","data":{"id":"user_3"}}`)); err != nil || code != http.StatusNoContent {
		t.Fatalf("Deliver: %d %v", code, err)
	}
}
