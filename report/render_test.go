package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/render"
)

func testRender() *render.Result {
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "settings", "namespace": "apps"}}
	return &render.Result{Clusters: []string{"clusters/prod"}, Units: []*render.Unit{
		{ID: "Kustomization/flux-system/apps", Kind: "Kustomization", Namespace: "flux-system", Name: "apps",
			Cluster: "clusters/prod", File: "clusters/prod/apps.yaml", Line: 3, Path: "apps",
			Objects: []*render.Object{{Object: cm, File: "apps/cm.yaml", Line: 1}}},
		{ID: "Overlay/infra/base", Kind: render.KindOverlay, Cluster: "clusters/prod", File: "infra/base/kustomization.yaml", Path: "infra/base"},
	}}
}

func TestRenderYAML(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderYAML(&buf, testRender()); err != nil {
		t.Fatal(err)
	}
	want := `# clusters/prod Kustomization/flux-system/apps (clusters/prod/apps.yaml:3) path=apps
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: apps
# clusters/prod Overlay/infra/base (infra/base/kustomization.yaml) path=infra/base
`
	if got := buf.String(); got != want {
		t.Errorf("RenderYAML:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderDir(t *testing.T) {
	out := t.TempDir()
	res := testRender()
	if err := RenderDir(out, res); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kustomization-flux-system-apps.yaml", "overlay-infra-base.yaml"} {
		data, err := os.ReadFile(filepath.Join(out, "clusters", "prod", name))
		if err != nil || !strings.HasPrefix(string(data), RenderHeader+"\n# clusters/prod ") {
			t.Errorf("%s: %q, %v", name, data, err)
		}
	}
	// Its own files are rewritten, a file it did not write never is.
	if err := RenderDir(out, res); err != nil {
		t.Fatalf("re-run: %v", err)
	}
	mine := filepath.Join(out, "clusters", "prod", "overlay-infra-base.yaml")
	if err := os.WriteFile(mine, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RenderDir(out, res); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("error = %v, want a refusal", err)
	}
	if data, _ := os.ReadFile(mine); string(data) != "mine\n" {
		t.Errorf("overwritten: %q", data)
	}
}
