package fakeclerk

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Spec is the part of Clerk's OpenAPI description (clerk-bapi-2025-04-10)
// that checking requests needs: paths, methods, query parameters and
// request bodies.
type Spec struct {
	Paths      map[string]map[string]specOp `yaml:"paths"`
	Components struct {
		Parameters map[string]specParam  `yaml:"parameters"`
		Schemas    map[string]specSchema `yaml:"schemas"`
	} `yaml:"components"`
	patterns map[string]*regexp.Regexp
}

type specOp struct {
	Parameters  []specParam `yaml:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema specSchema `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
}

type specParam struct {
	Ref  string `yaml:"$ref"`
	Name string `yaml:"name"`
	In   string `yaml:"in"`
}

type specSchema struct {
	Ref        string                `yaml:"$ref"`
	Properties map[string]specSchema `yaml:"properties"`
	Required   []string              `yaml:"required"`
	Type       string                `yaml:"type"`
	Minimum    *float64              `yaml:"minimum"`
	Maximum    *float64              `yaml:"maximum"`
}

// ParseSpec reads Clerk's OpenAPI YAML.
func ParseSpec(raw []byte) (*Spec, error) {
	var sp Spec
	if err := yaml.Unmarshal(raw, &sp); err != nil {
		return nil, fmt.Errorf("read Clerk's spec: %w", err)
	}
	sp.patterns = map[string]*regexp.Regexp{}
	for tmpl := range sp.Paths {
		sp.patterns[tmpl] = regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$")
	}
	return &sp, nil
}

// Match finds the spec's path template and operation of a request. A
// literal path wins over a template (/users/count over /users/{user_id}).
func (sp *Spec) Match(method, path string) (string, bool) {
	var hits []string
	for tmpl, re := range sp.patterns {
		if _, ok := sp.Paths[tmpl][strings.ToLower(method)]; ok && re.MatchString(path) {
			hits = append(hits, tmpl)
		}
	}
	if len(hits) == 0 {
		return "", false
	}
	sort.Slice(hits, func(i, j int) bool { return strings.Count(hits[i], "{") < strings.Count(hits[j], "{") })
	return hits[0], true
}

// Check names every way a request the fake received leaves the spec: a
// path or method it lacks, a query parameter it does not define, a body
// on an operation without one, or a body field it does not define, of the
// wrong type or range, or a required one missing. It returns the
// operations seen ("POST /users/{user_id}/ban").
func (sp *Spec) Check(calls []Call) (problems []string, seen map[string]bool) {
	seen = map[string]bool{}
	for _, call := range calls {
		tmpl, ok := sp.Match(call.Method, call.Path)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s %s is not in Clerk's spec", call.Method, call.Path))
			continue
		}
		op := sp.Paths[tmpl][strings.ToLower(call.Method)]
		name := call.Method + " " + tmpl
		seen[name] = true
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
		for k := range q {
			if !allowed[k] {
				problems = append(problems, fmt.Sprintf("%s sends query parameter %q that the spec does not define", name, k))
			}
		}
		problems = append(problems, sp.checkBody(name, op, call.Body)...)
	}
	return problems, seen
}

func (sp *Spec) checkBody(name string, op specOp, body string) []string {
	body = strings.TrimSpace(body)
	empty := body == "" || body == "null"
	if op.RequestBody == nil {
		if !empty {
			return []string{fmt.Sprintf("%s sends body %q; the spec gives it none", name, body)}
		}
		return nil
	}
	media, ok := op.RequestBody.Content["application/json"]
	if !ok {
		return nil
	}
	schema := sp.resolve(media.Schema)
	if empty {
		if len(schema.Required) > 0 {
			return []string{fmt.Sprintf("%s sends no body; the spec requires %v", name, schema.Required)}
		}
		return nil
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		return []string{fmt.Sprintf("%s sends a body that is not a JSON object: %q", name, body)}
	}
	var out []string
	for k, v := range fields {
		prop, ok := schema.Properties[k]
		if !ok {
			out = append(out, fmt.Sprintf("%s sends body field %q that the spec does not define", name, k))
			continue
		}
		out = append(out, checkValue(name, k, sp.resolve(prop), v)...)
	}
	for _, k := range schema.Required {
		if _, ok := fields[k]; !ok {
			out = append(out, fmt.Sprintf("%s leaves out required body field %q", name, k))
		}
	}
	return out
}

func checkValue(name, field string, prop specSchema, v any) []string {
	if v == nil {
		return nil // nullable fields; the spec marks them, Clerk takes null as "unchanged"
	}
	var ok bool
	switch prop.Type {
	case "boolean":
		_, ok = v.(bool)
	case "string":
		_, ok = v.(string)
	case "integer", "number":
		var n float64
		n, ok = v.(float64)
		if ok && ((prop.Minimum != nil && n < *prop.Minimum) || (prop.Maximum != nil && n > *prop.Maximum)) {
			return []string{fmt.Sprintf("%s sends %s = %v, outside the spec's range", name, field, v)}
		}
	default:
		ok = true
	}
	if !ok {
		return []string{fmt.Sprintf("%s sends %s = %v, not a %s", name, field, v, prop.Type)}
	}
	return nil
}

func (sp *Spec) resolve(s specSchema) specSchema {
	for range 5 {
		if s.Ref == "" {
			return s
		}
		s = sp.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}
