package app

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// The slash command must ask Slack to escape mentions: `role comms @bob`
// only names someone when Slack sends the pick as <@U…|bob>.
func TestManifestEscapesMentionsInTheSlashCommand(t *testing.T) {
	b, err := os.ReadFile("../../../slack-app-manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command      string `yaml:"command"`
				ShouldEscape *bool  `yaml:"should_escape"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/clerk-incident" {
		t.Fatalf("slash commands %+v", m.Features.SlashCommands)
	}
	if e := m.Features.SlashCommands[0].ShouldEscape; e == nil || !*e {
		t.Fatal("should_escape must be true: without it Slack sends @bob as plain text and `role` cannot tell who is meant")
	}
}
