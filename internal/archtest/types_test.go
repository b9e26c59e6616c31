package archtest

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// typedPackage is one of the module's packages type-checked from its
// non-test sources, its imports read from the compiler's export data.
type typedPackage struct {
	rel  string // import path below the module
	fset *token.FileSet
	pkg  *types.Package
}

// typedPackages type-checks every package of the module (not the deploy
// module) the way a reader meets it: go/types sees unexported types and
// the methods and fields that embedding brings.
func typedPackages(t *testing.T) []typedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}\t{{.Dir}}\t{{join .GoFiles \" \"}}", "./...")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	export := map[string]string{}
	type src struct{ path, dir, files string }
	var ours []src
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 4)
		if len(f) != 4 {
			continue
		}
		export[f[0]] = f[1]
		if strings.HasPrefix(f[0], module+"/") && f[3] != "" {
			ours = append(ours, src{f[0], f[2], f[3]})
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if export[path] == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(export[path])
	})
	var pkgs []typedPackage
	base := root(t)
	for _, s := range ours {
		var files []*ast.File
		for _, name := range strings.Fields(s.files) {
			abs := filepath.Join(s.dir, name)
			src, err := os.ReadFile(abs)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(base, abs) // positions read as repo paths
			f, err := parser.ParseFile(fset, filepath.ToSlash(rel), src, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		pkg, err := (&types.Config{Importer: imp}).Check(s.path, fset, files, nil)
		if err != nil {
			t.Fatalf("type-checking %s: %v", s.path, err)
		}
		pkgs = append(pkgs, typedPackage{rel: strings.TrimPrefix(s.path, module+"/"), fset: fset, pkg: pkg})
	}
	if len(pkgs) < 20 {
		t.Fatalf("found %d packages; the module was not read", len(pkgs))
	}
	return pkgs
}

// plantedPackage type-checks one directory of testdata as a package.
func plantedPackage(t *testing.T, dir string) typedPackage {
	t.Helper()
	fset := token.NewFileSet()
	matches, _ := filepath.Glob(filepath.Join("testdata", dir, "*.go"))
	var files []*ast.File
	for _, m := range matches {
		f, err := parser.ParseFile(fset, m, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	pkg, err := (&types.Config{}).Check(dir, fset, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	return typedPackage{rel: dir, fset: fset, pkg: pkg}
}

// namedTypes are a package's declared non-interface types.
func namedTypes(p typedPackage) []*types.TypeName {
	var out []*types.TypeName
	for _, name := range p.pkg.Scope().Names() {
		tn, ok := p.pkg.Scope().Lookup(name).(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		if _, iface := tn.Type().Underlying().(*types.Interface); iface {
			continue
		}
		out = append(out, tn)
	}
	return out
}

// methodSetSize is how many methods a reader can call on a *T: its own
// and every one promoted through what it embeds.
func methodSetSize(tn *types.TypeName) int {
	return types.NewMethodSet(types.NewPointer(tn.Type())).Len()
}

// collaborators counts a struct's func, interface and pointer fields, with
// embedded structs (and pointers to them) expanded: what the type can
// reach, not how it spells it.
func collaborators(st *types.Struct, seen map[*types.Struct]bool) int {
	if seen[st] {
		return 0
	}
	seen[st] = true
	n := 0
	for i := 0; i < st.NumFields(); i++ {
		f := st.Field(i)
		if f.Embedded() {
			t := f.Type()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			if inner, ok := t.Underlying().(*types.Struct); ok {
				n += collaborators(inner, seen)
				continue
			}
		}
		switch f.Type().Underlying().(type) {
		case *types.Signature, *types.Interface, *types.Pointer:
			n++
		}
	}
	return n
}

// sizeViolations lists the package's types over the method or
// collaborator limit, counted as above.
func sizeViolations(p typedPackage) []string {
	var out []string
	for _, tn := range namedTypes(p) {
		name := p.rel + "." + tn.Name()
		if n := methodSetSize(tn); n > maxMethods {
			out = append(out, fmt.Sprintf("%s (%s) has %d methods with those it embeds (at most %d)", name, p.fset.Position(tn.Pos()), n, maxMethods))
		}
		if dataRecords[name] {
			continue
		}
		if st, ok := tn.Type().Underlying().(*types.Struct); ok {
			if n := collaborators(st, map[*types.Struct]bool{}); n > maxFields {
				out = append(out, fmt.Sprintf("%s (%s) has %d collaborators with its embedded structs expanded (at most %d)", name, p.fset.Position(tn.Pos()), n, maxFields))
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestTypesAreSmallAsAReaderCountsThem: no type over 25 methods and no
// struct over 12 collaborators, with what embedding brings counted.
func TestTypesAreSmallAsAReaderCountsThem(t *testing.T) {
	for _, p := range typedPackages(t) {
		if isFake(p.rel + "/") {
			continue
		}
		for _, v := range sizeViolations(p) {
			t.Error(v)
		}
	}
}

// TestPlantedHubsAreCaught: a hub made of small embedded parts (each
// under the limits when counted alone) is caught.
func TestPlantedHubsAreCaught(t *testing.T) {
	got := strings.Join(sizeViolations(plantedPackage(t, "planted")), "\n")
	for _, want := range []string{
		"planted.Hub (", "has 26 methods with those it embeds",
		"planted.Wiring (", "has 13 collaborators with its embedded structs expanded",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the planted violations were not all found: want %q in\n%s", want, got)
		}
	}
	for _, small := range []string{"planted.cards ", "planted.pages ", "planted.outbox ", "planted.Small "} {
		if strings.Contains(got, small) {
			t.Errorf("%s is within the limits but was reported:\n%s", small, got)
		}
	}
}
