package clerkops_test

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/clerk-incident-bot/clerk-incident-bot/internal/fakeclerk"
)

// spec is the part of Clerk's OpenAPI description this test needs.
type spec struct {
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Parameters map[string]parameter `yaml:"parameters"`
	} `yaml:"components"`
}

type operation struct {
	Parameters []parameter `yaml:"parameters"`
}

type parameter struct {
	Ref  string `yaml:"$ref"`
	Name string `yaml:"name"`
	In   string `yaml:"in"`
}

// Every request the bot sends names a path, method and query parameter
// that Clerk's own OpenAPI spec (testdata, MIT) defines.
func TestRequestsMatchClerksOpenAPISpec(t *testing.T) {
	raw, err := os.ReadFile("testdata/clerk-bapi-2025-04-10.yml")
	if err != nil {
		t.Fatal(err)
	}
	var sp spec
	if err := yaml.Unmarshal(raw, &sp); err != nil {
		t.Fatal(err)
	}
	fc := fakeclerk.New()
	defer fc.Close()
	u := fc.AddUser("Eve", "eve@example.com", 2)
	c := newClient(t, fc)
	ctx := context.Background()
	if _, _, err := c.FindUsers(ctx, []string{u.ID, "eve@example.com", "user_missing"}); err != nil {
		t.Fatal(err)
	}
	c.RevokeSessions(ctx, u.ID, true)
	c.RevokeMany(ctx, []string{u.ID}, 2, false, nil)
	for _, op := range []func() error{
		func() error { _, err := c.Ban(ctx, u.ID); return err },
		func() error { _, err := c.Unban(ctx, u.ID); return err },
		func() error { _, err := c.Unlock(ctx, u.ID); return err },
		func() error { return c.Ping(ctx) },
		func() error { _, _, err := c.Investigate(ctx, u.ID); return err },
		func() error { _, err := c.DashboardURL(ctx); return err },
	} {
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	calls := fc.Calls()
	if len(calls) < 8 {
		t.Fatalf("only %d calls", len(calls))
	}
	seen := map[string]bool{}
	for _, call := range calls {
		tmpl, op, ok := match(sp, call.Method, call.Path)
		if !ok {
			t.Errorf("%s %s is not in Clerk's spec", call.Method, call.Path)
			continue
		}
		seen[call.Method+" "+tmpl] = true
		allowed := map[string]bool{}
		for _, p := range op.Parameters {
			if p.Ref != "" {
				p = sp.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.In == "query" {
				allowed[p.Name] = true
			}
		}
		q, _ := url.ParseQuery(call.Query)
		for name := range q {
			if !allowed[name] {
				t.Errorf("%s %s sends query parameter %q that the spec does not define", call.Method, tmpl, name)
			}
		}
		if call.Method == "POST" && call.Body != "null" && call.Body != "" {
			t.Errorf("%s %s sends body %q", call.Method, tmpl, call.Body)
		}
	}
	for _, want := range []string{"GET /users", "GET /users/{user_id}", "GET /sessions", "POST /sessions/{session_id}/revoke",
		"POST /users/{user_id}/ban", "POST /users/{user_id}/unban", "POST /users/{user_id}/unlock", "GET /jwks"} {
		if !seen[want] {
			t.Errorf("the test never exercised %s", want)
		}
	}
}

func match(sp spec, method, path string) (string, operation, bool) {
	for tmpl, ops := range sp.Paths {
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) {
			if op, ok := ops[strings.ToLower(method)]; ok {
				return tmpl, op, true
			}
		}
	}
	return "", operation{}, false
}
