package catalog_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yannh/kubeconform/pkg/validator"

	"github.com/fluxgate/fluxgate/validate/catalog"
)

// The catalog's schemas work in kubeconform itself: laid out as a local
// schema registry, they validate a stream of manifests in strict mode.
func TestWithKubeconform(t *testing.T) {
	dir := t.TempDir()
	manifests := []string{deployment, kustomization, helmRelease, gitRepository, artifactGenerator}
	for _, gvk := range []string{"apps/v1/Deployment", "kustomize.toolkit.fluxcd.io/v1/Kustomization",
		"helm.toolkit.fluxcd.io/v2/HelmRelease", "source.toolkit.fluxcd.io/v1/GitRepository",
		"source.extensions.fluxcd.io/v1beta1/ArtifactGenerator"} {
		i := strings.LastIndex(gvk, "/")
		apiVersion, kind := gvk[:i], gvk[i+1:]
		schema, ok := catalog.Schema("1.36", apiVersion, kind)
		if !ok {
			t.Fatalf("no schema for %s", gvk)
		}
		// kubeconform's template fields: Group is the part before the
		// slash, ResourceAPIVersion the part after, ResourceKind lower case.
		group, version, _ := strings.Cut(apiVersion, "/")
		p := filepath.Join(dir, group, version, strings.ToLower(kind)+".json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, schema, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v, err := validator.New([]string{filepath.Join(dir, "{{ .Group }}", "{{ .ResourceAPIVersion }}", "{{ .ResourceKind }}.json")},
		validator.Opts{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	run := func(docs []string) []validator.Result {
		return v.Validate("test.yaml", io.NopCloser(strings.NewReader(strings.Join(docs, "\n---\n"))))
	}
	for _, r := range run(manifests) {
		if r.Status != validator.Valid {
			t.Errorf("%s: status %d, err %v, %v", r.Resource.Path, r.Status, r.Err, r.ValidationErrors)
		}
	}
	broken := []string{
		strings.Replace(deployment, "replicas: 2", "replica: 2", 1),
		strings.Replace(kustomization, "prune: true", "prune: yes please", 1),
	}
	for _, r := range run(broken) {
		if r.Status != validator.Invalid {
			t.Errorf("broken manifest: status %d, want Invalid (err %v)", r.Status, r.Err)
		}
	}
}
