package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// TestRenderReusesUnchangedBuilds renders one revision, changes the tree,
// and renders it again reusing the first render's builds: only the builds
// whose inputs changed run, and the output is what a fresh render gives.
func TestRenderReusesUnchangedBuilds(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *testing.T, dir string)
		// rebuilt is the number of builds that must run again.
		rebuilt int64
	}{
		{"nothing changed", func(*testing.T, string) {}, 0},
		{"a manifest changed", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "teams/team-a/configmap.yaml"), "#34577c", "#ff0000")
		}, 2}, // built once per cluster
		{"a file added to a directory without kustomization.yaml", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "infrastructure/monitoring/extra.yaml"),
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: monitoring\ndata:\n  a: b\n")
		}, 2}, // built once per cluster
		{"a file added below a directory without kustomization.yaml", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "infrastructure/monitoring/more/extra.yaml"),
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: monitoring\ndata:\n  a: b\n")
		}, 2},
		{"a cluster variable changed", func(t *testing.T, dir string) {
			// Substitution runs again on reused builds: the output follows
			// the new value although no build reads the settings file twice.
			replaceIn(t, filepath.Join(dir, "clusters/staging/cluster-settings.yaml"), "staging-eu1", "staging-eu2")
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), base)
			head := t.TempDir()
			testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), head)
			tc.edit(t, head)

			_, first := renderDirOpts(t, base, render.Options{KeepBuilds: true})
			_, again := renderDirOpts(t, head, render.Options{Reuse: first})
			_, fresh := renderDirOpts(t, head, render.Options{})

			if diff := cmp.Diff(string(dump(t, fresh)), string(dump(t, again))); diff != "" {
				t.Fatalf("reusing builds changed the output (-fresh +reused):\n%s", diff)
			}
			for i := range fresh.Units {
				if fresh.Units[i].Hash != again.Units[i].Hash {
					t.Errorf("%s: hash %s reused, %s fresh", fresh.Units[i].ID, again.Units[i].Hash, fresh.Units[i].Hash)
				}
			}
			if again.Stats.Built != tc.rebuilt {
				t.Errorf("builds run = %d, want %d (reused %d of %d)", again.Stats.Built, tc.rebuilt, again.Stats.Reused, fresh.Stats.Built)
			}
			if again.Stats.Built+again.Stats.Reused != fresh.Stats.Built {
				t.Errorf("built %d + reused %d != %d builds of a fresh render", again.Stats.Built, again.Stats.Reused, fresh.Stats.Built)
			}
		})
	}
}

func replaceIn(t *testing.T, file, old, new string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	out := []byte(strings.ReplaceAll(s, old, new))
	if string(out) == s {
		t.Fatalf("%s does not contain %q", file, old)
	}
	write(t, file, string(out))
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRenderReusesUnchangedHelmInstalls: a HelmRelease whose chart and
// values are unchanged is not templated again; one whose values changed is.
func TestRenderReusesUnchangedHelmInstalls(t *testing.T) {
	sources := map[string]string{"GitRepository/apps/charts": "."}
	base := t.TempDir()
	testenv.CopyTree(t, filepath.Join("testdata", "helm"), base)
	head := t.TempDir()
	testenv.CopyTree(t, filepath.Join("testdata", "helm"), head)
	replaceIn(t, filepath.Join(head, "cluster/releases.yaml"), "  name: skip\n  namespace: apps\nspec:\n", "  name: skip\n  namespace: apps\nspec:\n  values:\n    changed: true\n")

	opts := func() render.Options { return render.Options{Offline: true, CacheDir: t.TempDir()} }
	o := opts()
	o.KeepBuilds = true
	first := renderHelmFleet(t, base, sources, o)
	o = opts()
	o.Reuse = first
	again := renderHelmFleet(t, head, sources, o)
	fresh := renderHelmFleet(t, head, sources, opts())
	if diff := cmp.Diff(string(dumpHelm(t, fresh)), string(dumpHelm(t, again))); diff != "" {
		t.Fatalf("reusing installs changed the output (-fresh +reused):\n%s", diff)
	}
	// The cluster's kustomize build is rebuilt (its file changed), so is the
	// changed release; every other release is reused.
	if again.Stats.Built != 2 || again.Stats.Built+again.Stats.Reused != fresh.Stats.Built {
		t.Errorf("built %d, reused %d; a fresh render builds %d", again.Stats.Built, again.Stats.Reused, fresh.Stats.Built)
	}
}
