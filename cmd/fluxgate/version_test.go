package main

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/validate/catalog"
)

func TestVersionJSON(t *testing.T) {
	out, stderr, code := run(t, "version", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var info versionInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if d := cmp.Diff(catalog.KubernetesVersions(), info.Schemas); d != "" || len(info.Schemas) == 0 {
		t.Errorf("kubernetesSchemas (-want +got):\n%s", d)
	}
	if info.GoVersion != runtime.Version() || info.Version == "" || info.Commit == "" || info.Date == "" {
		t.Errorf("version %q, commit %q, buildDate %q, goVersion %q: want all set, goVersion %s", info.Version, info.Commit, info.Date, info.GoVersion, runtime.Version())
	}
	if len(info.Flux["kustomize.toolkit.fluxcd.io/Kustomization"]) == 0 {
		t.Errorf("fluxApis lacks Kustomization: %v", info.Flux)
	}
	text, _, _ := run(t, "version")
	if !strings.Contains(text, "kubernetes schemas: "+strings.Join(info.Schemas, ", ")) {
		t.Errorf("text output lacks the schema versions:\n%s", text)
	}
}

// TestUnknownKubernetesVersion: a version without schemas would check no
// Kubernetes kind; it is refused with exit 2 naming what is known.
func TestUnknownKubernetesVersion(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "fleets", "fleet-infra")
	_, stderr, code := run(t, "validate", dir, "--kubernetes-version", "1.20")
	if code != 2 || !strings.Contains(stderr, "kubernetes version 1.20: no embedded schemas; known: "+strings.Join(catalog.KubernetesVersions(), ", ")) {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	// Refused before anything is read: a directory that does not exist
	// is not what the error names.
	_, stderr, code = run(t, "validate", filepath.Join(t.TempDir(), "missing"), "--kubernetes-version", "1.20")
	if code != 2 || !strings.Contains(stderr, "kubernetes version 1.20: no embedded schemas") {
		t.Fatalf("missing directory: exit %d:\n%s", code, stderr)
	}
}
