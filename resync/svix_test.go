package resync_test

import (
	"net/http"
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
