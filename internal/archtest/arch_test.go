// Package archtest checks the shape the code keeps: small types counted
// as a reader meets them (types_test.go), short functions, one recover(),
// every import edge against ARCHITECTURE.md's layer table
// (layers_test.go), and a step table that names functions that exist.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/clerk-incident-bot/clerk-incident-bot"

const (
	maxMethods   = 25
	maxFields    = 12
	maxFuncLines = 80
)

// root is the module's directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", dir, err)
	}
	return dir
}

type file struct {
	rel string // path from the module root
	fs  *token.FileSet
	ast *ast.File
}

// sources parses every non-test Go file of the bot's module (not the
// deploy module, which has its own go.mod).
func sources(t *testing.T) []file {
	t.Helper()
	base := root(t)
	var out []file
	fs := token.NewFileSet()
	err := filepath.WalkDir(base, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "deploy" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fs, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		out = append(out, file{rel: filepath.ToSlash(rel), fs: fs, ast: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// isFake: fakes model whole services and are exempt from the size limits
// (not from recover() or function length).
func isFake(rel string) bool { return strings.HasPrefix(rel, "internal/fake") }

func recvName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return ""
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.IndexExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return id.Name
		}
	case *ast.IndexListExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

// dataRecords are structs that hold data rather than collaborators:
// Config and the command and button table rows.
var dataRecords = map[string]bool{
	"cmd/internal/app.Config": true,
	// Table rows: one command or button each.
	"commands.Sub": true, "commands.Button": true, "handlers.Sub": true, "handlers.Button": true,
}

// TestServiceStructsHaveAtMost12Fields checks every struct that holds a
// collaborator (an interface, a func, a pointer to a struct of this
// module or a Redis client): services and their Deps/Options.
func TestServiceStructsHaveAtMost12Fields(t *testing.T) {
	for _, f := range sources(t) {
		if isFake(f.rel) {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			name := filepath.Dir(f.rel) + "." + ts.Name.Name
			if dataRecords[name] {
				return true
			}
			fields, service := 0, strings.HasSuffix(ts.Name.Name, "Deps") || strings.HasSuffix(ts.Name.Name, "Options")
			for _, fl := range st.Fields.List {
				k := len(fl.Names)
				if k == 0 {
					k = 1
				}
				fields += k
				switch ft := fl.Type.(type) {
				case *ast.FuncType, *ast.InterfaceType:
					service = true
				case *ast.SelectorExpr:
					if ft.Sel.Name == "UniversalClient" || ft.Sel.Name == "FieldLogger" {
						service = true
					}
				}
			}
			if service && fields > maxFields {
				t.Errorf("%s (%s) has %d fields (at most %d for a service or its deps)", name, f.fs.Position(ts.Pos()), fields, maxFields)
			}
			return true
		})
	}
}

func TestOnlyGuardRecovers(t *testing.T) {
	for _, f := range sources(t) {
		if strings.HasPrefix(f.rel, "internal/guard/") {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "recover" && len(c.Args) == 0 {
				t.Errorf("%s: recover() outside internal/guard", f.fs.Position(c.Pos()))
			}
			return true
		})
	}
}

// isTable: a function whose body is one return of a composite literal
// (a table) is exempt from the length limit, as the issue says.
func isTable(fd *ast.FuncDecl) bool {
	if fd.Body == nil || len(fd.Body.List) != 1 {
		return false
	}
	r, ok := fd.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(r.Results) != 1 {
		return false
	}
	_, ok = r.Results[0].(*ast.CompositeLit)
	return ok
}

func TestNoFunctionOver80Lines(t *testing.T) {
	for _, f := range sources(t) {
		for _, d := range f.ast.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || isTable(fd) {
				continue
			}
			start, end := f.fs.Position(fd.Pos()).Line, f.fs.Position(fd.End()).Line
			if n := end - start - 1; n > maxFuncLines {
				name := fd.Name.Name
				if r := recvName(fd); r != "" {
					name = r + "." + name
				}
				t.Errorf("%s:%d %s is %d lines (at most %d)", f.rel, start, name, n, maxFuncLines)
			}
		}
	}
}

// TestArchitectureTableNamesRealFunctions reads the step table of
// ARCHITECTURE.md (| runbook step | files | functions |) and checks that
// every function it names in backticks (Func, Type.Method, or
// pkg.Type.Method) is declared in one of the files (or directories) the
// row names.
func TestArchitectureTableNamesRealFunctions(t *testing.T) {
	base := root(t)
	raw, err := os.ReadFile(filepath.Join(base, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	pathRE := regexp.MustCompile(`(?:^|[\s,;(])([a-z0-9_]+(?:/[a-z0-9_]+)*(?:\.go|/))`)
	nameRE := regexp.MustCompile("`([A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*){0,2})`")
	rows := 0
	for _, line := range strings.Split(string(raw), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) != 5 || !strings.Contains(cols[2], ".go") {
			continue
		}
		rows++
		decls := map[string]bool{}
		for _, m := range pathRE.FindAllStringSubmatch(cols[2]+" "+cols[3], -1) {
			for name := range declared(t, base, m[1]) {
				decls[name] = true
			}
		}
		for _, m := range nameRE.FindAllStringSubmatch(cols[3], -1) {
			name := m[1]
			if parts := strings.Split(name, "."); len(parts) == 3 {
				name = parts[1] + "." + parts[2] // pkg.Type.Method
			}
			if decls[name] {
				continue
			}
			if i := strings.Index(name, "."); i > 0 && decls[name[i+1:]] && strings.ToLower(name[:1]) == name[:1] {
				continue // pkg.Func
			}
			t.Errorf("ARCHITECTURE.md row %q names %s, which none of its files declares", strings.TrimSpace(cols[1]), m[1])
		}
	}
	if rows < 20 {
		t.Errorf("ARCHITECTURE.md has %d step rows (| step | files | functions |); the table is missing", rows)
	}
}

// declared is every function and method (Type.Method) declared in a Go
// file, or in the non-test files of a directory.
func declared(t *testing.T, base, path string) map[string]bool {
	t.Helper()
	files := []string{filepath.Join(base, path)}
	if strings.HasSuffix(path, "/") {
		files, _ = filepath.Glob(filepath.Join(base, path, "*.go"))
	}
	out := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Errorf("ARCHITECTURE.md names %s: %v", f, err)
			continue
		}
		for _, d := range pf.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				name := fd.Name.Name
				if r := recvName(fd); r != "" {
					name = r + "." + name
				}
				out[name] = true
			}
		}
	}
	return out
}

// TestReceiversAreNamedAfterTheirTypes: a method's receiver starts with
// its type's initial, and every method of a type calls it the same.
func TestReceiversAreNamedAfterTheirTypes(t *testing.T) {
	names := map[string]map[string]string{} // type → receiver name → where
	for _, f := range sources(t) {
		for _, d := range f.ast.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List[0].Names) == 0 {
				continue
			}
			typ, name := recvName(fd), fd.Recv.List[0].Names[0].Name
			if typ == "" || name == "_" {
				continue
			}
			where := f.fs.Position(fd.Pos()).String()
			if !strings.HasPrefix(name, strings.ToLower(typ[:1])) {
				t.Errorf("%s: the receiver of %s.%s is %q; name it after %s", where, typ, fd.Name.Name, name, typ)
			}
			key := filepath.Dir(f.rel) + "." + typ
			if names[key] == nil {
				names[key] = map[string]string{}
			}
			names[key][name] = where
		}
	}
	for typ, seen := range names {
		if len(seen) > 1 {
			t.Errorf("%s's methods name their receiver differently: %v", typ, seen)
		}
	}
}
