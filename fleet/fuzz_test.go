package fleet_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/fluxgate/fluxgate/fleet"
)

// FuzzLoad: any manifest, kustomization file and Flux Kustomization load
// without a panic (bad input is a Problem), every document is located in
// its file, and the graph built from them (entry points, dependsOn
// checks, build inputs) is walked without a panic either.
func FuzzLoad(f *testing.F) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\ndata:\n  a: b\n"
	ks := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  dependsOn:\n    - name: apps\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	f.Add(cm+"---\n"+cm, "resources:\n  - a.yaml\n  - ../apps\n", ks)
	f.Add("a: &a [x, *a]\n", "resources: [a.yaml, a.yaml]\ncomponents: [../c]\n", ks+"---\n"+ks)
	f.Add("--- !!binary\n\xff\xfe", "resources: x\n", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: [x]}\nspec: {path: 7}\n")
	f.Add(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}`, "", "")
	f.Fuzz(func(t *testing.T, manifest, kustomization, flux string) {
		fsys := fstest.MapFS{
			"apps/a.yaml":             {Data: []byte(manifest)},
			"apps/kustomization.yaml": {Data: []byte(kustomization)},
			"clusters/test/apps.yaml": {Data: []byte(flux)},
		}
		repo, err := fleet.Load(context.Background(), fsys, fleet.Options{Workers: 2})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		for _, d := range repo.Docs {
			if _, ok := fsys[d.File]; !ok || d.Line < 1 {
				t.Fatalf("document %s at %s:%d", d.Kind, d.File, d.Line)
			}
		}
		for _, p := range repo.Problems {
			if p.File == "" || p.Message == "" {
				t.Fatalf("a problem without a file or message: %+v", p)
			}
		}
		for _, e := range repo.EntryPoints() {
			repo.BuildInputs(e)
			repo.BuildFluxDocs(e)
		}
		repo.BuildInputs("apps")
	})
}
