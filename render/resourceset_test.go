package render_test

import (
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// TestRenderResourceSets renders the resourceset pattern fleet: the
// ResourceSets with static inputs become objects of the unit that applies
// them, pointing at the ResourceSet; their Kustomizations and HelmReleases
// become units; a chartRef to what a provider-driven ResourceSet makes is a
// warning that says so.
func TestRenderResourceSets(t *testing.T) {
	_, res := renderDir(t, filepath.Join(fleets, "patterns", "resourceset"), 2)

	var units []string
	for _, u := range res.Units {
		units = append(units, u.ID)
		for _, p := range u.Problems {
			if p.Severity == fleet.SeverityError {
				t.Errorf("error: %s", p.String())
			}
		}
	}
	sort.Strings(units)
	want := []string{
		"HelmRelease/apps/flux-appx",
		"HelmRelease/apps/podinfo-backend",
		"HelmRelease/apps/podinfo-frontend",
		"Kustomization/flux-system/apps",
		"Kustomization/flux-system/flux-system",
		"Kustomization/flux-system/infrastructure",
		"Kustomization/team-alpha/team-alpha",
		"Kustomization/team-beta/team-beta",
	}
	if diff := cmp.Diff(want, units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}

	oci := findObject(res, "clusters/production", "Kustomization/flux-system/apps", "OCIRepository/apps/podinfo-backend")
	if oci == nil {
		t.Fatal("OCIRepository/apps/podinfo-backend not rendered")
	}
	// The line of its template, spec.resources[0].
	if oci.File != "apps/production/podinfo.yaml" || oci.Line != 17 || oci.GeneratedBy != "ResourceSet/apps/podinfo" {
		t.Errorf("OCIRepository at %s:%d from %q, want apps/production/podinfo.yaml:17 from ResourceSet/apps/podinfo", oci.File, oci.Line, oci.GeneratedBy)
	}
	if got := valueAt(oci.Object, "spec", "ref", "semver"); got != "6.5.x" {
		t.Errorf("semver = %q", got)
	}
	hr := findObject(res, "clusters/production", "Kustomization/flux-system/apps", "HelmRelease/apps/podinfo-frontend")
	if hr == nil {
		t.Fatal("HelmRelease/apps/podinfo-frontend not rendered")
	}
	if v, ok := hr.Object["spec"].(map[string]any)["values"].(map[string]any)["replicaCount"].(int64); !ok || v != 2 {
		t.Errorf("replicaCount = %#v, want the number 2", hr.Object["spec"].(map[string]any)["values"].(map[string]any)["replicaCount"])
	}
	quota := findObject(res, "clusters/production", "Kustomization/flux-system/infrastructure", "ResourceQuota/team-beta/default")
	if quota == nil || valueAt(quota.Object, "spec", "hard", "pods") != "10" || valueAt(quota.Object, "metadata", "labels", "toolkit.fluxcd.io/tenant") != "managed" {
		t.Errorf("ResourceQuota/team-beta/default = %v", quota)
	}
	cm := findObject(res, "clusters/production", "Kustomization/team-alpha/team-alpha", "ConfigMap/team-alpha/team-alpha-settings")
	if cm == nil || cm.File != "tenants/team-alpha/config.yaml" {
		t.Errorf("the tenant's Kustomization did not build tenants/team-alpha: %v", cm)
	}

	var warned []string
	for _, u := range res.Units {
		for _, p := range u.Problems {
			if p.Rule == fleet.RuleSourceUnavailable {
				warned = append(warned, p.String())
			}
		}
	}
	wantWarned := []string{"apps/production/flux-appx-release.yaml:1: warning: HelmRelease/apps/flux-appx: OCIRepository/apps/flux-appx is not defined in the repository; ResourceSet ResourceSet/apps/flux-appx (apps/production/flux-appx.yaml:17) may produce it from the inputs of ResourceSetInputProvider/flux-appx-release, which are only known in the cluster [source-unavailable]"}
	if diff := cmp.Diff(wantWarned, warned); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestRenderResourceSetSourceRef: a Kustomization whose sourceRef is a
// GitRepository a ResourceSet makes is source-unavailable (defined, not
// this work tree), not source-not-found.
func TestRenderResourceSetSourceRef(t *testing.T) {
	files := withBootstrap(map[string]string{
		"clusters/prod/tenants.yaml": `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: tenants
  namespace: flux-system
spec:
  inputs:
    - tenant: alpha
  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: GitRepository
      metadata:
        name: << inputs.tenant >>
      spec:
        interval: 5m
        url: https://git.example.com/<< inputs.tenant >>/deploy
        ref:
          branch: main
    - apiVersion: kustomize.toolkit.fluxcd.io/v1
      kind: Kustomization
      metadata:
        name: << inputs.tenant >>
      spec:
        interval: 10m
        path: ./
        prune: true
        sourceRef:
          kind: GitRepository
          name: << inputs.tenant >>
`,
	})
	_, res := renderDir(t, testenv.WriteTree(t, files), 2)
	var got []string
	for _, u := range res.Units {
		if u.ID == "Kustomization/flux-system/alpha" {
			for _, p := range u.Problems {
				got = append(got, p.String())
			}
		}
	}
	want := []string{"clusters/prod/tenants.yaml:19: warning: Kustomization/flux-system/alpha: source GitRepository/flux-system/alpha is defined by ResourceSet ResourceSet/flux-system/tenants (clusters/prod/tenants.yaml:10) and is not this work tree; its units are not rendered (map it with --source GitRepository/flux-system/alpha=DIR) [source-unavailable]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestRenderResourceSetsReused: a render reusing the builds of another
// (and the unit cache) gives the ResourceSets' objects once, as a fresh
// render does.
func TestRenderResourceSetsReused(t *testing.T) {
	dir := filepath.Join(fleets, "patterns", "resourceset")
	cache := t.TempDir()
	_, first := renderDirOpts(t, dir, render.Options{KeepBuilds: true, UnitCacheDir: cache})
	_, again := renderDirOpts(t, dir, render.Options{Reuse: first, UnitCacheDir: cache})
	_, fresh := renderDirOpts(t, dir, render.Options{})
	if again.Stats.Built != 0 || again.Stats.Cached+again.Stats.Reused == 0 {
		t.Fatalf("second render built %d, reused %d, cached %d: nothing was reused", again.Stats.Built, again.Stats.Reused, again.Stats.Cached)
	}
	if diff := cmp.Diff(string(dump(t, fresh)), string(dump(t, again))); diff != "" {
		t.Fatalf("reusing builds changed the output (-fresh +reused):\n%s", diff)
	}
}

// TestRenderResourceSetPermute: a ResourceSet with the Permute input
// strategy is not rendered (a warning), and a reference to an object it
// templates is a warning that says so.
func TestRenderResourceSetPermute(t *testing.T) {
	files := artifactFleet(`        - from: "@repo/apps/**"
          to: "@artifact/prod/"
`)
	files["apps/kustomization.yaml"] = "resources:\n  - rset.yaml\n  - release.yaml\n"
	files["apps/rset.yaml"] = `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: charts
  namespace: apps
spec:
  inputStrategy:
    name: Permute
  inputs:
    - version: "1.x"
  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata:
        name: app-chart
        namespace: apps
      spec:
        interval: 1h
        url: oci://ghcr.io/acme/charts/app
        ref:
          semver: << inputs.charts.version | quote >>
`
	files["apps/release.yaml"] = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
  namespace: apps
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-chart
`
	dir := testenv.WriteTree(t, files)
	_, res := renderDir(t, dir, 2)
	var got []string
	for _, u := range res.Units {
		for _, p := range u.Problems {
			got = append(got, p.String())
		}
	}
	sort.Strings(got)
	want := []string{
		"apps/release.yaml:1: warning: HelmRelease/apps/app: OCIRepository/apps/app-chart is not defined in the repository; ResourceSet ResourceSet/apps/charts (apps/rset.yaml:1) may produce it (inputStrategy Permute: not supported offline) [source-unavailable]",
		"apps/rset.yaml:1: warning: ResourceSet/apps/charts: ResourceSet inputStrategy Permute: not supported offline; its objects are not rendered [source-unavailable]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
