package resync_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clerk-incident-bot/clerk-incident-bot/resync"
)

// The test vector from REFERENCE.md (Svix's own).
func TestSvixTestVector(t *testing.T) {
	k, err := resync.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := k.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("signature %s", got)
	}
	h := http.Header{}
	h.Set("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("svix-timestamp", "1614265330")
	h.Set("svix-signature", "v1,bogus "+got)
	if err := k.Verify(h, []byte(`{"test": 2432232314}`), time.Unix(1614265330+60, 0)); err != nil {
		t.Fatal(err)
	}
	if err := k.Verify(h, []byte(`{"test": 1}`), time.Unix(1614265330, 0)); err == nil {
		t.Fatal("tampered body verified")
	}
	if err := k.Verify(h, []byte(`{"test": 2432232314}`), time.Unix(1614265330+600, 0)); err == nil {
		t.Fatal("stale timestamp verified")
	}
	for _, bad := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_"} {
		if _, err := resync.ParseSecret(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The bot's deliveries carry IDPrefix, which Svix's base62 ids never do,
// and it is inside the signed content: changing the id breaks the signature.
func TestMessageIDsCarryTheSignedResyncPrefix(t *testing.T) {
	k, _ := resync.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	body := []byte(`{"type":"user.updated","data":{"id":"user_1"}}`)
	h := http.Header{}
	now := time.Unix(1614265330, 0)
	k.Headers(h, body, now)
	id := h.Get("svix-id")
	if !strings.HasPrefix(id, resync.IDPrefix) || len(id) <= len(resync.IDPrefix) {
		t.Fatalf("svix-id %q lacks %q", id, resync.IDPrefix)
	}
	if err := k.Verify(h, body, now); err != nil {
		t.Fatal(err)
	}
	forged := h.Clone()
	forged.Set("svix-id", resync.IDPrefix+"forged")
	if err := k.Verify(forged, body, now); err == nil {
		t.Fatal("a changed svix-id kept its signature")
	}
}
