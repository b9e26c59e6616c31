package bot

import "testing"

// users.lookupByEmail is Tier 3 like chat.update; users.info is Tier 4.
func TestPacerTiers(t *testing.T) {
	t3, _, _, _ := limit("chat.update")
	t4, _, _, _ := limit("users.info")
	if got, _, _, ok := limit("users.lookupByEmail"); !ok || got != t3 || got == t4 {
		t.Fatalf("users.lookupByEmail paced at %d a minute, want Tier 3's %d", got, t3)
	}
}
