package workspace

import (
	"path/filepath"
	"testing"

	git "github.com/go-git/go-git/v5"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

func TestFindPathBase(t *testing.T) {
	// A monorepo checked out into a subdirectory of the Actions workspace
	// (actions/checkout with path: platform), its fleet under deploy/flux.
	workspace := testenv.WriteTree(t, map[string]string{
		"platform/deploy/flux/clusters/prod/kustomization.yaml": "resources: []\n",
		"platform/src/main.go": "package main\n",
		"elsewhere/README.md":  "not the fleet\n",
	})
	repoRoot := filepath.Join(workspace, "platform")
	if _, err := git.PlainInit(repoRoot, false); err != nil {
		t.Fatal(err)
	}
	fleet := filepath.Join(repoRoot, "deploy", "flux")
	plain := testenv.WriteTree(t, map[string]string{"clusters/prod/kustomization.yaml": "resources: []\n"})
	resolve := func(p string) string {
		t.Helper()
		r, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name, dir, githubWorkspace string
		wantDir, wantPrefix        string
	}{
		{name: "the git work tree's root", dir: fleet, wantDir: repoRoot, wantPrefix: "deploy/flux"},
		{name: "a cluster directory deeper down", dir: filepath.Join(fleet, "clusters", "prod"), wantDir: repoRoot, wantPrefix: "deploy/flux/clusters/prod"},
		{name: "the fleet at the root", dir: repoRoot, wantDir: repoRoot, wantPrefix: ""},
		{name: "GITHUB_WORKSPACE holding the checkout", dir: fleet, githubWorkspace: workspace, wantDir: workspace, wantPrefix: "platform/deploy/flux"},
		{name: "GITHUB_WORKSPACE that does not hold the fleet", dir: fleet, githubWorkspace: filepath.Join(workspace, "elsewhere"), wantDir: repoRoot, wantPrefix: "deploy/flux"},
		{name: "GITHUB_WORKSPACE that does not exist", dir: fleet, githubWorkspace: filepath.Join(workspace, "gone"), wantDir: repoRoot, wantPrefix: "deploy/flux"},
		{name: "no git repository: the fleet directory", dir: plain, wantDir: plain, wantPrefix: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindPathBase(tc.dir, tc.githubWorkspace)
			if err != nil {
				t.Fatal(err)
			}
			if got.Dir != resolve(tc.wantDir) || got.Prefix != tc.wantPrefix {
				t.Errorf("FindPathBase = %+v, want dir %s prefix %q", got, tc.wantDir, tc.wantPrefix)
			}
		})
	}
	if _, err := FindPathBase(filepath.Join(workspace, "missing"), ""); err == nil {
		t.Error("a directory that does not exist gives no error")
	}
	if got := (PathBase{Dir: "/home/runner/work/my repo"}).URI(); got != "file:///home/runner/work/my%20repo/" {
		t.Errorf("URI = %s", got)
	}
}
