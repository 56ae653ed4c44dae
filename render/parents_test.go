package render_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// TestRenderChildOnceAsItsParentPatchesIt: the children of the apps
// Kustomization are declared in apps/<app>/ks.yaml files that
// apps/kustomization.yaml lists one by one. Each child is rendered once, from
// the parent's build output with the parent's spec.patches applied (its
// label selector is set-based: gitops.example/defaults!=disabled), and never
// from its own file as an entry point: that reading would lack prune,
// decryption and the substituted variables, and would produce every object a
// second time.
func TestRenderChildOnceAsItsParentPatchesIt(t *testing.T) {
	repo, res := renderDir(t, filepath.Join(fleets, "patterns", "parent-patches"), 2)
	if diff := cmp.Diff([]string{"clusters/prod"}, repo.EntryPoints()); diff != "" {
		t.Errorf("entry points (-want +got):\n%s", diff)
	}
	if p := res.Problems(); len(p) != 0 {
		t.Errorf("problems: %v", p)
	}
	count := map[string]int{}
	for _, u := range res.Units {
		count[u.ID]++
	}
	want := map[string]int{
		"Kustomization/flux-system/flux-system": 1,
		"Kustomization/flux-system/apps":        1,
		"Kustomization/flux-system/podinfo":     1,
		"Kustomization/flux-system/whoami":      1,
		"Kustomization/flux-system/legacy-wiki": 1,
	}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	// Every object comes from one unit only.
	owner := map[string]string{}
	for _, u := range res.Units {
		for _, o := range u.Objects {
			if prev, dup := owner[o.Ref()]; dup {
				t.Errorf("%s produced by %s and %s", o.Ref(), prev, u.ID)
			}
			owner[o.Ref()] = u.ID
		}
	}

	const apps = "Kustomization/flux-system/apps"
	for _, name := range []string{"podinfo", "whoami"} {
		ks := findObject(res, "clusters/prod", apps, "Kustomization/flux-system/"+name)
		if ks == nil {
			t.Fatalf("%s not in the output of %s", name, apps)
		}
		for field, want := range map[string]string{
			"spec.prune":                           "true",
			"spec.timeout":                         "5m",
			"spec.decryption.provider":             "sops",
			"spec.decryption.secretRef.name":       "sops-age",
			"spec.postBuild.substituteFrom.0.name": "cluster-vars",
			"spec.sourceRef.name":                  "flux-system",
			"spec.path":                            "./apps/" + name + "/app",
		} {
			if got := valueAt(ks.Object, strings.Split(field, ".")...); got != want {
				t.Errorf("%s %s = %q, want %q (the parent's patch)", name, field, got, want)
			}
		}
	}
	legacy := findObject(res, "clusters/prod", apps, "Kustomization/flux-system/legacy-wiki")
	if legacy == nil {
		t.Fatalf("legacy-wiki not in the output of %s", apps)
	}
	for _, field := range []string{"spec.timeout", "spec.decryption.provider", "spec.postBuild.substituteFrom.0.name"} {
		if got := valueAt(legacy.Object, strings.Split(field, ".")...); got != "" {
			t.Errorf("legacy-wiki opts out, yet %s = %q", field, got)
		}
	}
	if got := valueAt(legacy.Object, "spec", "prune"); got != "false" {
		t.Errorf("legacy-wiki spec.prune = %q, want its own false", got)
	}

	// The variables the patch's substituteFrom brings are substituted.
	for _, v := range []patternValue{
		{"clusters/prod", "Kustomization/flux-system/podinfo", "Ingress/podinfo/podinfo",
			[]string{"spec", "rules", "0", "host"}, "podinfo.prod.example.com"},
		{"clusters/prod", "Kustomization/flux-system/whoami", "Deployment/whoami/whoami",
			[]string{"spec", "template", "spec", "containers", "0", "args", "0"}, "--name=prod"},
		{"clusters/prod", "Kustomization/flux-system/legacy-wiki", "ConfigMap/wiki/wiki-settings",
			[]string{"data", "title"}, "Team wiki"},
	} {
		o := findObject(res, v.cluster, v.unit, v.obj)
		if o == nil {
			t.Errorf("%s not rendered by %s", v.obj, v.unit)
			continue
		}
		if got := valueAt(o.Object, v.field...); got != v.want {
			t.Errorf("%s %v = %q, want %q", v.obj, v.field, got, v.want)
		}
	}
}

