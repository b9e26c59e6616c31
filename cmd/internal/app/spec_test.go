package app_test

import (
	"os"
	"testing"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
	"github.com/clerk-incident-bot/clerk-incident-bot/internal/speccheck"
)

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

// checkClerkSpec is checkSpec for the fake Clerk, against Clerk's own
// OpenAPI description (clerkops/testdata).
func checkClerkSpec(t *testing.T, fc *fakeclerk.Server) {
	t.Helper()
	checkSpec(t, "Clerk", func() []error {
		reqs := fc.SpecRequests()
		if len(reqs) == 0 {
			return nil
		}
		raw, err := os.ReadFile("../../../clerkops/testdata/clerk-bapi-2025-04-10.yml")
		if err != nil {
			return []error{err}
		}
		spec, err := speccheck.Parse(raw)
		if err != nil {
			return []error{err}
		}
		return spec.CheckAll(reqs)
	})
}
