package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

// TestConfigPrecedence: a flag given on the command line wins over
// .fluxgate.yaml's defaults, which win over the flag's default; rule
// severities and skipKinds from the file apply; unknown flags are refused.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join(fleets, "patterns", "plain-manifests"), dir)
	write := func(cfg string) {
		if err := os.WriteFile(filepath.Join(dir, ".fluxgate.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Without a file: the CronJob's schema-invalid error fails the run.
	if _, _, code := run(t, "validate", dir); code != 1 {
		t.Fatalf("no config: exit %d, want 1", code)
	}
	write("defaults:\n  validate:\n    fail-on: none\n    output: [pretty]\n")
	out, stderr, code := run(t, "validate", dir)
	if code != 0 || !strings.Contains(out, "  17 error   schema-invalid") {
		t.Errorf("config default: exit %d, want 0 with the pretty form\n%s%s", code, out, stderr)
	}
	if _, _, code := run(t, "validate", dir, "--fail-on", "error"); code != 1 {
		t.Errorf("flag over config: exit %d, want 1", code)
	}
	write("severity:\n  schema-invalid: warning\n  schema-missing: ignore\n")
	out, _, code = run(t, "validate", dir)
	if code != 0 || !strings.Contains(out, ": warning: CronJob/shop/db-backup") || strings.Contains(out, "schema-missing") {
		t.Errorf("severity: exit %d\n%s", code, out)
	}
	write("skipKinds: [CronJob]\nskipRules: [schema-missing]\n")
	out, _, code = run(t, "validate", dir)
	if code != 0 || !strings.Contains(out, "not schema-checked (--skip-kinds): batch/v1/CronJob (1)") || strings.Contains(out, "[schema-missing]") {
		t.Errorf("skipKinds/skipRules: exit %d\n%s", code, out)
	}
	for cfg, want := range map[string]string{
		"defaults:\n  validate:\n    no-such-flag: 1\n": "defaults.validate.no-such-flag: validate has no flag --no-such-flag",
		"defaults:\n  test:\n    x: 1\n":                "defaults.test: only validate, render and diff take defaults",
		"severity:\n  schema-invalid: fatal\n":          `severity of schema-invalid: "fatal" is not error, warning, info or ignore`,
	} {
		write(cfg)
		if _, stderr, code := run(t, "validate", dir); code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("%q: exit %d, stderr %q, want 2 with %q", cfg, code, stderr, want)
		}
	}
}
