package depcheck

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/fluxgate/fluxgate"

// allowed lists, per project package, the project packages its non-test
// files may import. Packages under cmd/ may import anything; a package not
// in the table may import nothing of the project until it is added here.
var allowed = map[string][]string{
	"fleet":                             {"internal/valuecodec", "internal/atomicfile"},
	"render":                            {"fleet", "render/sops", "render/cache", "render/helm", "render/kustomize", "internal/atomicfile"},
	"render/kustomize":                  {"render/sops"},
	"render/helm":                       {"fleet", "internal/atomicfile", "internal/egress"},
	"render/sops":                       {},
	"render/cache":                      {"fleet", "internal/valuecodec", "internal/atomicfile"},
	"validate":                          {"fleet", "render", "render/sops", "validate/catalog"},
	"diff":                              {"fleet", "render"},
	"imageupdate":                       {"fleet", "internal/yamlsplice"},
	"promote":                           {"fleet", "render", "internal/yamlsplice"},
	"report":                            {"fleet", "render", "validate", "diff"},
	"workspace":                         {"fleet", "render", "gitrepo"},
	"cluster":                           {"render"},
	"controller":                        {"render", "cluster", "gitrepo"},
	"change":                            {"gitrepo", "forge"},
	"validate/catalog":                  {"validate/catalog/internal/convert"},
	"validate/catalog/gen":              {"validate/catalog", "validate/catalog/internal/convert"},
	"validate/catalog/internal/convert": {},
	"gitrepo":                           {},
	"forge":                             {},
	"internal/ghaction":                 {},
	"internal/action":                   {"internal/ghaction"},
	"internal/registry":                 {},
	"internal/testenv":                  {},
	"internal/fleetgen":                 {},
	"internal/depcheck":                 {},
	"internal/valuecodec":               {},
	"internal/atomicfile":               {},
	"internal/egress":                   {},
	"internal/yamlsplice":               {},
	"internal/runtimetune":              {},
	"bench/fleetgen":                    {"internal/fleetgen"},
	"bench/schemas":                     {"validate/catalog"},
}

// projectImports returns, per package directory (relative, slash form), the
// project packages imported by its non-test files.
func projectImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == module || strings.HasPrefix(path, module+"/") {
				out[pkg] = append(out[pkg], strings.TrimPrefix(strings.TrimPrefix(path, module), "/"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func violations(imports map[string][]string) []string {
	var bad []string
	for pkg, deps := range imports {
		if pkg == "cmd" || strings.HasPrefix(pkg, "cmd/") {
			continue
		}
		ok, known := allowed[pkg]
		for _, dep := range deps {
			switch {
			case !known:
				bad = append(bad, pkg+" (not in the dependency table) imports "+dep)
			case dep == "cmd" || strings.HasPrefix(dep, "cmd/"):
				bad = append(bad, pkg+" imports "+dep)
			case !contains(ok, dep):
				bad = append(bad, pkg+" imports "+dep)
			}
		}
	}
	sort.Strings(bad)
	return bad
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func TestDependencyTable(t *testing.T) {
	imports := projectImports(t, "../..")
	if !contains(imports["render"], "fleet") {
		t.Fatalf("render does not import fleet: the walk did not see the tree")
	}
	for _, v := range violations(imports) {
		t.Errorf("dependency rule broken: %s", v)
	}
}

// TestDependencyTableCatchesViolations proves the check fails on a tree that
// breaks the rules.
func TestDependencyTableCatchesViolations(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("fleet/a.go", "package fleet\nimport _ \""+module+"/render\"\n")
	write("render/a.go", "package render\nimport _ \""+module+"/fleet\"\n")
	write("validate/a.go", "package validate\nimport _ \""+module+"/diff\"\n")
	write("diff/a.go", "package diff\nimport _ \""+module+"/cmd/fluxgate\"\n")
	write("cmd/fluxgate/a.go", "package main\nimport _ \""+module+"/validate\"\n")
	write("newpkg/a.go", "package newpkg\nimport _ \""+module+"/fleet\"\n")
	write("render/a_test.go", "package render\nimport _ \""+module+"/validate\"\n")
	got := violations(projectImports(t, dir))
	want := []string{
		"diff imports cmd/fluxgate",
		"fleet imports render",
		"newpkg (not in the dependency table) imports fleet",
		"validate imports diff",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestArchitectureTable checks that ARCHITECTURE.md has one row for every
// package of the dependency table, listing exactly the imports the table
// allows, so the map readers see cannot drift from the shape enforced here.
func TestArchitectureTable(t *testing.T) {
	data, err := os.ReadFile("../../ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		pkg := strings.Trim(strings.TrimSpace(cells[1]), "`")
		var deps []string
		for _, d := range strings.Split(cells[len(cells)-2], ",") {
			d = strings.Trim(strings.TrimSpace(d), "`")
			if d != "" && d != "none" {
				deps = append(deps, d)
			}
		}
		rows[pkg] = deps
	}
	if len(rows) < 10 {
		t.Fatalf("read %d package rows from ARCHITECTURE.md: the table was not found", len(rows))
	}
	for pkg, ok := range allowed {
		deps, found := rows[pkg]
		if !found {
			t.Errorf("ARCHITECTURE.md has no row for %s", pkg)
			continue
		}
		want := append([]string(nil), ok...)
		got := append([]string(nil), deps...)
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, ",") != strings.Join(got, ",") {
			t.Errorf("ARCHITECTURE.md row %s lists imports %v, the dependency table allows %v", pkg, got, want)
		}
	}
	for pkg := range rows {
		if _, ok := allowed[pkg]; !ok && pkg != "cmd/fluxgate" {
			t.Errorf("ARCHITECTURE.md has a row for %s, which the dependency table does not know", pkg)
		}
	}
}
