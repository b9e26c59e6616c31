package incident

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed runbook.yml
var defaultRunbook []byte

// DefaultRunbook returns the embedded runbook source.
func DefaultRunbook() []byte { return append([]byte(nil), defaultRunbook...) }

// Runbook is the parsed procedures file.
type Runbook struct {
	Categories map[Category]*CategorySpec
}

// CategorySpec is what the runbook says about one category.
type CategorySpec struct {
	Name             string    `yaml:"name"`
	Symptoms         string    `yaml:"symptoms"`
	ImmediateActions []string  `yaml:"immediate_actions"`
	Checklist        Checklist `yaml:"checklist"`
	// Updates are the customer-update templates, by status
	// (investigating, mitigated, resolved); see UpdatePlaceholders.
	Updates map[string]string `yaml:"updates"`
	// PublicTitle is how customer updates name the problem ({title}):
	// never the incident's own title, which is written for responders.
	// Empty: the category's name.
	PublicTitle string `yaml:"public_title"`
	// Notice is the e-mail to affected users that `notify draft` starts
	// from; see NoticePlaceholders ("" : render.DefaultNotice).
	Notice      string `yaml:"notice"`
	updatesLine int
	line        int
}

// UpdatePlaceholders are what an update template may use.
var UpdatePlaceholders = []string{"{title}", "{impact}", "{next_update}"}

// NoticePlaceholders are what a notice template may use.
var NoticePlaceholders = []string{"{title}", "{when}", "{done}"}

// Checklist is a titled list of steps; steps may have sub-steps (4a–c).
type Checklist struct {
	Title string `yaml:"title"`
	Steps []Step `yaml:"steps"`
	line  int
}

// Step is one checklist line.
type Step struct {
	ID   string `yaml:"id"`
	Text string `yaml:"text"`
	// Optional steps (conditional ones, those done after resolving) are
	// not asked for at resolve; sub-steps of an optional step are too.
	Optional bool   `yaml:"optional"`
	Steps    []Step `yaml:"steps"`
	line     int
}

// Flat lists every step and sub-step in order with its depth (0 or 1).
func (c Checklist) Flat() []FlatStep {
	var out []FlatStep
	var walk func(steps []Step, depth int, optional bool)
	walk = func(steps []Step, depth int, optional bool) {
		for _, s := range steps {
			out = append(out, FlatStep{ID: s.ID, Text: s.Text, Depth: depth, Optional: optional || s.Optional, Header: len(s.Steps) > 0})
			walk(s.Steps, depth+1, optional || s.Optional)
		}
	}
	walk(c.Steps, 0, false)
	return out
}

// FlatStep is a step with its nesting depth.
type FlatStep struct {
	ID       string
	Text     string
	Depth    int
	Optional bool // itself or its parent
	// Header: a branch ("If Clerk outage") over its sub-steps, not a
	// step itself: it is not ticked and does not count.
	Header bool
}

// Tickable lists the steps that are ticked and counted: every step but the
// branch headers.
func (c Checklist) Tickable() []FlatStep {
	var out []FlatStep
	for _, s := range c.Flat() {
		if !s.Header {
			out = append(out, s)
		}
	}
	return out
}

// Unticked lists the incident's steps that are not optional and not
// ticked: what its report will not show as done.
func Unticked(inc *Incident, spec *CategorySpec) []FlatStep {
	if spec == nil {
		return nil
	}
	var out []FlatStep
	for _, st := range spec.Checklist.Tickable() {
		if _, done := inc.Checklist[st.ID]; !done && !st.Optional {
			out = append(out, st)
		}
	}
	return out
}

// Step finds a step by ID.
func (c Checklist) Step(id string) (FlatStep, bool) {
	for _, s := range c.Flat() {
		if strings.EqualFold(s.ID, id) {
			return s, true
		}
	}
	return FlatStep{}, false
}

// CustomerTitle is how customer updates name the problem.
func (c *CategorySpec) CustomerTitle() string {
	if strings.TrimSpace(c.PublicTitle) != "" {
		return c.PublicTitle
	}
	return c.Name
}

