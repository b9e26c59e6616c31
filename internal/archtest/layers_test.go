package archtest

import (
	"bufio"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// layerMap is ARCHITECTURE.md's import rules as data: which layer each
// package is in, what each layer may import, and which layers may import
// an outside module.
type layerMap struct {
	order   []string            // layers as the table lists them
	members map[string][]string // layer → package patterns ("cmd/..." is a prefix)
	allowed map[string]map[string]bool
	outside map[string]map[string]bool // module path prefix → layers or packages allowed
}

// readLayers parses the two tables of ARCHITECTURE.md that follow the
// headers "| layer | packages | may import |" and "| outside module | may
// be imported by |".
func readLayers(t *testing.T, doc string) layerMap {
	t.Helper()
	m := layerMap{members: map[string][]string{}, allowed: map[string]map[string]bool{}, outside: map[string]map[string]bool{}}
	table := ""
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "| layer | packages | may import |"):
			table = "layers"
			continue
		case strings.HasPrefix(line, "| outside module | may be imported by |"):
			table = "outside"
			continue
		case !strings.HasPrefix(line, "|"):
			table = ""
			continue
		case strings.HasPrefix(line, "|---"):
			continue
		}
		cols := strings.Split(strings.Trim(line, "|"), "|")
		switch {
		case table == "layers" && len(cols) == 3:
			layer := strings.TrimSpace(cols[0])
			m.order = append(m.order, layer)
			m.members[layer] = strings.Fields(cols[1])
			m.allowed[layer] = map[string]bool{layer: true}
			for _, l := range strings.Fields(cols[2]) {
				m.allowed[layer][l] = true
			}
		case table == "outside" && len(cols) == 2:
			m.outside[strings.TrimSpace(cols[0])] = set(strings.Fields(cols[1]))
		}
	}
	if len(m.order) < 5 || len(m.outside) == 0 {
		t.Fatalf("ARCHITECTURE.md's layer tables were not found (%d layers, %d outside rules)", len(m.order), len(m.outside))
	}
	for layer, may := range m.allowed {
		for l := range may {
			if _, ok := m.members[l]; !ok && l != "*" {
				t.Errorf("layer %s may import %q, which is no layer", layer, l)
			}
		}
	}
	return m
}

func set(xs []string) map[string]bool {
	out := map[string]bool{}
	for _, x := range xs {
		out[x] = true
	}
	return out
}

// layerOf names the layers whose patterns match pkg (one, when the table
// is right).
func (m layerMap) layerOf(pkg string) []string {
	var out []string
	for _, layer := range m.order {
		for _, p := range m.members[layer] {
			if p == pkg || strings.HasSuffix(p, "...") && strings.HasPrefix(pkg, strings.TrimSuffix(p, "...")) {
				out = append(out, layer)
				break
			}
		}
	}
	return out
}

// edgeViolations checks import edges (a package of the module → each
// path it imports) against the map.
func (m layerMap) edgeViolations(edges map[string][]string) []string {
	var out []string
	for pkg, imports := range edges {
		layers := m.layerOf(pkg)
		if len(layers) != 1 {
			out = append(out, pkg+" is in "+describe(layers)+" of ARCHITECTURE.md's layer table (it must be in one)")
			continue
		}
		from := layers[0]
		for _, imp := range imports {
			if strings.HasPrefix(imp, module+"/") {
				to := m.layerOf(strings.TrimPrefix(imp, module+"/"))
				if len(to) == 1 && !m.allowed[from]["*"] && !m.allowed[from][to[0]] {
					out = append(out, pkg+" ("+from+") imports "+strings.TrimPrefix(imp, module+"/")+" ("+to[0]+"), which its layer may not")
				}
				continue
			}
			for prefix, who := range m.outside {
				if (imp == prefix || strings.HasPrefix(imp, prefix+"/")) && !who[from] && !who[pkg] {
					out = append(out, pkg+" ("+from+") imports "+imp+", which only "+strings.Join(sortedKeys(who), ", ")+" may")
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func describe(layers []string) string {
	if len(layers) == 0 {
		return "no row"
	}
	return "rows " + strings.Join(layers, ", ")
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// moduleEdges is every non-test import of every package of the module.
func moduleEdges(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	edges := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			edges[strings.TrimPrefix(f[0], module+"/")] = f[1:]
		}
	}
	if len(edges) < 20 {
		t.Fatalf("go list found %d packages", len(edges))
	}
	return edges
}

func architectureLayers(t *testing.T) layerMap {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root(t), "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	return readLayers(t, string(raw))
}

// TestEveryImportFollowsTheLayerMap: each package is in one layer of
// ARCHITECTURE.md's table and imports only what its layer may.
func TestEveryImportFollowsTheLayerMap(t *testing.T) {
	m := architectureLayers(t)
	for _, v := range m.edgeViolations(moduleEdges(t)) {
		t.Error(v)
	}
}

// TestPlantedImportsAreCaught: arrows going the wrong way (a domain
// package on Slack, a use case on the publisher, a family on a client…),
// planted into the real edges, are each reported with their package.
func TestPlantedImportsAreCaught(t *testing.T) {
	m := architectureLayers(t)
	planted := []struct{ pkg, imp string }{
		{"approval", module + "/bot"},                  // a domain package on the Slack transport
		{"rooms", "github.com/slack-go/slack"},         // a domain package on slack-go
		{"usecase", module + "/publish"},               // a use case on the concrete publisher
		{"usecase", module + "/bot"},                   // a use case on the Slack transport
		{"commands", module + "/vercel"},               // a family calling an outside service
		{"render", module + "/clerkops"},               // rendering reaching a client
		{"statuswatch", module + "/usecase"},           // a domain package calling up
		{"incident", module + "/escalation"},           // data reaching a service
		{"bot", module + "/incident"},                  // the transport knowing incidents
		{"vercel", "github.com/clerk/clerk-sdk-go/v2"}, // the Clerk SDK outside clerkops
	}
	real := moduleEdges(t)
	for _, p := range planted {
		edges := maps.Clone(real)
		if _, ok := edges[p.pkg]; !ok {
			t.Fatalf("%s is not a package of the module", p.pkg)
		}
		edges[p.pkg] = slices.DeleteFunc(slices.Clone(edges[p.pkg]), func(imp string) bool { return imp == p.imp })
		before := set(m.edgeViolations(edges))
		edges[p.pkg] = append(edges[p.pkg], p.imp)
		after := m.edgeViolations(edges)
		found := false
		for _, v := range after {
			// a violation names its package and layer, then the import
			if !before[v] && strings.HasPrefix(v, p.pkg+" (") && strings.Contains(v, " imports "+strings.TrimPrefix(p.imp, module+"/")) {
				found = true
			}
		}
		if !found {
			t.Errorf("planted %s → %s was not reported:\n%s", p.pkg, p.imp, strings.Join(after, "\n"))
		}
	}
	edges := maps.Clone(real)
	edges["commands/sub"] = []string{module + "/apperr"}
	if got := strings.Join(m.edgeViolations(edges), "\n"); !strings.Contains(got, "commands/sub is in no row") {
		t.Errorf("a package in no row of the table was not reported:\n%s", got)
	}
}
