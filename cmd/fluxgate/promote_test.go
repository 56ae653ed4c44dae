package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runPromoteCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(&stdout, &stderr)
	root.SetArgs(append([]string{"promote"}, args...))
	root.SetOut(&stderr)
	root.SetErr(&stderr)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), exitStatus(err)
}

// TestPromoteFleetInfra: --from staging --to production plans the apps
// overlay's image tags without configuration and exits 0.
func TestPromoteFleetInfra(t *testing.T) {
	out, errOut, code := runPromoteCmd(t, "--dir", "../../testdata/fleets/fleet-infra", "--from", "staging", "--to", "production", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "  apps/production/kustomization.yaml:13: images[0].newTag: 1.4.2 → 1.5.0-rc.1 (image ghcr.io/example/backend:1.5.0-rc.1 at apps/staging/kustomization.yaml:12)\n"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// TestPromoteGuards: a downgrade is refused with exit 1 unless
// --allow-downgrade; an unhealthy test report refuses; without --dry-run
// the run says the pull request flow is not there (exit 2).
func TestPromoteGuards(t *testing.T) {
	charts := "../../promote/testdata/charts/original"
	_, errOut, code := runPromoteCmd(t, "--dir", charts, "--dry-run")
	if code != 1 || !strings.Contains(errOut, "downgrades production/releases.yaml:33 spec.chart.spec.version from 3.3.1 to 3.2.0") {
		t.Errorf("downgrade: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runPromoteCmd(t, "--dir", charts, "--dry-run", "--allow-downgrade"); code != 0 {
		t.Errorf("--allow-downgrade: exit %d: %s", code, errOut)
	}
	report := filepath.Join(t.TempDir(), "test.json")
	if err := os.WriteFile(report, []byte(`{"healthy": false, "path": "clusters/staging", "units": [{"kind": "Kustomization", "namespace": "flux-system", "name": "apps", "status": "TimedOut", "message": "x"}, {"kind": "Kustomization", "namespace": "flux-system", "name": "infra", "status": "Ready"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runPromoteCmd(t, "--dir", charts, "--dry-run", "--allow-downgrade", "--require-healthy", report)
	if code != 1 || !strings.Contains(errOut, "clusters/staging is not healthy: Kustomization/flux-system/apps TimedOut") || strings.Contains(errOut, "infra") {
		t.Errorf("unhealthy: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runPromoteCmd(t, "--dir", charts); code != 2 || !strings.Contains(errOut, "only --dry-run") {
		t.Errorf("without --dry-run: exit %d: %s", code, errOut)
	}
}