// Spec returns the category's runbook entry (never nil for a loaded runbook).
func (r *Runbook) Spec(c Category) *CategorySpec { return r.Categories[c] }

// exampleHealthURL is the runbook's placeholder for the app's endpoint.
const exampleHealthURL = "https://yourapp.com/api/health/clerk"

// WithHealthURL returns the runbook with its example health endpoint
// replaced by the app's own (APP_HEALTH_URL), so the card's "Check your
// endpoint" is a command a responder can paste.
func (r *Runbook) WithHealthURL(url string) *Runbook {
	if url == "" {
		return r
	}
	out := &Runbook{Categories: map[Category]*CategorySpec{}}
	for c, spec := range r.Categories {
		cp := *spec
		cp.ImmediateActions = make([]string, len(spec.ImmediateActions))
		for i, a := range spec.ImmediateActions {
			cp.ImmediateActions[i] = strings.ReplaceAll(a, exampleHealthURL, url)
		}
		out.Categories[c] = &cp
	}
	return out
}

// MaxSteps is the most steps, sub-steps included, a category's checklist
// may have: the checklist message shows one block per step.
const MaxSteps = 48

// LoadRunbook parses and validates a runbook file. Every error names the
// line, so an operator can fix a replaced RUNBOOK_FILE quickly.
func LoadRunbook(name string, src []byte) (*Runbook, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: file is empty", name)
	}
	var doc struct {
		Categories map[string]*CategorySpec `yaml:"categories"`
	}
	top := root.Content[0]
	if err := checkKeys(top, "categories"); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := top.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rb := &Runbook{Categories: map[Category]*CategorySpec{}}
	var errs []error
	for key, spec := range doc.Categories {
		c, ok := ParseCategory(key)
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown category %q (want outage, webhook, security or performance)", keyLine(top, key), key))
			continue
		}
		if spec == nil {
			errs = append(errs, fmt.Errorf("line %d: category %q is empty", keyLine(top, key), key))
			continue
		}
		errs = append(errs, spec.validate(key)...)
		rb.Categories[c] = spec
	}
	for _, c := range Categories {
		if _, ok := rb.Categories[c]; !ok && !hasKey(doc.Categories, string(c)) {
			errs = append(errs, fmt.Errorf("line %d: category %q is missing", top.Line, c))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rb, nil
}

func hasKey(m map[string]*CategorySpec, k string) bool {
	for key := range m {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

func (c *CategorySpec) validate(key string) []error {
	var errs []error
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, fmt.Errorf("line %d: category %q has no name", c.line, key))
	}
	if strings.TrimSpace(c.Checklist.Title) == "" {
		errs = append(errs, fmt.Errorf("line %d: category %q: checklist has no title", c.Checklist.line, key))
	}
	if len(c.Checklist.Steps) == 0 {
		errs = append(errs, fmt.Errorf("line %d: category %q: checklist has no steps", c.Checklist.line, key))
	}
	seen := map[string]int{}
	var walk func(steps []Step, depth int)
	walk = func(steps []Step, depth int) {
		for _, st := range steps {
			id := strings.ToLower(strings.TrimSpace(st.ID))
			switch {
			case id == "":
				errs = append(errs, fmt.Errorf("line %d: step has no id", st.line))
			case len(id) > 20 || strings.ContainsAny(id, " |:"):
				errs = append(errs, fmt.Errorf("line %d: step id %q must be short, without spaces, '|' or ':'", st.line, st.ID))
			case foldSeen(seen, id) != 0:
				errs = append(errs, fmt.Errorf("line %d: step id %q already used on line %d", st.line, st.ID, foldSeen(seen, id)))
			default:
				seen[id] = st.line
			}
			if strings.TrimSpace(st.Text) == "" {
				errs = append(errs, fmt.Errorf("line %d: step %q has no text", st.line, st.ID))
			}
			if len(st.Text) > 500 {
				errs = append(errs, fmt.Errorf("line %d: step %q text is longer than 500 characters", st.line, st.ID))
			}
			if depth > 0 && len(st.Steps) > 0 {
				errs = append(errs, fmt.Errorf("line %d: step %q: sub-steps may not have sub-steps", st.line, st.ID))
			}
			walk(st.Steps, depth+1)
		}
	}
	walk(c.Checklist.Steps, 0)
	// The checklist is one Slack message: a block per step, a title and
	// a progress line, within Slack's 50 blocks.
	if n := len(c.Checklist.Flat()); n > MaxSteps {
		errs = append(errs, fmt.Errorf("line %d: category %q: checklist has %d steps; at most %d fit one Slack message", c.Checklist.line, key, n, MaxSteps))
	}
	for status, tmpl := range c.Updates {
		if status != string(Investigating) && status != string(Mitigated) && status != string(Resolved) {
			errs = append(errs, fmt.Errorf("line %d: category %q: updates: %q is not a status (want investigating, mitigated or resolved)", c.updatesLine, key, status))
		}
		rest := tmpl
		for _, ph := range UpdatePlaceholders {
			rest = strings.ReplaceAll(rest, ph, "")
		}
		if i := strings.Index(rest, "{"); i >= 0 && strings.Contains(rest[i:], "}") {
			errs = append(errs, fmt.Errorf("line %d: category %q: updates.%s: unknown placeholder near %q (use %s)", c.updatesLine, key, status,
				rest[i:min(len(rest), i+20)], strings.Join(UpdatePlaceholders, ", ")))
		}
	}
	rest := c.Notice
	for _, ph := range NoticePlaceholders {
		rest = strings.ReplaceAll(rest, ph, "")
	}
	if i := strings.Index(rest, "{"); i >= 0 && strings.Contains(rest[i:], "}") {
		errs = append(errs, fmt.Errorf("line %d: category %q: notice: unknown placeholder near %q (use %s)", c.line, key,
			rest[i:min(len(rest), i+20)], strings.Join(NoticePlaceholders, ", ")))
	}
	if len(seen) > 40 {
		errs = append(errs, fmt.Errorf("line %d: category %q: at most 40 steps fit in one Slack message", c.Checklist.line, key))
	}
	return errs
}

// foldSeen returns the line of an ID already seen that equals id under
// strings.EqualFold, the match Checklist.Step uses: lowercasing alone
// keeps "ſ" and "s" apart. Checklists are short, so a scan is fine.
func foldSeen(seen map[string]int, id string) int {
	for k, line := range seen {
		if strings.EqualFold(k, id) {
			return line
		}
	}
	return 0
}

// UnmarshalYAML rejects unknown keys with their line and keeps the line.
func (c *CategorySpec) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "name", "symptoms", "immediate_actions", "checklist", "updates", "public_title", "notice"); err != nil {
		return err
	}
	type plain CategorySpec
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = CategorySpec(p)
	c.line = n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "updates" {
			c.updatesLine = n.Content[i+1].Line
		}
	}
	return nil
}

// UnmarshalYAML rejects unknown keys with their line and keeps the line.
func (c *Checklist) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "title", "steps"); err != nil {
		return err
	}
	type plain Checklist
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = Checklist(p)
	c.line = n.Line
	return nil
}

// UnmarshalYAML rejects unknown keys with their line and keeps the line.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "id", "text", "optional", "steps"); err != nil {
		return err
	}
	type plain Step
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = Step(p)
	s.line = n.Line
	return nil
}

func checkKeys(n *yaml.Node, allowed ...string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping of keys, got %s", n.Line, kindName(n.Kind))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ok := false
		for _, a := range allowed {
			if k.Value == a {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("line %d: unknown key %q (allowed: %s)", k.Line, k.Value, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func keyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "categories" {
			m := n.Content[i+1]
			for j := 0; j+1 < len(m.Content); j += 2 {
				if m.Content[j].Value == key {
					return m.Content[j].Line
				}
			}
		}
	}
	return n.Line
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}
