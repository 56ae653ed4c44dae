package promote

import (
	"bytes"
	"flag"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the expected trees and plan.txt files under testdata")

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden plans the promotion each testdata/CASE/original/.fluxgate.yaml
// declares and compares the edited tree with CASE/expected and the text
// plan with CASE/plan.txt: one case per move kind (images through
// kustomize images: entries with digests, plain image: fields and
// HelmRelease values; charts of HelmReleases, OCIRepositories and
// HelmCharts; files copied with excludes; postBuild vars), with comments,
// quoting, flow style and multi-document files kept.
func TestGolden(t *testing.T) {
	for _, name := range []string{"images", "charts", "files", "vars"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			orig := os.DirFS(filepath.Join(dir, "original"))
			ps, err := LoadConfig(orig)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 1 {
				t.Fatalf("%d promotions, want 1", len(ps))
			}
			plan, err := Compute(orig, ps[0])
			if err != nil {
				t.Fatal(err)
			}
			got := testenv.ReadTree(t, filepath.Join(dir, "original"))
			before := map[string]string{}
			for k, v := range got {
				before[k] = v
			}
			for _, e := range plan.Edits {
				if e.Before != nil && string(e.Before) != before[e.Path] {
					t.Errorf("%s: Before is not the original content", e.Path)
				}
				if !within(filepath.ToSlash(ps[0].To), e.Path) {
					t.Errorf("%s is edited, outside the target %s", e.Path, ps[0].To)
				}
				got[e.Path] = string(e.After)
			}
			var text bytes.Buffer
			if err := WriteText(&text, []*Plan{plan}); err != nil {
				t.Fatal(err)
			}
			if *update {
				writeTree(t, filepath.Join(dir, "expected"), got)
				if err := os.WriteFile(filepath.Join(dir, "plan.txt"), text.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if d := cmp.Diff(testenv.ReadTree(t, filepath.Join(dir, "expected")), got); d != "" {
				t.Errorf("tree (-want +got):\n%s", d)
			}
			want, err := os.ReadFile(filepath.Join(dir, "plan.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), text.String()); d != "" {
				t.Errorf("plan (-want +got):\n%s", d)
			}
		})
	}
}
