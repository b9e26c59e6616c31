package publish

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The publisher shows; it does not record. Timeline entries, checklist
// ticks and audit entries are written by the use cases before they ask it
// to show them. Its one incident write is where it posted a card and a
// checklist message (Incidents.SetCard, SetChecklistMessage), without
// which the next render would post them again.
var (
	// incidentWrites are the Incidents methods publish may call.
	incidentWrites = []string{"Current", "SetCard", "SetChecklistMessage"}
	// recordingCalls are the use-case and store calls that write an
	// incident's timeline, checklist or the audit log.
	recordingCalls = []string{"Update", "UpdateThen", "Record", "RecordLine", "AutoTick", "System", "AddAffected"}
	// recordingImports are the packages that record.
	recordingImports = []string{"/usecase", "/audit"}
)

// storeWrites lists every store write in the Go files of dir: a call of
// an incident mutation (a func of package incident returning a
// Mutation), a call on Incidents other than incidentWrites, a recording
// call on anything but the Slack client, or an import of a recording
// package.
func storeWrites(t *testing.T, fset *token.FileSet, files map[string]*ast.File) []string {
	t.Helper()
	mutations := incidentMutations(t)
	var found []string
	for name, f := range files {
		for _, imp := range f.Imports {
			for _, bad := range recordingImports {
				if strings.HasSuffix(strings.Trim(imp.Path.Value, `"`), bad) {
					found = append(found, fmt.Sprintf("%s imports %s", name, imp.Path.Value))
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && strippedMarkup(call) {
				found = append(found, fmt.Sprintf("%s:%d: Slack markup stripped back to plain text; render the plain text from data", name, fset.Position(call.Pos()).Line))
			}
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pos := fset.Position(sel.Pos())
			recv := exprText(sel.X)
			switch {
			case recv == "incident" && mutations[sel.Sel.Name]:
				found = append(found, fmt.Sprintf("%s:%d: incident.%s (a mutation)", name, pos.Line, sel.Sel.Name))
			case strings.HasSuffix(recv, "Incidents") && !slices.Contains(incidentWrites, sel.Sel.Name):
				found = append(found, fmt.Sprintf("%s:%d: %s.%s", name, pos.Line, recv, sel.Sel.Name))
			case slices.Contains(recordingCalls, sel.Sel.Name) && !strings.HasSuffix(recv, "slack"):
				found = append(found, fmt.Sprintf("%s:%d: %s.%s", name, pos.Line, recv, sel.Sel.Name))
			}
			return true
		})
	}
	slices.Sort(found)
	return found
}

// strippedMarkup is strings.ReplaceAll(text, "*", …): Slack text turned
// back into the timeline's plain text instead of rendering that from data.
func strippedMarkup(call *ast.CallExpr) bool {
	if exprText(call.Fun) != "strings.ReplaceAll" || len(call.Args) != 3 {
		return false
	}
	lit, ok := call.Args[1].(*ast.BasicLit)
	return ok && lit.Value == `"*"`
}

// incidentMutations are the funcs of package incident that return a
// Mutation (a change to an incident).
func incidentMutations(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	paths, _ := filepath.Glob("../incident/*.go")
	out := map[string]bool{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Type.Results == nil {
				continue
			}
			for _, r := range fn.Type.Results.List {
				if id, ok := r.Type.(*ast.Ident); ok && id.Name == "Mutation" {
					out[fn.Name.Name] = true
				}
			}
		}
	}
	if !out["Record"] || !out["AutoTick"] || !out["SetCard"] {
		t.Fatalf("incident's mutations not found (%d): the check would pass anything", len(out))
	}
	return out
}

func exprText(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprText(x.X) + "." + x.Sel.Name
	case *ast.CallExpr:
		return exprText(x.Fun) + "()"
	}
	return ""
}

func parseDir(t *testing.T, fset *token.FileSet, dir string) map[string]*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*ast.File{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = f
	}
	if len(files) == 0 {
		t.Fatal("no Go files in " + dir)
	}
	return files
}

func TestPublishRecordsNothing(t *testing.T) {
	fset := token.NewFileSet()
	if found := storeWrites(t, fset, parseDir(t, fset, ".")); len(found) > 0 {
		t.Errorf("publish writes incident state; record it in the caller (usecase.Ticks) and have publish show it:\n%s", strings.Join(found, "\n"))
	}
	// Its view of the incident store can only read and place messages.
	f := parseDir(t, fset, ".")["publisher.go"]
	var methods []string
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Incidents" {
			return true
		}
		for _, m := range ts.Type.(*ast.InterfaceType).Methods.List {
			for _, name := range m.Names {
				methods = append(methods, name.Name)
			}
		}
		return false
	})
	slices.Sort(methods)
	if want := slices.Sorted(slices.Values(incidentWrites)); !slices.Equal(methods, want) {
		t.Errorf("publish.Incidents has %v, want only %v", methods, want)
	}
}

// The check catches each way a write came back before.
func TestPublishRecordsNothingCatchesAPlantedWrite(t *testing.T) {
	for _, src := range []string{
		`p.st.Incidents.Update(ctx, id, incident.Record(who, "x"))`,
		`p.ticks.Record(ctx, id, who, "x")`,
		`p.ticks.AutoTick(ctx, id, who, incident.StepRunResync, "resync")`,
		`p.ticks.RecordLine(ctx, id, who, "x", "y")`,
		`p.ticks.System(ctx, "bot", "approval void", "x", id)`,
		`p.st.Incidents.UpdateThen(ctx, id, fn, after)`,
		`_ = incident.Note(who, "x")`,
		`_ = render.OneLine(strings.ReplaceAll(verified, "*", ""))`,
	} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "planted.go", "package publish\nfunc f() {\n"+src+"\n}\n", 0)
		if err != nil {
			t.Fatal(err)
		}
		if found := storeWrites(t, fset, map[string]*ast.File{"planted.go": f}); len(found) == 0 {
			t.Errorf("not caught: %s", src)
		}
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "planted.go", "package publish\nimport \"github.com/clerk-incident-bot/clerk-incident-bot/usecase\"\nvar _ usecase.Ticks\n", 0)
	if err != nil {
		t.Fatal(err)
	}
	if found := storeWrites(t, fset, map[string]*ast.File{"planted.go": f}); len(found) == 0 {
		t.Error("an import of usecase not caught")
	}
	// Slack's chat.update is delivery.
	f, _ = parser.ParseFile(fset, "ok.go", "package publish\nfunc f() { p.slack.Update(ctx, ch, ts, m) }\n", 0)
	if found := storeWrites(t, fset, map[string]*ast.File{"ok.go": f}); len(found) > 0 {
		t.Errorf("Slack's update flagged: %v", found)
	}
}
