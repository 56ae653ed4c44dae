package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/report"
)

const fleets = "../../testdata/fleets"

// run executes the CLI in-process and returns stdout, stderr and the exit
// code main would use.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb)
	if len(args) > 0 && (args[0] == "render" || args[0] == "validate") {
		// Tests never reach the network: remote charts come from the
		// (empty) cache of each test, unless the test names its own.
		args = append(args, "--offline")
		if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--cache-dir") }) {
			args = append(args, "--cache-dir", t.TempDir())
		}
	}
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	code := exitStatus(err)
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

func TestRenderCommandExampleFleet(t *testing.T) {
	out, stderr, code := run(t, "render", filepath.Join(fleets, "fleet-infra"), "--path", "clusters/production")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"# clusters/production Kustomization/flux-system/apps (clusters/production/apps.yaml:1) path=apps/production",
		"# clusters/production Kustomization/team-a/team-a (apps/production/team-a.yaml:16) path=teams/team-a",
		"CLUSTER_NAME: production-eu1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "clusters/staging") {
		t.Errorf("--path clusters/production rendered staging")
	}
	if strings.Contains(out, "config.kubernetes.io/origin") {
		t.Errorf("origin annotations leak into the output")
	}
}

func TestRenderCommandExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "clean fleet", args: []string{"render", filepath.Join(fleets, "fleet-infra")}, wantCode: 0},
		{name: "warning only", args: []string{"render", filepath.Join(fleets, "broken", "unavailable-source")}, wantCode: 0,
			wantErr: "clusters/test/other-team.yaml:12: warning: Kustomization/flux-system/other-team-apps: source GitRepository/flux-system/other-team"},
		{name: "missing path", args: []string{"render", filepath.Join(fleets, "broken", "missing-path")}, wantCode: 1,
			wantErr: "clusters/test/broken.yaml:1: error: Kustomization/flux-system/broken: spec.path \"./apps/does-not-exist\" does not exist"},
		{name: "kustomize error", args: []string{"render", filepath.Join(fleets, "broken", "kustomize-error")}, wantCode: 1,
			wantErr: "missing.yaml"},
		{name: "invalid yaml", args: []string{"render", filepath.Join(fleets, "broken", "invalid-yaml")}, wantCode: 1,
			wantErr: "apps/broken/configmap.yaml:7: error: invalid YAML: line 7: mapping values are not allowed in this context [yaml-invalid]"},
		{name: "bad output flag", args: []string{"render", "-o", "toml", filepath.Join(fleets, "fleet-infra")}, wantCode: 2,
			wantErr: `--output "toml"`},
		{name: "missing directory", args: []string{"render", filepath.Join(fleets, "does-not-exist")}, wantCode: 2},
		{name: "bad --path", args: []string{"render", filepath.Join(fleets, "fleet-infra"), "--path", "clusters/nope"}, wantCode: 2,
			wantErr: "--path clusters/nope: not a directory"},
		{name: "bad --source", args: []string{"render", filepath.Join(fleets, "fleet-infra"), "--source", "nonsense"}, wantCode: 2,
			wantErr: "want KIND/NAMESPACE/NAME=DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if tt.wantErr != "" && !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr)
			}
		})
	}
}

func TestRenderCommandSourceFlagMapsRemoteSource(t *testing.T) {
	dir := filepath.Join(fleets, "broken", "unavailable-source")
	_, stderr, _ := run(t, "render", dir)
	if !strings.Contains(stderr, "source-unavailable") {
		t.Fatalf("expected source-unavailable without --source, got:\n%s", stderr)
	}
	// Mapped to a directory that lacks the path, the unit is built and
	// fails on the path instead of being skipped.
	_, stderr, code := run(t, "render", dir, "--source", "GitRepository/flux-system/other-team=apps")
	if code != 1 || !strings.Contains(stderr, "path-not-found") {
		t.Fatalf("exit %d, want 1 with path-not-found:\n%s", code, stderr)
	}
}

