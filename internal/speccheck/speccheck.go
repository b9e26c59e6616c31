// Package speccheck checks requests against a provider's own published
// API description (OpenAPI 3 or Swagger 2): the method and path name an
// operation, every query, form and JSON body parameter is one the operation
// defines, required ones are there and enum values are allowed. The fakes
// record what they receive (Recorder) and their tests check it here, so a
// request the real service would not take fails a test that names the
// method, the path and the parameter.
//
// The descriptions are subsets of the providers' files, cut to the
// operations the bot calls; each names its source and version in x-source
// (testdata/, embedded: Load). testdata/cut.py cuts them; a request to an
// operation not in a subset fails until the operation is added from the
// provider's file.
package speccheck

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed testdata/*.json
var files embed.FS

// The subsets kept in testdata/.
const (
	GitHub          = "github-rest-subset.json"
	Vercel          = "vercel-rest-subset.json"
	Statuspage      = "statuspage-subset.json"
	PagerDutyEvents = "pagerduty-events-v2-subset.json"
	PagerDutyREST   = "pagerduty-rest-subset.json"
	Slack           = "slack-web-api-subset.json"
	Twilio          = "twilio-api-v2010-subset.json"
)

// Request is one request as a fake received it.
type Request struct {
	Method, Path string
	Query        url.Values
	ContentType  string
	Body         []byte
}

func (r Request) String() string { return r.Method + " " + r.Path }

// Recorder keeps every request a handler receives.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Wrap records each request (its body read and handed on unchanged)
// before h answers it.
func (rec *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			var err error
			body, err = io.ReadAll(io.LimitReader(r.Body, 8<<20))
			_ = r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
			if err != nil {
				// The caller went away mid-request: the provider never got
				// a whole request to judge.
				h.ServeHTTP(w, r)
				return
			}
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), ContentType: r.Header.Get("Content-Type"), Body: body})
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// Requests is every request so far, in order.
func (rec *Recorder) Requests() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.reqs)
}

// Spec is a loaded API description.
type Spec struct {
	Name string // the description's title and version
	base string // path prefix of every operation (basePath, servers[0])
	// anyMethod: the provider takes every operation by GET or POST and its
	// arguments in the query, a form or JSON (Slack's Web API).
	anyMethod bool
	ops       []operation
	root      map[string]any
}

type operation struct {
	method, tmpl string
	re           *regexp.Regexp
	literal      int // characters outside {placeholders}: the most literal match wins
	params       []param
	body         map[string]any // request body schema (OpenAPI 3), nil when none
}

type param struct {
	name, in string
	required bool
	enum     []string
}

// Load reads one of the embedded subsets (GitHub, Vercel, …).
func Load(name string) (*Spec, error) {
	raw, err := files.ReadFile("testdata/" + name)
	if err != nil {
		return nil, fmt.Errorf("speccheck: %w", err)
	}
	return Parse(raw)
}

// MustLoad is Load for the fakes, whose subsets are embedded and known good.
func MustLoad(name string) *Spec {
	s, err := Load(name)
	if err != nil {
		panic(err)
	}
	return s
}

// Parse reads an OpenAPI 3 or Swagger 2 description (JSON or YAML).
func Parse(raw []byte) (*Spec, error) {
	var root map[string]any
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("speccheck: %w", err)
	}
	s := &Spec{root: root}
	info, _ := root["info"].(map[string]any)
	s.Name = strings.TrimSpace(fmt.Sprint(info["title"], " ", info["version"]))
	if b, ok := root["basePath"].(string); ok {
		s.base = strings.TrimRight(b, "/")
	}
	if servers, ok := root["servers"].([]any); ok && len(servers) > 0 {
		if sv, ok := servers[0].(map[string]any); ok {
			if u, err := url.Parse(fmt.Sprint(sv["url"])); err == nil {
				s.base = strings.TrimRight(u.Path, "/")
			}
		}
	}
	s.anyMethod, _ = root["x-any-method"].(bool)
	paths, _ := root["paths"].(map[string]any)
	for tmpl, v := range paths {
		item, _ := v.(map[string]any)
		shared := s.params(item["parameters"])
		for method, o := range item {
			om, ok := o.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			op := operation{method: strings.ToUpper(method), tmpl: tmpl}
			op.params = append(slices.Clone(shared), s.params(om["parameters"])...)
			if rb := s.deref(om["requestBody"]); rb != nil {
				if content, ok := rb["content"].(map[string]any); ok {
					for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
						if c, ok := content[ct].(map[string]any); ok {
							op.body = s.deref(c["schema"])
							break
						}
					}
				}
			}
			quoted := regexp.QuoteMeta(tmpl)
			op.re = regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(quoted, `[^/]+`) + "$")
			op.literal = len(regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(tmpl, ""))
			s.ops = append(s.ops, op)
		}
	}
	if len(s.ops) == 0 {
		return nil, fmt.Errorf("speccheck: %s has no operations", s.Name)
	}
	return s, nil
}

// deref follows a local $ref ("#/components/…", "#/definitions/…").
func (s *Spec) deref(v any) map[string]any {
	m, _ := v.(map[string]any)
	for i := 0; m != nil && i < 10; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = s.root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cm, _ := cur.(map[string]any)
			cur = cm[strings.NewReplacer("~1", "/", "~0", "~").Replace(part)]
		}
		m, _ = cur.(map[string]any)
	}
	return m
}

func (s *Spec) params(v any) []param {
	list, _ := v.([]any)
	var out []param
	for _, x := range list {
		p := s.deref(x)
		if p == nil {
			continue
		}
		pr := param{name: fmt.Sprint(p["name"]), in: fmt.Sprint(p["in"])}
		pr.required, _ = p["required"].(bool)
		enum := p["enum"] // Swagger 2 keeps it on the parameter
		if sc := s.deref(p["schema"]); sc != nil && enum == nil {
			enum = sc["enum"]
			if it := s.deref(sc["items"]); enum == nil && it != nil {
				enum = it["enum"] // an array parameter: each value
			}
		}
		for _, e := range asList(enum) {
			pr.enum = append(pr.enum, fmt.Sprint(e))
		}
		out = append(out, pr)
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

// find is the operation for method and path (the most literal template
// wins: /incidents/unresolved over /incidents/{id}).
func (s *Spec) find(method, p string) (*operation, bool) {
	rel := p
	if s.base != "" {
		if !strings.HasPrefix(p, s.base+"/") {
			return nil, false
		}
		rel = strings.TrimPrefix(p, s.base)
	}
	var best *operation
	for i := range s.ops {
		op := &s.ops[i]
		if !op.re.MatchString(rel) || (op.method != method && !s.anyMethod) {
			continue
		}
		if best == nil || op.literal > best.literal {
			best = op
		}
	}
	return best, best != nil
}

// Check says how r falls outside the description, or nil.
func (s *Spec) Check(r Request) error {
	op, ok := s.find(r.Method, path.Clean(r.Path))
	if !ok {
		return fmt.Errorf("%s %s is no operation of %s", r.Method, r.Path, s.Name)
	}
	where := fmt.Sprintf("%s %s (%s %s%s)", r.Method, r.Path, op.method, s.base, op.tmpl)
	args := map[string][]string{}
	from := map[string]string{}
	for k, v := range r.Query {
		args[k], from[k] = v, "query"
	}
	var jsonBody map[string]any
	ct, _, _ := mime.ParseMediaType(r.ContentType)
	switch {
	case len(bytes.TrimSpace(r.Body)) == 0:
	case ct == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return fmt.Errorf("%s: the form body cannot be read: %v", where, err)
		}
		if op.body != nil && !s.anyMethod {
			jsonBody = formObject(form) // an OpenAPI 3 form body: checked as its schema
			break
		}
		for k, v := range form {
			args[k], from[k] = v, "form"
		}
	case ct == "application/json":
		if err := json.Unmarshal(r.Body, &jsonBody); err != nil {
			return fmt.Errorf("%s: the JSON body is not an object: %v", where, err)
		}
		if op.body == nil && !s.anyMethod {
			return fmt.Errorf("%s: sends a JSON body the operation does not take", where)
		}
		if s.anyMethod { // Slack: JSON arguments are the method's arguments
			for k, v := range jsonBody {
				args[k], from[k] = []string{scalar(v)}, "JSON body"
			}
			jsonBody = nil
		}
	default:
		return fmt.Errorf("%s: body of content type %q, which the description does not take", where, r.ContentType)
	}
	declared := map[string]param{}
	for _, p := range op.params {
		// Slack takes a header argument (the token) as a form or query
		// argument as well.
		if p.in == "query" || p.in == "formData" || s.anyMethod && p.in == "header" {
			declared[p.name] = p
		}
	}
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p, ok := declared[k]
		if !ok || !s.anyMethod && (p.in == "query") != (from[k] == "query") {
			return fmt.Errorf("%s: %s parameter %q is not defined by %s", where, from[k], k, s.Name)
		}
		for _, v := range args[k] {
			if len(p.enum) > 0 && !slices.Contains(p.enum, v) {
				return fmt.Errorf("%s: parameter %q = %q is not one of %v (%s)", where, k, v, p.enum, s.Name)
			}
		}
	}
	for _, p := range op.params {
		if p.required && (p.in == "query" || p.in == "formData") && len(args[p.name]) == 0 {
			return fmt.Errorf("%s: required parameter %q is missing (%s)", where, p.name, s.Name)
		}
	}
	if jsonBody != nil {
		return s.checkObject(where, "body", op.body, jsonBody)
	}
	if op.body != nil && !s.anyMethod && len(bytes.TrimSpace(r.Body)) == 0 {
		if rb := op.body; len(asList(rb["required"])) > 0 {
			return fmt.Errorf("%s: sends no body; %s requires one", where, s.Name)
		}
	}
	return nil
}

func formObject(f url.Values) map[string]any {
	out := map[string]any{}
	for k, v := range f {
		out[k] = v[0]
	}
	return out
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// checkObject checks a JSON value against a schema: property names,
// required properties and enum values, recursively.
func (s *Spec) checkObject(where, at string, schema map[string]any, v any) error {
	schema = s.deref(schema)
	if schema == nil || v == nil {
		return nil
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		if alts := asList(schema[key]); len(alts) > 0 {
			var first error
			for _, a := range alts {
				err := s.checkObject(where, at, s.deref(a), v)
				if err == nil {
					return nil
				}
				if first == nil {
					first = err
				}
			}
			return first
		}
	}
	if parts := asList(schema["allOf"]); len(parts) > 0 {
		return s.checkObject(where, at, s.mergeAllOf(schema, parts), v)
	}
	if enum := asList(schema["enum"]); len(enum) > 0 {
		ok := false
		for _, e := range enum {
			ok = ok || scalar(e) == scalar(v)
		}
		if !ok {
			return fmt.Errorf("%s: %s = %s is not one of %v (%s)", where, at, scalar(v), enum, s.Name)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		if props == nil {
			return nil // a free-form object (metadata, custom_details)
		}
		if t, _ := schema["type"].(string); t != "" && t != "object" {
			return fmt.Errorf("%s: %s is an object; %s says %s", where, at, s.Name, t)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := props[k]
			if !ok {
				if ap, ok := schema["additionalProperties"]; ok && ap != false {
					continue
				}
				return fmt.Errorf("%s: body parameter %q is not defined by %s", where, at+"."+k, s.Name)
			}
			if err := s.checkObject(where, at+"."+k, s.deref(sub), x[k]); err != nil {
				return err
			}
		}
		for _, r := range asList(schema["required"]) {
			if _, ok := x[fmt.Sprint(r)]; !ok {
				return fmt.Errorf("%s: required body parameter %q is missing (%s)", where, at+"."+fmt.Sprint(r), s.Name)
			}
		}
	case []any:
		if items := s.deref(schema["items"]); items != nil {
			for i, e := range x {
				if err := s.checkObject(where, fmt.Sprintf("%s[%d]", at, i), items, e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// mergeAllOf makes one object schema of schema and its allOf parts: every
// part's properties and required ones, so a property of one part is not
// unknown to another.
func (s *Spec) mergeAllOf(schema map[string]any, parts []any) map[string]any {
	merged := map[string]any{}
	props := map[string]any{}
	var required []any
	for _, a := range append([]any{schema}, parts...) {
		m := s.deref(a)
		for k, v := range m {
			if k != "allOf" && k != "properties" && k != "required" {
				merged[k] = v
			}
		}
		if pm, ok := m["properties"].(map[string]any); ok {
			for k, v := range pm {
				props[k] = v
			}
		}
		required = append(required, asList(m["required"])...)
	}
	if len(props) > 0 {
		merged["properties"] = props
	}
	merged["required"] = required
	return merged
}

// CheckAll checks every request; it returns one error per request outside
// the description.
func (s *Spec) CheckAll(reqs []Request) []error {
	var errs []error
	for _, r := range reqs {
		if err := s.Check(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Covered lists the operations ("METHOD /template") that reqs exercised.
func (s *Spec) Covered(reqs []Request) map[string]bool {
	out := map[string]bool{}
	for _, r := range reqs {
		if op, ok := s.find(r.Method, path.Clean(r.Path)); ok {
			out[op.method+" "+op.tmpl] = true
		}
	}
	return out
}

// TB is the part of testing.TB Verify uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Verify fails t for each request outside the description and for each
// operation of want that no request exercised.
func Verify(t TB, s *Spec, reqs []Request, want ...string) {
	t.Helper()
	for _, err := range s.CheckAll(reqs) {
		t.Errorf("outside the provider's spec: %v", err)
	}
	covered := s.Covered(reqs)
	for _, w := range want {
		if !covered[w] {
			t.Errorf("no request exercised %s (%s)", w, s.Name)
		}
	}
}

// Source is the description's x-source (where the subset came from), as
// text.
func (s *Spec) Source() string {
	b, _ := json.Marshal(s.root["x-source"])
	return string(b)
}
