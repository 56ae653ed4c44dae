package workspace_test

import (
	"context"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"maps"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/workspace"
)

func loadMap(t *testing.T, files map[string]string) *fleet.Repo {
	t.Helper()
	m := fstest.MapFS{}
	for p, c := range files {
		m[p] = &fstest.MapFile{Data: []byte(c), Mode: 0o644}
	}
	repo, err := fleet.Load(context.Background(), m, fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// TestLazyDir: only what is asked for is written (a directory's own files,
// or everything below it with deep), never an ignored file; switching to
// another revision rewrites or removes the changed files already written,
// and a change of ignore rules starts over.
func TestLazyDir(t *testing.T) {
	base := map[string]string{
		"apps/a.yaml":          "a: 1\n",
		"apps/sub/b.yaml":      "b: 1\n",
		"apps/.sops.yaml":      "creation_rules: []\n", // ignored by Flux's defaults
		"charts/web/Chart.txt": "web\n",
		"charts/web/t/x.txt":   "x\n",
		"other/c.yaml":         "c: 1\n",
	}
	dir := t.TempDir()
	l := workspace.NewLazyDir(dir, loadMap(t, base))
	if err := l.Materialize([]string{"apps", "missing"}, false); err != nil {
		t.Fatal(err)
	}
	if err := l.Materialize([]string{"charts/web", "other/c.yaml"}, true); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"apps/a.yaml":          "a: 1\n",
		"charts/web/Chart.txt": "web\n",
		"charts/web/t/x.txt":   "x\n",
		"other/c.yaml":         "c: 1\n",
	}
	if diff := cmp.Diff(want, testenv.ReadTree(t, dir)); diff != "" {
		t.Fatalf("written (-want +got):\n%s", diff)
	}

	head := map[string]string{}
	for k, v := range base {
		head[k] = v
	}
	head["apps/a.yaml"] = "a: 2\n"     // written: rewritten
	head["apps/sub/b.yaml"] = "b: 2\n" // not written yet: written on demand
	delete(head, "other/c.yaml")       // written: removed
	head["apps/new.yaml"] = "n: 1\n"   // in a written directory: written
	changed := []string{"apps/a.yaml", "apps/sub/b.yaml", "other/c.yaml", "apps/new.yaml"}
	if err := l.Switch(loadMap(t, head), changed); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{
		"apps/a.yaml":          "a: 2\n",
		"apps/new.yaml":        "n: 1\n",
		"charts/web/Chart.txt": "web\n",
		"charts/web/t/x.txt":   "x\n",
	}
	if diff := cmp.Diff(want, testenv.ReadTree(t, dir)); diff != "" {
		t.Fatalf("after the switch (-want +got):\n%s", diff)
	}
	if err := l.Materialize([]string{"apps"}, true); err != nil {
		t.Fatal(err)
	}
	if got := testenv.ReadTree(t, dir)["apps/sub/b.yaml"]; got != "b: 2\n" {
		t.Errorf("apps/sub/b.yaml = %q, want the head's content", got)
	}

	head[".sourceignore"] = "charts/\n"
	if err := l.Switch(loadMap(t, head), []string{".sourceignore"}); err != nil {
		t.Fatal(err)
	}
	if got := testenv.ReadTree(t, dir); len(got) != 0 {
		t.Errorf("after an ignore rule changed: %v, want an empty directory", slices.Sorted(maps.Keys(got)))
	}
	if err := l.Materialize([]string{"."}, true); err != nil {
		t.Fatal(err)
	}
	if _, ok := testenv.ReadTree(t, dir)["charts/web/Chart.txt"]; ok {
		t.Error("a file the new ignore rule excludes was written")
	}
}
