package app_test

import "testing"

// checkSpec fails t, when it ends, for each request a fake received that
// its provider's published API description does not define
// (internal/speccheck): a request added anywhere is checked at once.
func checkSpec(t *testing.T, provider string, specErrors func() []error) {
	t.Helper()
	t.Cleanup(func() {
		for _, err := range specErrors() {
			t.Errorf("a %s request outside its published spec: %v", provider, err)
		}
	})
}
