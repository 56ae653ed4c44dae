package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

// TestNothingChecked: a run that checked nothing exits 2 saying why and
// what to point fluxgate at; findings that reach --fail-on come first.
func TestNothingChecked(t *testing.T) {
	crs := "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: a\n---\napiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: b\n"
	trees := map[string]map[string]string{
		"empty":      {},
		"no objects": {"values.yaml": "replicaCount: 2\n", "docs/mkdocs.yml": "site_name: fleet\n"},
		"only crs":   {"crs.yaml": crs},
		"empty overlay": {
			"kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
		},
		"plain": {"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"},
	}
	dirs := map[string]string{}
	for name, files := range trees {
		dirs[name] = testenv.WriteTree(t, files)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"validate: an empty directory", []string{"validate", dirs["empty"]}, 2,
			"nothing checked in " + dirs["empty"] + ": no Flux Kustomization, kustomization.yaml or Kubernetes manifest found (no YAML file); point fluxgate at a cluster entry point such as clusters/production"},
		{"render: an empty directory", []string{"render", dirs["empty"]}, 2, "nothing rendered in " + dirs["empty"] + ": no Flux Kustomization"},
		{"validate: YAML that is no object", []string{"validate", dirs["no objects"]}, 2, "(2 YAML file(s), none with apiVersion and kind)"},
		{"validate: --fail-on none does not make it a pass", []string{"validate", dirs["no objects"], "--fail-on", "none"}, 2, "nothing checked"},
		{"validate: every object skipped", []string{"validate", dirs["only crs"]}, 2,
			"nothing checked in " + dirs["only crs"] + ": all 2 objects are of kinds without a schema (example.com/v1/Gadget, example.com/v1/Widget); commit their CustomResourceDefinitions or add --schema-location"},
		{"validate --strict: the schema-missing errors come first", []string{"validate", dirs["only crs"], "--strict"}, 1, "problem(s) at or above"},
		{"validate: units without objects", []string{"validate", dirs["empty overlay"]}, 2, "its 1 unit(s) render no object"},
		{"validate: plain manifests", []string{"validate", dirs["plain"]}, 0, ""},
		{"validate: an empty shard of plain manifests", []string{"validate", dirs["plain"], "--shard", "2/2"}, 0, ""},
		{"render: plain manifests", []string{"render", dirs["plain"]}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := run(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, tt.want, out, stderr)
			}
		})
	}
}

// TestValidatePlainManifests: a directory of plain manifests is checked
// file by file, findings at their file and line.
func TestValidatePlainManifests(t *testing.T) {
	dir := filepath.Join(fleets, "patterns", "plain-manifests")
	out, stderr, code := run(t, "validate", dir)
	if code != 1 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"plain-manifests/jobs/backup.yaml:17:1: error: CronJob/shop/db-backup: /spec/jobTemplate/spec/template/spec/containers/0: additional properties 'imagePullPolcy' not allowed [schema-invalid]",
		"1 error, 0 warnings in 2 units (8 objects)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "charts/") || strings.Contains(out, "tools/") {
		t.Errorf("chart or tool files checked:\n%s", out)
	}
}
