package app

import (
	"errors"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// requiredSamples are valid values for the variables Vars marks required.
var requiredSamples = map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-abc"}

// TestVarsAreWhatLoadReads: Vars (the README table, usage text and the
// Kubernetes manifest check in deploy/) lists exactly the variables Load
// reads, so a variable added to Load without a row, or a row Load ignores,
// fails here.
func TestVarsAreWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	record := func(env map[string]string) func(string) string {
		return func(name string) string { read[name] = true; return env[name] }
	}
	_, _ = Load(record(nil))
	if _, err := Load(record(requiredSamples)); err != nil {
		t.Fatalf("the required variables alone should load: %v", err)
	}
	var listed []string
	for _, v := range Vars {
		if slices.Contains(listed, v.Name) {
			t.Errorf("Vars lists %s twice", v.Name)
		}
		listed = append(listed, v.Name)
		if !read[v.Name] {
			t.Errorf("Vars lists %s but Load never reads it", v.Name)
		}
	}
	for name := range read {
		if !slices.Contains(listed, name) {
			t.Errorf("Load reads %s but Vars has no row for it", name)
		}
	}
}

// TestRequiredVarsMarked: a Help starting with "required:" marks exactly
// the variables without which Load fails.
func TestRequiredVarsMarked(t *testing.T) {
	var required []string
	for _, v := range Vars {
		if strings.HasPrefix(v.Help, "required:") {
			required = append(required, v.Name)
			if requiredSamples[v.Name] == "" {
				t.Fatalf("%s is marked required: add a valid sample value to requiredSamples", v.Name)
			}
		}
	}
	var sampled []string
	for name := range requiredSamples {
		sampled = append(sampled, name)
	}
	sort.Strings(required)
	sort.Strings(sampled)
	if !slices.Equal(required, sampled) {
		t.Fatalf("marked required %v, samples for %v", required, sampled)
	}
	// Every other variable unset: Load succeeds, so none of them is required.
	if _, err := Load(func(name string) string { return requiredSamples[name] }); err != nil {
		t.Fatalf("only the required variables set: %v", err)
	}
	for _, name := range required {
		_, err := Load(func(n string) string {
			if n == name {
				return ""
			}
			return requiredSamples[n]
		})
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), name+" is required") {
			t.Errorf("without %s: %v, want a ConfigError saying it is required", name, err)
		}
	}
}

// TestSecretVarsNamed: SecretVars names only real variables, and every
// variable whose name says it is a credential is in it (a new *_TOKEN or
// *_SECRET lands in the deployment's Secret, not its ConfigMap).
func TestSecretVarsNamed(t *testing.T) {
	credential := regexp.MustCompile(`TOKEN|SECRET|PASSWORD|_KEY$`)
	public := []string{"CLERK_PUBLISHABLE_KEY"} // pk_… is meant to be public
	var names []string
	for _, v := range Vars {
		names = append(names, v.Name)
		if credential.MatchString(v.Name) && !slices.Contains(public, v.Name) && !slices.Contains(SecretVars, v.Name) {
			t.Errorf("%s looks like a credential but is not in SecretVars", v.Name)
		}
	}
	for _, s := range SecretVars {
		if !slices.Contains(names, s) {
			t.Errorf("SecretVars names %s, which Vars does not list", s)
		}
	}
}
