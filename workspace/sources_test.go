package workspace

import (
	"context"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

func TestCheckSources(t *testing.T) {
	dir := testenv.WriteTree(t, map[string]string{
		"clusters/prod/apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  path: ./apps
  sourceRef:
    kind: GitRepository
    name: tenant
`,
		"clusters/prod/source.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: manifests
  namespace: flux-system
spec:
  url: oci://ghcr.io/org/manifests
`,
		"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
	})
	_, repo, cleanup, err := Load(context.Background(), dir, Options{MaxFileSize: 1 << 20})
	defer cleanup()
	if err != nil {
		t.Fatal(err)
	}
	rendered := &render.Result{Units: []*render.Unit{{Objects: []*render.Object{{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "substituted", "namespace": "flux-system"},
		"spec":     map[string]any{"sourceRef": map[string]any{"kind": "Bucket", "name": "from-a-variable"}},
	}}}}}}
	tests := []struct {
		name    string
		source  string
		wantErr string // "" accepted
	}{
		{name: "a source a Kustomization reads", source: "GitRepository/flux-system/tenant=apps"},
		{name: "a source object of the repository", source: "OCIRepository/flux-system/manifests=."},
		{name: "a source only the render reads", source: "Bucket/flux-system/from-a-variable=apps"},
		{name: "another namespace", source: "GitRepository/apps/tenant=apps", wantErr: `--source "GitRepository/apps/tenant=apps": no source object GitRepository/apps/tenant in`},
		{name: "a typo", source: "GitRepository/flux-system/tennant=apps", wantErr: "no source object GitRepository/flux-system/tennant"},
		{name: "another kind", source: "OCIRepository/flux-system/tenant=apps", wantErr: "no source object OCIRepository/flux-system/tenant"},
		{name: "a missing directory", source: "GitRepository/flux-system/tenant=app", wantErr: "app is not a directory of"},
		{name: "not a source kind", source: "HelmRepository/flux-system/tenant=apps", wantErr: "HelmRepository is not a source kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pending, err := CheckSources([]string{tc.source}, dir, repo)
			if err == nil {
				err = pending.CheckRendered(rendered)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
	// Without the render, a source only the render reads is refused.
	pending, err := CheckSources([]string{"Bucket/flux-system/from-a-variable=apps"}, dir, repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := pending.Err(); err == nil || !strings.Contains(err.Error(), "Bucket/flux-system/from-a-variable") {
		t.Errorf("Err() = %v", err)
	}
}

func TestOptionsCheck(t *testing.T) {
	tests := []struct {
		o       Options
		wantErr string
	}{
		{o: Options{MaxFileSize: 1}},
		{o: Options{MaxFileSize: 0}, wantErr: "--max-file-size 0: want a positive number of bytes"},
		{o: Options{MaxFileSize: -10}, wantErr: "--max-file-size -10"},
		{o: Options{MaxFileSize: 1, Workers: -1}, wantErr: "--workers -1"},
		{o: Options{MaxFileSize: 1, Sources: []string{"GitRepository/ns/=dir"}}, wantErr: "want KIND/NAMESPACE/NAME=DIR"},
		{o: Options{MaxFileSize: 1, Sources: []string{"GitRepository/ns/name="}}, wantErr: "want KIND/NAMESPACE/NAME=DIR"},
	}
	for _, tc := range tests {
		err := tc.o.Check()
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v: Check() = %v, want %q", tc.o, err, tc.wantErr)
		}
	}
}
