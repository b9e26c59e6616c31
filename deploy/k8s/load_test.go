package k8s

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// botVar is one row of app.Vars.
type botVar struct{ Name, Default, Help string }

// botConfig is what the bot reads from the environment, taken from the
// source of cmd/internal/app/config.go (this module cannot import it).
type botConfig struct {
	vars    map[string]botVar
	secrets []string
}

// readBotConfig collects app.Vars and app.SecretVars from config.go's
// syntax tree, so a variable added there is known here without a copy.
func readBotConfig(path string) (botConfig, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return botConfig{}, err
	}
	bc := botConfig{vars: map[string]botVar{}}
	lit := func(name string) (*ast.CompositeLit, error) {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name == name && i < len(vs.Values) {
						if cl, ok := vs.Values[i].(*ast.CompositeLit); ok {
							return cl, nil
						}
					}
				}
			}
		}
		return nil, fmt.Errorf("%s: no var %s = […]{…} literal", path, name)
	}
	vars, err := lit("Vars")
	if err != nil {
		return botConfig{}, err
	}
	for _, e := range vars.Elts {
		row, ok := e.(*ast.CompositeLit)
		if !ok || len(row.Elts) != 3 {
			return botConfig{}, fmt.Errorf("%s: a Vars row is not {Name, Default, Help}", path)
		}
		var v [3]string
		for i, x := range row.Elts {
			if v[i], err = stringLit(x); err != nil {
				return botConfig{}, fmt.Errorf("%s: Vars row: %w", path, err)
			}
		}
		bc.vars[v[0]] = botVar{v[0], v[1], v[2]}
	}
	secrets, err := lit("SecretVars")
	if err != nil {
		return botConfig{}, err
	}
	for _, x := range secrets.Elts {
		s, err := stringLit(x)
		if err != nil {
			return botConfig{}, fmt.Errorf("%s: SecretVars: %w", path, err)
		}
		bc.secrets = append(bc.secrets, s)
	}
	if len(bc.vars) == 0 || len(bc.secrets) == 0 {
		return botConfig{}, fmt.Errorf("%s: Vars or SecretVars is empty", path)
	}
	return bc, nil
}

// stringLit is a string literal or a + of them.
func stringLit(x ast.Expr) (string, error) {
	switch x := x.(type) {
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			return strconv.Unquote(x.Value)
		}
	case *ast.BinaryExpr:
		if x.Op == token.ADD {
			a, err := stringLit(x.X)
			if err != nil {
				return "", err
			}
			b, err := stringLit(x.Y)
			return a + b, err
		}
	}
	return "", errors.New("not a string literal")
}

// kustomization is the part of kustomize's Kustomization these manifests
// use, decoded strictly: a misspelt or unused field is an error. Add a
// field here when the manifests need one.
type kustomization struct {
	APIVersion         string      `json:"apiVersion"`
	Kind               string      `json:"kind"`
	Resources          []string    `json:"resources,omitempty"`
	Patches            []kPatch    `json:"patches,omitempty"`
	ConfigMapGenerator []generator `json:"configMapGenerator,omitempty"`
	Images             []kImage    `json:"images,omitempty"`
}

type kPatch struct {
	Path   string   `json:"path"`
	Target *kTarget `json:"target"`
}

