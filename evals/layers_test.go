package evals_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLayers checks the rules between pilot's layers (docs/design.md) over
// every package's imports, tests included, followed transitively:
// env never imports agent, policy, planner, tools or evals; robot never
// imports env; agent and the root policy package import nothing under
// robot/; and cmd is imported by nothing.
func TestLayers(t *testing.T) {
	const mod = "github.com/pilotkit/pilot"
	root := ".."
	imports := map[string][]string{} // package dir (relative) → module packages it imports
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if p == mod || strings.HasPrefix(p, mod+"/") {
				dep := strings.TrimPrefix(strings.TrimPrefix(p, mod), "/")
				if dep != pkg && !slices.Contains(imports[pkg], dep) {
					imports[pkg] = append(imports[pkg], dep)
				}
			}
		}
		if _, ok := imports[pkg]; !ok {
			imports[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 20 {
		t.Fatalf("found %d packages under %s; want pilot's whole tree", len(imports), root)
	}
	deps := func(pkg string) map[string]string { // dep → the path that reaches it
		seen := map[string]string{}
		var walk func(p, via string)
		walk = func(p, via string) {
			for _, d := range imports[p] {
				if _, ok := seen[d]; !ok {
					seen[d] = via + " → " + d
					walk(d, seen[d])
				}
			}
		}
		walk(pkg, pkg)
		return seen
	}
	under := func(p string, tops ...string) bool {
		return slices.ContainsFunc(tops, func(top string) bool { return p == top || strings.HasPrefix(p, top+"/") })
	}
	for pkg := range imports {
		for dep, via := range deps(pkg) {
			var rule string
			switch {
			case under(pkg, "env") && under(dep, "agent", "policy", "planner", "tools", "evals", "cmd"):
				rule = "env never imports agent, policy, planner, tools, evals or cmd"
			case under(pkg, "robot") && under(dep, "env", "agent", "policy", "planner", "tools", "evals", "cmd"):
				rule = "robot never imports env or anything above it"
			case (under(pkg, "agent") || pkg == "policy") && under(dep, "robot"):
				rule = "agent and the root policy package import nothing under robot/"
			case !under(pkg, "cmd") && under(dep, "cmd"):
				rule = "nothing imports cmd"
			default:
				continue
			}
			t.Errorf("%s imports %s (%s): %s", pkg, dep, via, rule)
		}
	}
}
