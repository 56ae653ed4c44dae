package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateGitlessSaysWhatItAssumed: validate on a gitless fleet takes
// the clusters' OCIRepository as this work tree and says so in the text
// and JSON summaries; --source maps it instead and nothing is assumed.
func TestValidateGitlessSaysWhatItAssumed(t *testing.T) {
	fleet := filepath.Join("..", "..", "testdata", "fleets", "patterns", "gitless")
	const ref = "OCIRepository/flux-system/flux-system"
	want := "assumed: OCIRepository flux-system/flux-system (oci://ghcr.io/example-org/fleet-manifests tag prod) taken as this work tree: its path ./clusters/prod exists here; --source " + ref + "=DIR overrides\n"

	dir := t.TempDir()
	report := filepath.Join(dir, "r.json")
	out, stderr, code := run(t, "validate", fleet, "-o", "text", "-o", "json="+report)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	if !strings.Contains(out, want) {
		t.Errorf("text output has no line %q:\n%s", want, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Summary struct {
			Assumed []string `json:"assumed"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(data, &js); err != nil {
		t.Fatal(err)
	}
	if len(js.Summary.Assumed) != 2 || js.Summary.Assumed[0] != strings.TrimSuffix(strings.TrimPrefix(want, "assumed: "), "\n") {
		t.Errorf("json summary.assumed = %q", js.Summary.Assumed)
	}

	out, stderr, code = run(t, "validate", fleet, "--source", ref+"=.", "-o", "text", "-o", "json="+report)
	if code != 0 {
		t.Fatalf("with --source: exit %d: %s\n%s", code, stderr, out)
	}
	if strings.Contains(out, "assumed:") {
		t.Errorf("with --source, the text output still assumes:\n%s", out)
	}
	if data, err := os.ReadFile(report); err != nil || strings.Contains(string(data), `"assumed"`) {
		t.Errorf("with --source, the json report still assumes (%v):\n%s", err, data)
	}
}
