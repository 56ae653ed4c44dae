package kustomize_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxgate/fluxgate/render/kustomize"
)

const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: apps
data:
  cluster: ${cluster_name}
  region: ${region:=eu}
  owner: ${owner}
`

// A build reads the generated kustomization file from memory, records
// every file it read relative to the root, writes nothing, and a Replay of
// the record on a fresh FS gives the same reads.
func TestBuildOverlayAndRecord(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "apps")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte(configMap), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"spec": map[string]any{"targetNamespace": "team"}}
	manifest, kfile, err := kustomize.Generate(root, dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kfile); !os.IsNotExist(err) {
		t.Fatalf("Generate wrote %s (err %v)", kfile, err)
	}
	manifest, kept, err := kustomize.WithOriginAnnotations(manifest)
	if err != nil || kept {
		t.Fatalf("WithOriginAnnotations: kept %v, err %v", kept, err)
	}
	base, err := kustomize.SourceFS(root, false)
	if err != nil {
		t.Fatal(err)
	}
	fs := kustomize.NewFS(base, kfile, manifest)
	m, err := kustomize.Build(fs, dir, kustomize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := m
	if len(res) != 1 || res[0].GetNamespace() != "team" {
		t.Fatalf("built %d objects, namespace %q; want the ConfigMap in team", len(res), res[0].GetNamespace())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the build left %d entries in the directory, want only cm.yaml", len(entries))
	}
	reads := fs.Reads(root)
	var names []string
	for _, r := range reads {
		names = append(names, strings.Fields(r)[0])
	}
	if d := cmp.Diff([]string{"apps/cm.yaml", "apps/kustomization.yaml"}, names); d != "" {
		t.Errorf("reads (-want +got):\n%s", d)
	}
	replayed := kustomize.NewFS(filesys.MakeFsInMemory(), kfile, manifest)
	replayed.Replay(root, fs.Record(root))
	if d := cmp.Diff(reads, replayed.Reads(root)); d != "" {
		t.Errorf("replayed reads (-recorded +replayed):\n%s", d)
	}
	if err := fs.WriteFile(filepath.Join(dir, "x.yaml"), nil); err == nil {
		t.Error("a write through the build's filesystem succeeded")
	}
}

// Substitute names every variable used without a default and not defined,
// and substitutes the rest as kustomize-controller does.
func TestSubstitute(t *testing.T) {
	factory := resource.NewFactory(nil)
	res, err := factory.FromBytes([]byte(configMap))
	if err != nil {
		t.Fatal(err)
	}
	ks := map[string]any{"spec": map[string]any{"postBuild": map[string]any{"substituteFrom": []any{}}}}
	undefined, err := kustomize.Substitute(context.Background(), ks, map[string]string{"cluster_name": "prod"}, false, res)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"owner"}, undefined); d != "" {
		t.Errorf("undefined (-want +got):\n%s", d)
	}
	data := res.GetDataMap()
	if data["cluster"] != "prod" || data["region"] != "eu" || data["owner"] != "" {
		t.Errorf("substituted data = %v", data)
	}
}
