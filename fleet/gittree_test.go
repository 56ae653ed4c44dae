package fleet_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/gitrepo"
)

// TestLoadGitTree loads a revision straight from the object database: the
// committed content, not the work tree's.
func TestLoadGitTree(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("clusters/prod/apps.yaml", "# apps\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\n"+
		"spec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")
	write("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: committed\n")
	if _, err := wt.Add("."); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Commit("fleet", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}}); err != nil {
		t.Fatal(err)
	}
	write("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: uncommitted\n")

	g, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := g.TreeFS("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	r, err := fleet.Load(context.Background(), tree, fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range r.Docs {
		got = append(got, d.File+":"+itoa(d.Line)+" "+d.Ref())
	}
	want := []string{"apps/cm.yaml:1 ConfigMap/committed", "clusters/prod/apps.yaml:2 Kustomization/flux-system/apps"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"clusters/prod"}, r.EntryPoints()); diff != "" {
		t.Errorf("entry points (-want +got):\n%s", diff)
	}
}

func itoa(i int) string {
	return strconv.Itoa(i)
}