func TestRenderCommandJSON(t *testing.T) {
	out, stderr, code := run(t, "render", "-o", "json", filepath.Join(fleets, "fleet-infra"), "--path", "clusters/staging")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Clusters []string `json:"clusters"`
		Units    []struct {
			ID      string `json:"id"`
			Hash    string `json:"hash"`
			Objects []struct {
				File   string         `json:"file"`
				Line   int            `json:"line"`
				Object map[string]any `json:"object"`
			} `json:"objects"`
		} `json:"units"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(doc.Clusters) != 1 || doc.Clusters[0] != "clusters/staging" {
		t.Errorf("clusters = %v", doc.Clusters)
	}
	if len(doc.Units) != 9 { // 6 Kustomizations, 3 HelmReleases
		t.Errorf("%d units, want 9", len(doc.Units))
	}
	for _, u := range doc.Units {
		if len(u.Hash) != 64 {
			t.Errorf("%s: hash %q", u.ID, u.Hash)
		}
		for _, o := range u.Objects {
			if o.File == "" || o.Line < 1 || o.Object["kind"] == nil {
				t.Errorf("%s: object without origin: %s:%d", u.ID, o.File, o.Line)
			}
		}
	}
}

func TestRenderCommandOutputDir(t *testing.T) {
	out := t.TempDir()
	if _, stderr, code := run(t, "render", filepath.Join(fleets, "fleet-infra"), "--output-dir", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := filepath.Join(out, "clusters", "production", "kustomization-flux-system-apps.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), report.RenderHeader) {
		t.Errorf("%s lacks the header", p)
	}
	// A re-run overwrites its own files ...
	if _, stderr, code := run(t, "render", filepath.Join(fleets, "fleet-infra"), "--output-dir", out); code != 0 {
		t.Fatalf("re-run exit %d: %s", code, stderr)
	}
	// ... but never a file it did not write.
	if err := os.WriteFile(p, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "render", filepath.Join(fleets, "fleet-infra"), "--output-dir", out)
	if code != 2 || !strings.Contains(stderr, "refusing to overwrite") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if data, _ := os.ReadFile(p); string(data) != "mine\n" {
		t.Errorf("user file overwritten: %q", data)
	}
}

func TestRenderCommandMasksSecrets(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "app", "kustomization.yaml"), []byte("resources:\n- secret.yaml\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "app", "secret.yaml"), []byte(
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: canary-ZX81\ndata:\n  token: Y2FuYXJ5LVpYODE=\n"), 0o644))
	for _, format := range []string{"yaml", "json"} {
		out, stderr, _ := run(t, "render", "-o", format, dir)
		if strings.Contains(out+stderr, "canary-ZX81") || strings.Contains(out+stderr, "Y2FuYXJ5LVpYODE=") {
			t.Errorf("%s output shows the secret value:\n%s", format, out)
		}
		if !strings.Contains(out, secretMask) {
			t.Errorf("%s output lacks the mask:\n%s", format, out)
		}
	}
	// --show-secrets counts only on a terminal: a CI log never shows them.
	out, _, _ := run(t, "render", "--show-secrets", dir)
	if strings.Contains(out, "canary-ZX81") {
		t.Errorf("--show-secrets revealed the value in a non-terminal output")
	}
}

// TestRenderCommandLeavesSymlinksOut: a link, even one leading out of the
// repository, is left out as source-controller leaves it out of the
// artifact: a warning naming it, and the build that lists it fails.
func TestRenderCommandLeavesSymlinksOut(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaked\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app", "kustomization.yaml"), []byte("resources:\n- cm.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "cm.yaml"), filepath.Join(dir, "app", "cm.yaml")); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, "render", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Contains(out, "leaked") {
		t.Errorf("object from outside the repository rendered:\n%s", out)
	}
	for _, want := range []string{"app/cm.yaml: warning:", "[symlink-ignored]", "app/kustomization.yaml: error:", "[render-failed]"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	out, _, code := run(t, "version")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"fluxgate dev", "kustomize.toolkit.fluxcd.io Kustomization: v1, v1beta2, v1beta1", "helm.toolkit.fluxcd.io HelmRelease: v2, v2beta2, v2beta1"} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}
