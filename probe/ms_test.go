package probe

import (
	"testing"
	"time"
)

// Timings read as milliseconds under a second and seconds above, never
// as Go's "0s" or "230ms".
func TestMs(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0.0 ms", 400 * time.Microsecond: "0.4 ms", 230 * time.Millisecond: "230 ms",
		999 * time.Millisecond: "999 ms", time.Second: "1 s", 1520 * time.Millisecond: "1.5 s", 5 * time.Second: "5 s"} {
		if got := Ms(d); got != want {
			t.Errorf("Ms(%v) = %q, want %q", d, got, want)
		}
	}
}