type kTarget struct {
	Group   string `json:"group,omitempty"`
	Version string `json:"version,omitempty"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
}

type generator struct {
	Name  string   `json:"name"`
	Files []string `json:"files"`
}

type kImage struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
}

// object is one Kubernetes object: its JSON and its typed decoding.
type object struct {
	kind, name string
	json       []byte
	typed      any
}

// bundle is what `kubectl apply -k dir` would apply.
type bundle struct {
	objects []*object
	images  []kImage
	// files lists every file the kustomizations read.
	files map[string]bool
}

func (b *bundle) find(kind, name string) *object {
	for _, o := range b.objects {
		if o.kind == kind && o.name == name {
			return o
		}
	}
	return nil
}

func (b *bundle) all(kind string) []*object {
	var out []*object
	for _, o := range b.objects {
		if o.kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// strict turns YAML into JSON and decodes it as the API server would:
// case-sensitive, unknown and duplicate fields are errors.
func strict(y []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(y)
	if err != nil {
		return err
	}
	return strictJSON(j, v)
}

func strictJSON(j []byte, v any) error {
	strictErrs, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// decode reads one object into its k8s.io/api type.
func decode(j []byte) (*object, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(j, &meta); err != nil {
		return nil, err
	}
	var typed interface{ GetName() string }
	switch meta.APIVersion + " " + meta.Kind {
	case "v1 ConfigMap":
		typed = &corev1.ConfigMap{}
	case "v1 Secret":
		typed = &corev1.Secret{}
	case "v1 Service":
		typed = &corev1.Service{}
	case "apps/v1 Deployment":
		typed = &appsv1.Deployment{}
	case "policy/v1 PodDisruptionBudget":
		typed = &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1 NetworkPolicy":
		typed = &networkingv1.NetworkPolicy{}
	default:
		return nil, fmt.Errorf("%s %s is not a kind this check knows", meta.APIVersion, meta.Kind)
	}
	if err := strictJSON(j, typed); err != nil {
		return nil, err
	}
	if typed.GetName() == "" {
		return nil, fmt.Errorf("a %s without metadata.name", meta.Kind)
	}
	return &object{kind: meta.Kind, name: typed.GetName(), json: j, typed: typed}, nil
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// readObjects decodes every document of a manifest file.
func readObjects(path string) ([]*object, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*object
	for _, doc := range docSeparator.Split(string(src), -1) {
		j, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if string(j) == "null" {
			continue // an empty document
		}
		o, err := decode(j)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// build resolves a kustomization directory as kustomize does for what these
// manifests use: resources (files and bases), ConfigMaps generated from
// files, and JSON 6902 patches on a target that must exist.
func build(dir string) (*bundle, error) {
	kpath := filepath.Join(dir, "kustomization.yaml")
	src, err := os.ReadFile(kpath)
	if err != nil {
		return nil, err
	}
	var k kustomization
	if err := strict(src, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", kpath, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		return nil, fmt.Errorf("%s: apiVersion %q kind %q, want kustomize.config.k8s.io/v1beta1 Kustomization", kpath, k.APIVersion, k.Kind)
	}
	b := &bundle{files: map[string]bool{kpath: true}, images: k.Images}
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: resource %s: %w", kpath, r, err)
		}
		if st.IsDir() {
			base, err := build(p)
			if err != nil {
				return nil, err
			}
			b.objects = append(b.objects, base.objects...)
			b.images = append(b.images, base.images...)
			for f := range base.files {
				b.files[f] = true
			}
			continue
		}
		objs, err := readObjects(p)
		if err != nil {
			return nil, err
		}
		b.objects = append(b.objects, objs...)
		b.files[p] = true
	}
	for _, g := range k.ConfigMapGenerator {
		cm := corev1.ConfigMap{Data: map[string]string{}}
		cm.APIVersion, cm.Kind, cm.Name = "v1", "ConfigMap", g.Name
		for _, f := range g.Files {
			p := filepath.Join(dir, f)
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("%s: configMapGenerator %s: %w", kpath, g.Name, err)
			}
			cm.Data[filepath.Base(f)] = string(data)
			b.files[p] = true
		}
		j, _ := json.Marshal(cm)
		b.objects = append(b.objects, &object{kind: "ConfigMap", name: g.Name, json: j, typed: &cm})
	}
	for _, p := range k.Patches {
		if p.Target == nil {
			return nil, fmt.Errorf("%s: patch %s has no target (this check applies JSON 6902 patches with a target)", kpath, p.Path)
		}
		o := b.find(p.Target.Kind, p.Target.Name)
		if o == nil {
			return nil, fmt.Errorf("%s: patch %s targets %s %s, which the resources do not have", kpath, p.Path, p.Target.Kind, p.Target.Name)
		}
		pp := filepath.Join(dir, p.Path)
		src, err := os.ReadFile(pp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kpath, err)
		}
		b.files[pp] = true
		var ops []patchOp
		if err := strict(src, &ops); err != nil {
			return nil, fmt.Errorf("%s: %w", pp, err)
		}
		patched, err := applyPatch(o.json, ops)
		if err != nil {
			return nil, fmt.Errorf("%s on %s %s: %w", pp, o.kind, o.name, err)
		}
		no, err := decode(patched)
		if err != nil {
			return nil, fmt.Errorf("%s %s after %s: %w", o.kind, o.name, pp, err)
		}
		*o = *no
	}
	return b, nil
}

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// applyPatch applies JSON 6902 add, replace and remove operations.
func applyPatch(doc []byte, ops []patchOp) ([]byte, error) {
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	for _, op := range ops {
		var val any
		if op.Op != "remove" {
			if err := json.Unmarshal(op.Value, &val); err != nil {
				return nil, fmt.Errorf("%s %s: value: %w", op.Op, op.Path, err)
			}
		}
		if !strings.HasPrefix(op.Path, "/") {
			return nil, fmt.Errorf("path %q does not start with /", op.Path)
		}
		tokens := strings.Split(op.Path[1:], "/")
		for i, t := range tokens {
			tokens[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
		}
		var err error
		if root, err = patchAt(root, tokens, op.Op, val); err != nil {
			return nil, fmt.Errorf("%s %s: %w", op.Op, op.Path, err)
		}
	}
	return json.Marshal(root)
}

func patchAt(node any, path []string, op string, val any) (any, error) {
	last := len(path) == 1
	switch n := node.(type) {
	case map[string]any:
		key := path[0]
		if last {
			_, exists := n[key]
			switch op {
			case "add":
				n[key] = val
			case "replace":
				if !exists {
					return nil, fmt.Errorf("no %q to replace", key)
				}
				n[key] = val
			case "remove":
				if !exists {
					return nil, fmt.Errorf("no %q to remove", key)
				}
				delete(n, key)
			default:
				return nil, fmt.Errorf("op %q is not supported here", op)
			}
			return n, nil
		}
		child, ok := n[key]
		if !ok {
			return nil, fmt.Errorf("no %q", key)
		}
		c, err := patchAt(child, path[1:], op, val)
		n[key] = c
		return n, err
	case []any:
		if last && path[0] == "-" && op == "add" {
			return append(n, val), nil
		}
		i, err := strconv.Atoi(path[0])
		if err != nil || i < 0 || i > len(n) || (i == len(n) && !(last && op == "add")) {
			return nil, fmt.Errorf("index %q out of range", path[0])
		}
		if !last {
			c, err := patchAt(n[i], path[1:], op, val)
			n[i] = c
			return n, err
		}
		switch op {
		case "add":
			return append(n[:i], append([]any{val}, n[i:]...)...), nil
		case "replace":
			n[i] = val
			return n, nil
		case "remove":
			return append(n[:i], n[i+1:]...), nil
		}
		return nil, fmt.Errorf("op %q is not supported here", op)
	}
	return nil, fmt.Errorf("%q is inside a scalar", path[0])
}
