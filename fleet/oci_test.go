package fleet_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fluxgate/fluxgate/fleet"
)

// fluxInstance is a Flux Operator FluxInstance syncing from an OCI artifact.
func fluxInstance(url, ref, path string) string {
	return "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n" +
		"  distribution:\n    version: \"2.x\"\n    registry: ghcr.io/fluxcd\n" +
		"  sync:\n    kind: OCIRepository\n    url: " + url + "\n    ref: " + ref + "\n    path: " + path + "\n"
}

// ociRepository is an OCIRepository following ref ("tag: x", "digest: y").
func ociRepository(name, url, ref string) string {
	return "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: " + name + "\n  namespace: flux-system\n" +
		"spec:\n  interval: 1m\n  url: " + url + "\n  ref:\n    " + ref + "\n"
}

func TestGitlessSyncSource(t *testing.T) {
	const (
		ref  = "OCIRepository/flux-system/flux-system"
		url  = "oci://ghcr.io/example-org/fleet-manifests"
		apps = "apps/prod/cm.yaml"
		cm   = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\n"
	)
	appsKS := kustomization("apps", "flux-system", "./apps/prod", "OCIRepository", "flux-system")
	isFleet := func(u string) bool { return u == "https://github.com/example-org/fleet" }
	tests := []struct {
		name    string
		files   map[string]string
		opts    fleet.Options
		wantDir string // "" when the source is not this work tree
		assumed []string
		// problem is the rule ResolveSource reports when not resolved.
		problem string
		// entries, when set, are the entry points.
		entries []string
	}{
		{
			name: "FluxInstance sync whose path exists here",
			files: map[string]string{
				"clusters/prod/flux-system/flux-instance.yaml": fluxInstance(url, "prod", "clusters/prod"),
				"clusters/prod/apps.yaml":                      appsKS,
				apps:                                           cm,
			},
			wantDir: ".",
			assumed: []string{"OCIRepository flux-system/flux-system (" + url + " tag prod) taken as this work tree: its path ./clusters/prod exists here; --source " + ref + "=DIR overrides"},
			entries: []string{"clusters/prod"},
		},
		{
			name: "OCIRepository and sync Kustomization written in the cluster directory",
			files: map[string]string{
				"clusters/staging/flux-system/gotk-sync.yaml": ociRepository("flux-system", url, "tag: staging") + "---\n" +
					kustomization("flux-system", "flux-system", "./clusters/staging", "OCIRepository", "flux-system"),
				"clusters/staging/apps.yaml": appsKS,
				apps:                         cm,
			},
			wantDir: ".",
			assumed: []string{"OCIRepository flux-system/flux-system (" + url + " tag staging) taken as this work tree: its path ./clusters/staging exists here; --source " + ref + "=DIR overrides"},
			entries: []string{"clusters/staging"},
		},
		{
			name: "the URL names this repository's image, path at the artifact root",
			files: map[string]string{
				"flux-instance.yaml": fluxInstance(url, "latest", "./"),
				"apps.yaml":          appsKS,
				apps:                 cm,
			},
			opts:    fleet.Options{IsLocalURL: isFleet},
			wantDir: ".",
			assumed: []string{"OCIRepository flux-system/flux-system (" + url + " tag latest) taken as this work tree: its URL " + url + " is this repository's image; --source " + ref + "=DIR overrides"},
		},
		{
			name: "another repository's image at the artifact root",
			files: map[string]string{
				"flux-instance.yaml": fluxInstance("oci://ghcr.io/other-org/platform", "latest", "./"),
				"apps.yaml":          appsKS,
				apps:                 cm,
			},
			opts:    fleet.Options{IsLocalURL: isFleet},
			problem: fleet.RuleSourceUnavailable,
		},
		{
			name: "a digest is one artifact, not this work tree",
			files: map[string]string{
				"clusters/staging/flux-system/gotk-sync.yaml": ociRepository("flux-system", url, "digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") + "---\n" +
					kustomization("flux-system", "flux-system", "./clusters/staging", "OCIRepository", "flux-system"),
				"clusters/staging/apps.yaml": appsKS,
				apps:                         cm,
			},
			problem: fleet.RuleSourceUnavailable,
		},
		{
			// An application's artifact whose path happens to exist here
			// is not a cluster's sync.
			name: "an app's OCIRepository",
			files: map[string]string{
				"clusters/prod/podinfo.yaml": ociRepository("flux-system", "oci://ghcr.io/stefanprodan/manifests/podinfo", "tag: latest") + "---\n" +
					kustomization("podinfo", "flux-system", "./kustomize", "OCIRepository", "flux-system"),
				"kustomize/cm.yaml": cm,
			},
			problem: fleet.RuleSourceUnavailable,
		},
		{
			name: "--source overrides the assumption",
			files: map[string]string{
				"clusters/prod/flux-system/flux-instance.yaml": fluxInstance(url, "prod", "clusters/prod"),
				"clusters/prod/apps.yaml":                      appsKS,
				apps:                                           cm,
				"artifact/apps/prod/cm.yaml":                   cm,
			},
			opts:    fleet.Options{Sources: map[string]string{ref: "artifact"}},
			wantDir: "artifact",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.files, tt.opts)
			dir, ok := r.SourceDir("OCIRepository", "flux-system", "flux-system")
			if tt.wantDir == "" {
				if ok {
					t.Errorf("SourceDir = %q, want the source not taken as this work tree", dir)
				}
			} else if !ok || dir != tt.wantDir {
				t.Errorf("SourceDir = %q, %v; want %q", dir, ok, tt.wantDir)
			}
			if diff := cmp.Diff(tt.assumed, r.Assumed, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Assumed (-want +got):\n%s", diff)
			}
			res := r.ResolveSource("OCIRepository", "flux-system", "flux-system", &fleet.Document{File: "apps.yaml", Line: 1})
			switch {
			case tt.problem == "" && res.Problem != nil:
				t.Errorf("ResolveSource: %v", res.Problem)
			case tt.problem != "" && (res.Problem == nil || res.Problem.Rule != tt.problem):
				t.Errorf("ResolveSource problem = %+v, want rule %s", res.Problem, tt.problem)
			case tt.problem != "" && !strings.Contains(res.Problem.Message, "--source "+ref+"=DIR"):
				t.Errorf("ResolveSource problem %q does not say how to map the source", res.Problem.Message)
			}
			if tt.entries != nil {
				if diff := cmp.Diff(tt.entries, r.EntryPoints()); diff != "" {
					t.Errorf("entry points (-want +got):\n%s", diff)
				}
			}
		})
	}
}