// TestRenderParentPatchSetBasedSelectors: a parent's patch reaches the
// children its target's label selector selects, with the set-based
// operators kustomize takes (!=, in, notin, !key), before they become
// units.
func TestRenderParentPatchSetBasedSelectors(t *testing.T) {
	const sync = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n" +
		"  interval: 1m\n  url: https://git.example.com/fleet\n  ref:\n    branch: main\n---\n" +
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n" +
		"  interval: 10m\n  path: ./clusters/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	child := func(name, labels string) string {
		return "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: " + name +
			"\n  namespace: flux-system\n  labels:\n    gitops.example/app: " + name + "\n" + labels +
			"spec:\n  interval: 1h\n  prune: true\n  path: ./apps/" + name + "/app\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	}
	tests := []struct {
		selector string
		patched  []string
	}{
		{"gitops.example/defaults!=disabled", []string{"plain", "tiered"}},
		{"gitops.example/defaults notin (disabled,off)", []string{"plain", "tiered"}},
		{"gitops.example/tier in (web)", []string{"tiered"}},
		{"!gitops.example/defaults", []string{"plain", "tiered"}},
		{"gitops.example/defaults=disabled", []string{"opted-out"}},
	}
	for _, tt := range tests {
		t.Run(tt.selector, func(t *testing.T) {
			apps := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n" +
				"  interval: 1h\n  prune: true\n  path: ./apps\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" +
				"  patches:\n    - patch: |-\n        - op: add\n          path: /spec/postBuild\n          value:\n            substitute:\n              GREETING: patched\n" +
				"      target:\n        kind: Kustomization\n        labelSelector: '" + tt.selector + "'\n"
			files := map[string]string{
				"clusters/prod/flux-system/gotk-sync.yaml":     sync,
				"clusters/prod/flux-system/kustomization.yaml": "resources:\n- gotk-sync.yaml\n",
				"clusters/prod/apps.yaml":                      apps,
				"apps/kustomization.yaml":                      "resources:\n- ./plain/ks.yaml\n- ./tiered/ks.yaml\n- ./opted-out/ks.yaml\n",
				"apps/plain/ks.yaml":                           child("plain", ""),
				"apps/tiered/ks.yaml":                          child("tiered", "    gitops.example/tier: web\n"),
				"apps/opted-out/ks.yaml":                       child("opted-out", "    gitops.example/defaults: disabled\n"),
			}
			for _, name := range []string{"plain", "tiered", "opted-out"} {
				files["apps/"+name+"/app/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
					"\n  namespace: default\ndata:\n  greeting: ${GREETING:=unpatched}\n"
			}
			_, res := renderDir(t, testenv.WriteTree(t, files), 2)
			if p := res.Problems(); len(p) != 0 {
				t.Fatalf("problems: %v", p)
			}
			var got []string
			seen := map[string]int{}
			for _, u := range res.Units {
				if u.Kind != render.KindKustomization || u.Parent != "Kustomization/flux-system/apps" {
					continue
				}
				seen[u.Name]++
				o := findObject(res, "clusters/prod", u.ID, "ConfigMap/default/"+u.Name)
				if o == nil {
					t.Fatalf("%s: ConfigMap not rendered", u.ID)
				}
				if nested(o.Object, "data", "greeting") == "patched" {
					got = append(got, u.Name)
				}
			}
			if diff := cmp.Diff(map[string]int{"plain": 1, "tiered": 1, "opted-out": 1}, seen); diff != "" {
				t.Errorf("children rendered (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.patched, slices.Sorted(slices.Values(got))); diff != "" {
				t.Errorf("children the patch reached (-want +got):\n%s", diff)
			}
		})
	}
}
