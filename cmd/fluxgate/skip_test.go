package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateSkipKinds: --skip-kinds leaves the named kinds out of the
// schema check (a kind, or a glob over apiVersion/kind), counts them in
// the summary, and refuses a bad pattern.
func TestValidateSkipKinds(t *testing.T) {
	dir := filepath.Join(fleets, "patterns", "plain-manifests")
	out, stderr, code := run(t, "validate", dir, "--skip-kinds", "CronJob,monitoring.coreos.com/*/*")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if strings.Contains(out, "schema-invalid") || strings.Contains(out, "schema-missing") {
		t.Errorf("skipped kinds were checked:\n%s", out)
	}
	want := "not schema-checked (--skip-kinds): batch/v1/CronJob (1), monitoring.coreos.com/v1/PrometheusRule (1)"
	if !strings.Contains(out, want) {
		t.Errorf("stdout lacks %q:\n%s", want, out)
	}

	js, stderr, code := run(t, "validate", dir, "--skip-kinds", "batch/v1/CronJob", "-o", "json")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	var rep struct {
		Summary struct {
			Unchecked    map[string]int `json:"unchecked"`
			SkippedKinds map[string]int `json:"skippedKinds"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Summary.Unchecked) != 1 || rep.Summary.Unchecked["batch/v1/CronJob"] != 1 {
		t.Errorf("summary %+v", rep.Summary)
	}

	_, stderr, code = run(t, "validate", dir, "--skip-kinds", "[")
	if code != 2 || !strings.Contains(stderr, `--skip-kinds "["`) {
		t.Errorf("bad pattern: exit %d, stderr %q", code, stderr)
	}
}

// TestValidateSkipRules: --skip-rules drops every finding of the named
// rules (the CronJob's schema error; the fleet has no other error), and an unknown rule is refused with the known ones.
func TestValidateSkipRules(t *testing.T) {
	dir := filepath.Join(fleets, "patterns", "plain-manifests")
	out, stderr, code := run(t, "validate", dir, "--skip-rules", "schema-invalid")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if strings.Contains(out, "[schema-invalid]") || !strings.Contains(out, "0 errors") {
		t.Errorf("schema-invalid reported:\n%s", out)
	}
	_, stderr, code = run(t, "validate", dir, "--skip-rules", "no-such-rule")
	if code != 2 || !strings.Contains(stderr, `unknown rule "no-such-rule"`) || !strings.Contains(stderr, "schema-invalid") {
		t.Errorf("unknown rule: exit %d, stderr %q", code, stderr)
	}
}
